// seqgrad eval --checkpoint P [--data FILE]: loss, perplexity, token accuracy, exact match, BLEU
// and chrF of a checkpoint on a TSV file, or on its own task's held-out data (a progress bar on
// stderr while it runs, when that is a terminal). Outputs that decoding stopped at the length
// limit are counted (a warning on stderr, cut_at_max_len in --json).
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
  po::options_description groups("eval options");
  groups.add_options()("checkpoint", po::value(&c.checkpoint), "checkpoint to evaluate")(
      "batch", po::value(&c.batch)->default_value(200), "sequences per batch")(
      "beam", po::value(&c.beam)->default_value(1), "beam size (1: greedy)")(
      "decode-max-len", po::value(&c.decode_max_len)->default_value(0), kDecodeMaxLenHelp)(
      "threads", po::value(&c.threads)->default_value(0), "threads (0: all cores)")(
      "json", po::bool_switch(&c.json), "print one JSON object");
  groups.add(shared_train_options(c));
  po::variables_map vm;
  if (!parse_config("eval", args, groups, c, vm)) return 0;
  if (c.checkpoint.empty()) throw UsageError("--checkpoint: required");
  use_threads(c.threads);
  LoadedModel m = load_for_inference(c.checkpoint);
  check_against_run(c, vm, m.contents.config, c.checkpoint);
  std::vector<std::string> refs;  // a TSV file's target texts
  const std::vector<Example> data = held_out_data(m, held_out_options(c, vm), &refs);
  EvalOptions o;
  o.batch = c.batch;
  o.decode.beam = c.beam;
  o.decode.max_len = c.decode_max_len;
  o.decode.lengths = m.train_lengths;
  ProgressOptions po = ProgressOptions::automatic(c.json);
  po.leave = false;  // the result line takes its place
  Progress progress("eval", static_cast<int64_t>(data.size()), "sequences", po);
  o.progress = &progress;
  o.detokenize = [&](const std::vector<int64_t>& ids) { return m.tgt_codec.decode(ids); };
  if (!refs.empty()) o.refs = &refs;
  const EvalResult r = evaluate(*m.model, data, o);
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
