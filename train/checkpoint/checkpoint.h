// HDF5 checkpoints (docs/checkpoint.md): everything an exact resume needs in one self-describing
// file.
//   root attributes   format, format_version, step, epoch, seqgrad_version
//   /model/<name>     float32 parameters, PyTorch state_dict names (dots inside the name)
//   /optimizer        the optimizer's type, hyper-parameters, step and per-parameter state
//   /scheduler        the learning-rate schedule (optim/schedule.h save_schedule: kind, base_lr,
//                     warmup, d_model, total_steps) plus step (updates done) and last_lr
//   /rng/<name>       generator states (uint64 x 4): "dropout", and "data" (the synthetic
//                     stream's generator, or the TSV batcher's generator before this epoch's
//                     shuffle)
//   /data             the data position as attributes: epoch and batch (TSV), and the
//                     validation bookkeeping best_score, patience_score,
//                     evals_without_improvement (files before --best-metric: best_valid_loss,
//                     patience_loss); and the training data's lengths, the
//                     default decode limit's basis: max_tgt_len, and the largest target/source
//                     length ratio as max_len_ratio_num / max_len_ratio_den (all int64;
//                     absent in checkpoints written before they existed); TSV runs: the
//                     training file's train_bytes and train_hash (FileFingerprint, datasets/tsv.h),
//                     with a --valid file also its valid_bytes and valid_hash
//   /config           attribute json: the resolved configuration
//   /vocab/src, /vocab/tgt   UTF-8 token strings in id order
//   /vocab/spm        with --tokenize spm: the serialized SentencePiece model (uint8 bytes)
//   /ema/<name>       with --ema: the moving average of each parameter (optim/ema.h), named and
//                     shaped as /model; attribute decay (float64). Optional: readers that do not
//                     know it ignore it, so it needs no new format_version.
// Saves are atomic: a temporary file in the same folder is written, flushed, fsynced, closed and
// renamed over the target, and the folder is fsynced, so a kill at any moment leaves the previous
// checkpoint loadable. No file is held open between saves.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "datasets/example.h"
#include "optim/schedule.h"
#include "train/config/config.h"

namespace sg {

class H5File;
class Ema;
class Module;
class Optimizer;

constexpr const char* kCheckpointFormat = "seqgrad-checkpoint";
// Version 2: every byte checksummed (the HDF5 1.10 file format, whose superblock and object
// headers carry checksums; dataset values in Fletcher32-checksummed chunks, or, for scalars, in
// the object header) and strings fixed-length (their bytes inside the checksummed parts; h5py
// reads them as bytes). Version 1, the same names and values with variable-length strings and no
// checksums, still loads.
constexpr int64_t kCheckpointVersion = 2;

// The training loop's own state, beyond model and optimizer.
struct TrainState {
  int64_t step = 0, epoch = 0;
  std::map<std::string, Generator::State> rngs;  // e.g. "dropout", "data"
  std::map<std::string, int64_t> data;           // data position scalars (epoch, batch, ...)
  std::optional<Schedule> schedule;              // absent in checkpoints without /scheduler
  // The best value of --best-metric of any evaluation so far (best.h5 holds that model); NaN
  // before the first evaluation.
  double best_score = std::numeric_limits<double>::quiet_NaN();
  // Early stopping counts only the evaluations every --eval-every steps (not the extra one at the
  // end of a run), so a resumed run stops exactly where a straight run would.
  double patience_score = std::numeric_limits<double>::quiet_NaN();
  int64_t evals_without_improvement = 0;
  // Longest target and largest target/source length ratio of the training data (unknown: not
  // saved, and read back as unknown).
  LengthStats lengths;
};

struct CheckpointContents {
  Config config;
  std::vector<std::string> src_vocab, tgt_vocab;
  std::string spm_model;  // /vocab/spm, empty without SentencePiece
  TrainState state;
  std::string optimizer_type;
  int64_t format_version = 0;
  double ema_decay = 0;  // the decay of /ema; 0 when the file has no /ema
};

// Writes path atomically (see atomic_write). `optimizer` may be null (a model-only file);
// `spm_model` empty writes no /vocab/spm; `ema` null writes no /ema (its params() must be the
// model's).
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Config& config, const std::vector<std::string>& src_vocab,
                     const std::vector<std::string>& tgt_vocab, const TrainState& state,
                     const std::string& spm_model = {}, const Ema* ema = nullptr);

// Reads and validates the metadata (format, version, config, vocabularies, train state). Every
// problem is one std::runtime_error line naming the file.
CheckpointContents read_checkpoint(const std::string& path);
// Copies /model (or another group of the same layout: "ema") into the model's parameters: every
// parameter must be present with its shape.
void load_model(const std::string& path, const Module& model, const std::string& group = "model");
void load_optimizer(const std::string& path, Optimizer& optimizer);

// The step N of a numbered checkpoint's file name "ckpt-N.h5"; -1 for any other name.
int64_t checkpoint_step_of(const std::string& file_name);

// Writes a file through a temporary in the same folder and renames it over `path` (fsyncing the
// file and the folder when `durable`; without, readers still see the old file or the new one,
// never a mix, but a crash of the machine may lose the write). The temporary is removed if
// `write` throws.
void atomic_write(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                  bool durable = true);
// atomic_write of a file that holds `bytes`.
void atomic_write_file(const std::string& path, const std::string& bytes, bool durable = true);
// fsyncs a folder, so that renames and removals in it are durable. Throws naming it.
void sync_folder(const std::string& dir);
// Creates the folder `dir` and any missing folders above it (nothing when it exists; nothing for
// ""). Throws std::runtime_error "cannot create the folder 'DIR': WHY", also when a file stands
// where a folder should be.
void create_folders(const std::string& dir);
// create_folders of the folder that will hold the file `path` (none for a bare file name).
void create_parent_folders(const std::string& path);
// Removes the temporaries (".<name>.h5.tmp-<pid>", ".<name>.html.tmp-<pid>") that a killed save
// left in `dir`, except those of another process still alive (a concurrent run writing into the
// same folder).
void remove_stale_temporaries(const std::string& dir);

}  // namespace sg
