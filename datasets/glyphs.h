// The glyphs task (docs/data.md): images of short strings, with their text as the target. The
// strings are drawn as the copy task draws its sequences (SyntheticTask: symbol k is the k-th
// character of the bitmap font's alphabet "0-9A-Z", lengths uniform in [min_len, max_len], a
// held-out set of distinct strings from a fixed seed that training never draws), and each is
// rendered into a height x width image with the font of bitmap_font.h and seeded random changes:
//   scale    font dots of (1.4 .. 1.7) * height / 16 image pixels (characters 10 to 12 pixels
//            high in a 16-pixel image)
//   stroke   each dot inked as a square of 0.75 .. 1.3 dots (thin and dotted to bold)
//   spacing  0.6 .. 1.5 dots between characters
//   jitter   each character moved by up to 0.4 dots across and 0.6 dots up or down
//   place    the string starts 1 .. 5 pixels from the left edge (as in a cropped line of text),
//            anywhere in height (one pixel of margin)
//   contrast ink 0.65 .. 1, background 0 .. 0.2, Gaussian noise of sigma 0.02 .. 0.12 per pixel
// A string too wide for the image at its drawn scale is drawn smaller. Pixels are the coverage of
// each pixel by ink, computed on a 4 x 4 grid of samples per pixel. Held-out images are rendered
// from a generator of their own, so no held-out image (nor its text) occurs in training.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "datasets/image.h"
#include "datasets/task_stream.h"
#include "datasets/vocab.h"

namespace sg {

struct GlyphOptions {
  int64_t symbols = 36;              // --symbols: the first N characters of "0-9A-Z"
  int64_t min_len = 1, max_len = 6;  // --min-len, --max-len: characters per image
  int64_t height = 16, width = 64;   // the image size in pixels
};

class GlyphsTask {
 public:
  // Throws std::invalid_argument naming --symbols, --min-len, --max-len, --image-height or
  // --image-width when they are invalid (an image too small for the longest string included).
  explicit GlyphsTask(const GlyphOptions& opt);

  const GlyphOptions& options() const { return opt_; }
  // The characters as tokens, symbol k at id 4 + k (the target vocabulary; tokenized by
  // character).
  const Vocab& vocab() const { return vocab_; }
  // The strings, as token ids, drawn like the copy task's sequences (source = target).
  const std::shared_ptr<const Task>& texts() const { return texts_; }
  // The string of token ids (real tokens of vocab()).
  std::string text_of(const std::vector<int64_t>& ids) const;

  // Renders the string of `ids` with random changes drawn from g.
  Image render(const std::vector<int64_t>& ids, Generator& g) const;
  // n held-out examples: the copy task's held-out strings for `seed`, rendered from a generator
  // seeded from `seed`. A pure function of (n, seed).
  std::vector<ImageExample> held_out(int64_t n, uint64_t seed) const;

 private:
  GlyphOptions opt_;
  Vocab vocab_;
  std::shared_ptr<const Task> texts_;
};

// An endless, checkpointable stream of training images, as TaskStream is for text tasks: one
// generator draws each string and then its rendering, so its state is the whole data position.
class GlyphStream {
 public:
  GlyphStream(std::shared_ptr<const GlyphsTask> task, int64_t n_held_out, uint64_t seed,
              uint64_t held_out_seed = TaskStream::kHeldOutSeed);
  ImageExample next();
  const std::vector<ImageExample>& held_out() const { return held_out_; }
  const GlyphsTask& task() const { return *task_; }
  Generator& generator() { return texts_.generator(); }

 private:
  std::shared_ptr<const GlyphsTask> task_;
  TaskStream texts_;
  std::vector<ImageExample> held_out_;
};

}  // namespace sg
