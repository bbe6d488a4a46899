// seqgrad eval --checkpoint P [--data FILE]: loss, perplexity, token accuracy, exact match, BLEU
// and chrF of a checkpoint on a TSV file, or on its own task's held-out data (a progress bar on
// stderr while it runs, when that is a terminal). Outputs that decoding stopped at the length
// limit are counted (a warning on stderr, cut_at_max_len in --json). For an image model the
// TSV's source side is an image file (a path relative to the TSV's folder) and its target the
// text.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "autograd/parallel.h"
#include "train/cli/shared_options.h"
#include "train/decode/evaluate.h"
#include "train/decode/inference.h"
#include "train/loop/data_source.h"

namespace sg::cli {

int cmd_eval(const std::vector<std::string>& args) {
  Config c;
  std::vector<std::string> checkpoints;
  po::options_description groups("eval options");
  groups.add_options()("batch", po::value(&c.batch)->default_value(200), "sequences per batch")(
      "json", po::bool_switch(&c.json), "print one JSON object");
  groups.add(shared_train_options(c));
  groups.add(decoding_options(c, checkpoints, false));
  po::variables_map vm;
  if (!parse_config("eval", args, groups, c, vm)) return 0;
  if (checkpoints.empty()) throw UsageError("--checkpoint: required");
  use_threads(c.threads);
  const std::vector<LoadedModel> ensemble = load_ensemble(checkpoints, c.use_ema);
  for (size_t i = 0; i < ensemble.size(); ++i)
    check_against_run(c, vm, ensemble[i].contents.config, checkpoints[i]);
  const LoadedModel& m = ensemble.front();
  std::vector<std::string> refs;  // a TSV file's target texts
  std::vector<Example> data;
  std::vector<ImageExample> images;
  if (m.model->config().reads_images())
    images = held_out_images(m, held_out_options(c, vm));
  else
    data = held_out_data(m, held_out_options(c, vm), &refs);
  const size_t n = images.empty() ? data.size() : images.size();
  EvalOptions o;
  o.batch = c.batch;
  o.decode = decoding_of(c, m.train_lengths);
  ProgressOptions po = ProgressOptions::automatic(c.json);
  po.leave = false;  // the result line takes its place
  Progress progress("eval", static_cast<int64_t>(n), "sequences", po);
  o.progress = &progress;
  o.detokenize = [&](const std::vector<int64_t>& ids) { return m.tgt_codec.decode(ids); };
  if (!refs.empty()) o.refs = &refs;
  const Models models = models_of(ensemble);
  const EvalResult r = images.empty() ? evaluate(models, data, o) : evaluate(models, images, o);
  progress.finish();
  if (c.json) {
    std::cout << nlohmann::json{{"loss", r.loss},
                                {"ppl", r.ppl},
                                {"token_acc", r.token_acc},
                                {"exact_match", r.exact_match},
                                {"bleu", r.bleu},
                                {"chrf", r.chrf},
                                {"n", r.n},
                                {"cut_at_max_len", r.cuts.count}}
                     .dump()
              << std::endl;
  } else {
    std::printf(
        "n %lld  loss %.4f  ppl %.3f  token_acc %.4f  exact_match %.4f  bleu %.2f  chrf %.2f\n",
        static_cast<long long>(r.n), r.loss, r.ppl, r.token_acc, r.exact_match, r.bleu, r.chrf);
    std::fflush(stdout);
  }
  if (r.cuts.count) std::cerr << "seqgrad: warning: " << cut_warning(r.cuts, o.decode) << std::endl;
  return 0;
}

}  // namespace sg::cli
