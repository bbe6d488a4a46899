// What a checkpoint holds and which files a run writes (docs/checkpoint.md, issue 6 points 1 and
// 6): model, optimizer (keyed by parameter name), schedule, generator states, data position, config
// JSON, vocabularies and format attributes; ckpt-<step>.h5 every --save-every steps and at the end,
// the newest --keep of them, latest.h5, best.h5 by validation loss, and ckpt-0.h5 holding the
// initialized model for --steps 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/train/seqgrad_process.h"
#include "train/config/model_config.h"

namespace sg::testing {
namespace {

class CheckpointFile : public ScratchTest {
 protected:
  // A model of the checkpoint's architecture, initialized from its seed.
  static Seq2SeqTransformer model_of(const CheckpointContents& c) {
    return Seq2SeqTransformer(model_config(c.config, static_cast<int64_t>(c.src_vocab.size()),
                                           static_cast<int64_t>(c.tgt_vocab.size())),
                              c.config.seed);
  }
};

TEST_F(CheckpointFile, HoldsEverythingAnExactResumeNeeds) {
  write_tsv(dir_ / "train.tsv", 22);
  const RunResult r =
      train(tiny_tsv_model() + std::vector<std::string>{"--task", "tsv", "--train", "train.tsv",
                                                        "--steps", "3", "--dropout", "0.1",
                                                        "--eval-every", "0", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string p = path("run/ckpt-3.h5");
  const H5File f = H5File::open_read(p);
  EXPECT_EQ(f.attr_str("/", "format"), "seqgrad-checkpoint");
  EXPECT_EQ(f.attr_i64("/", "format_version"), kCheckpointVersion);
  EXPECT_EQ(f.attr_i64("/", "step"), 3);
  EXPECT_EQ(f.attr_i64("/", "epoch"), 0);
  EXPECT_EQ(f.attr_str("/", "seqgrad_version"), SEQGRAD_VERSION);

  // /config: the resolved configuration as JSON.
  const Config cfg = Config::from_json(nlohmann::json::parse(f.attr_str("config", "json")));
  EXPECT_EQ(cfg.task, "tsv");
  EXPECT_EQ(cfg.train_file, "train.tsv");
  EXPECT_EQ(cfg.d_model, 16);
  EXPECT_EQ(cfg.dropout, 0.1);
  EXPECT_EQ(cfg.steps, 3);

  // /vocab: the specials, then the corpus's words.
  for (const char* v : {"vocab/src", "vocab/tgt"}) {
    const auto tokens = f.read_strings(v);
    ASSERT_EQ(tokens.size(), 12u) << v;
    EXPECT_EQ(std::vector<std::string>(tokens.begin(), tokens.begin() + 4),
              (std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>"}));
    for (char w = 'a'; w <= 'h'; ++w)
      EXPECT_NE(std::find(tokens.begin(), tokens.end(), std::string(1, w)), tokens.end()) << w;
  }

  // /model: every parameter under its PyTorch name and shape, nothing else.
  const CheckpointContents c = read_checkpoint(p);
  const Seq2SeqTransformer model = model_of(c);
  std::vector<std::string> names;
  for (const auto& [name, t] : model.named_parameters()) {
    names.push_back(name);
    EXPECT_EQ(f.shape_of("model/" + name), t.shape()) << name;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(f.list("model"), names);
  EXPECT_EQ(f.shape_of("model/transformer.encoder.layers.0.self_attn.in_proj_weight"),
            (Shape{48, 16}));
  EXPECT_EQ(f.shape_of("model/transformer.decoder.layers.0.multihead_attn.in_proj_weight"),
            (Shape{48, 16}));
  EXPECT_EQ(f.shape_of("model/transformer.decoder.norm.bias"), (Shape{16}));
  EXPECT_EQ(f.shape_of("model/generator.weight"), (Shape{12, 16}));

  // /optimizer: type, hyper-parameters, step count, and state per parameter name.
  EXPECT_EQ(f.attr_str("optimizer", "type"), "adam");
  EXPECT_EQ(f.attr_i64("optimizer", "step"), 3);
  EXPECT_EQ(f.attr_f64("optimizer", "beta2"), 0.98);
  EXPECT_EQ(f.list("optimizer"), (std::vector<std::string>{"exp_avg", "exp_avg_sq", "step"}));
  for (const auto& name : names) {
    EXPECT_EQ(f.read_i64("optimizer/step/" + name).data, std::vector<int64_t>{3}) << name;
    EXPECT_EQ(f.shape_of("optimizer/exp_avg/" + name), f.shape_of("model/" + name)) << name;
    EXPECT_EQ(f.shape_of("optimizer/exp_avg_sq/" + name), f.shape_of("model/" + name)) << name;
  }

  // /scheduler: the schedule and how far it has run.
  EXPECT_EQ(f.attr_str("scheduler", "kind"), "inverse_sqrt");
  EXPECT_EQ(f.attr_f64("scheduler", "base_lr"), 1e-3);
  EXPECT_EQ(f.attr_i64("scheduler", "warmup"), 4);
  EXPECT_EQ(f.attr_i64("scheduler", "total_steps"), 3);
  EXPECT_EQ(f.attr_i64("scheduler", "step"), 3);
  EXPECT_EQ(f.attr_f64("scheduler", "last_lr"), f.attr_f64("optimizer", "lr"));
  EXPECT_EQ(f.attr_f64("scheduler", "last_lr"), 1e-3 * 3 / 4);
  ASSERT_TRUE(c.state.schedule.has_value());
  EXPECT_EQ(c.state.schedule->kind, ScheduleKind::inverse_sqrt);

  // /rng and /data: dropout and shuffle generators, epoch and batch within it (22 lines in
  // batches of 6: 3 steps end before the 4th batch of epoch 0).
  EXPECT_EQ(f.list("rng"), (std::vector<std::string>{"data", "dropout"}));
  EXPECT_EQ(f.shape_of("rng/dropout"), (Shape{4}));
  EXPECT_EQ(f.attr_i64("data", "epoch"), 0);
  EXPECT_EQ(f.attr_i64("data", "batch"), 3);
  EXPECT_EQ(c.state.evals_without_improvement, 0);
}

TEST_F(CheckpointFile, SyntheticStreamSavesItsGenerator) {
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "2", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const CheckpointContents a = read_checkpoint(path("run/ckpt-2.h5"));
  ASSERT_EQ(a.state.rngs.count("data"), 1u);
  ASSERT_EQ(a.state.rngs.count("dropout"), 1u);
  // The stream's generator moved on from its seed: a different position than at step 0.
  ASSERT_EQ(train(tiny_model() + std::vector<std::string>{"--steps", "0", "--out", "zero"}).code,
            0);
  EXPECT_NE(read_checkpoint(path("zero/ckpt-0.h5")).state.rngs.at("data"), a.state.rngs.at("data"));
}

// --save-every 2 --keep 2 over 7 steps: ckpt-2, -4, -6 and the final ckpt-7 are written, the
// two newest kept; latest.h5 points to ckpt-7.h5; --json ends with the "done" event.
TEST_F(CheckpointFile, SaveEveryKeepLatestAndTheEnd) {
  const RunResult r = train(
      tiny_model() + std::vector<std::string>{"--steps", "7", "--save-every", "2", "--keep", "2",
                                              "--eval-every", "3", "--out", "run", "--json"});
  ASSERT_EQ(r.code, 0) << describe(r);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_ / "run"))
    files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"best.h5", "ckpt-6.h5", "ckpt-7.h5", "latest.h5",
                                             "metrics.jsonl", "report.html"}));
  EXPECT_TRUE(fs::is_symlink(dir_ / "run/latest.h5"));
  EXPECT_EQ(fs::read_symlink(dir_ / "run/latest.h5"), "ckpt-7.h5");
  EXPECT_EQ(read_checkpoint(path("run/latest.h5")).state.step, 7);
  const auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) EXPECT_TRUE(nlohmann::json::accept(l)) << l;
  const auto done = nlohmann::json::parse(lines.back());
  EXPECT_EQ(done,
            (nlohmann::json{{"event", "done"}, {"step", 7}, {"checkpoint", "run/ckpt-7.h5"}}));
}

// best.h5 holds the model of the evaluation with the lowest validation loss (every 2 steps and
// at the end), with that loss recorded.
TEST_F(CheckpointFile, BestHoldsTheLowestValidationLoss) {
  // A high constant learning rate makes the validation loss go up and down.
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "9", "--save-every", "1", "--keep",
                                                    "100", "--eval-every", "2", "--lr", "0.05",
                                                    "--schedule", "constant", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  double best_loss = 1e300;
  int64_t best_step = -1, evals = 0;
  for (const auto& l : lines_of(read_text(dir_ / "run/metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(l);
    if (j["event"] != "eval") continue;
    ++evals;
    if (j["loss"].get<double>() < best_loss) {
      best_loss = j["loss"].get<double>();
      best_step = j["step"].get<int64_t>();
    }
  }
  EXPECT_EQ(evals, 5);  // steps 2, 4, 6, 8 and the end
  const CheckpointContents best = read_checkpoint(path("run/best.h5"));
  EXPECT_EQ(best.state.step, best_step);
  EXPECT_EQ(best.state.best_score, best_loss);
  const H5File a = H5File::open_read(path("run/best.h5")),
               b = H5File::open_read(path("run/ckpt-" + std::to_string(best_step) + ".h5"));
  for (const auto& name : a.list("model"))
    EXPECT_TRUE(bytes_of(a.read_f32("model/" + name)) == bytes_of(b.read_f32("model/" + name)))
        << name;
}

// --best-metric bleu: best.h5 holds the model of the first evaluation with the highest BLEU.
TEST_F(CheckpointFile, BestMetricBleuKeepsTheHighestBleu) {
  const RunResult r = train(
      tiny_model() + std::vector<std::string>{"--steps", "12", "--save-every", "1", "--keep", "100",
                                              "--eval-every", "2", "--lr", "0.03", "--schedule",
                                              "constant", "--out", "run", "--best-metric", "bleu"});
  ASSERT_EQ(r.code, 0) << describe(r);
  double best = -1;
  int64_t best_step = -1;
  std::vector<double> scores;
  for (const auto& l : lines_of(read_text(dir_ / "run/metrics.jsonl"))) {
    const auto j = nlohmann::json::parse(l);
    if (j["event"] != "eval") continue;
    ASSERT_TRUE(j.contains("chrf")) << l;
    scores.push_back(j["bleu"].get<double>());
    if (scores.back() > best) {
      best = scores.back();
      best_step = j["step"].get<int64_t>();
    }
  }
  ASSERT_EQ(scores.size(), 6u);
  // The scores move, so the choice is not the first or the last by accident of a flat curve.
  EXPECT_NE(*std::min_element(scores.begin(), scores.end()), best);
  const CheckpointContents c = read_checkpoint(path("run/best.h5"));
  EXPECT_EQ(c.state.step, best_step);
  EXPECT_EQ(c.state.best_score, best);
  EXPECT_EQ(c.config.best_metric, "bleu");
}

// --patience counts evaluations that do not beat --best-metric: with a learning rate of 0 every
// evaluation scores the same, so the first one sets the mark and the next two stop the run.
TEST_F(CheckpointFile, PatienceCountsEvaluationsWithoutABetterMetric) {
  for (const char* metric : {"loss", "chrf"}) {
    SCOPED_TRACE(metric);
    const std::string out = std::string("run-") + metric;
    const RunResult r =
        train(tiny_model() + std::vector<std::string>{"--steps", "10", "--eval-every", "1", "--lr",
                                                      "0", "--schedule", "constant", "--patience",
                                                      "2", "--best-metric", metric, "--out", out});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(newest_step(dir_ / out), 3);
    EXPECT_EQ(read_checkpoint(path(out + "/best.h5")).state.step, 1);
  }
}

// --steps 0 writes the initialized model (of --seed) as ckpt-0.h5 and stops.
TEST_F(CheckpointFile, StepsZeroWritesTheInitializedModel) {
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "0", "--seed", "7", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(fs::read_symlink(dir_ / "run/latest.h5"), "ckpt-0.h5");
  const CheckpointContents c = read_checkpoint(path("run/ckpt-0.h5"));
  EXPECT_EQ(c.state.step, 0);
  EXPECT_EQ(c.config.seed, 7u);
  const Seq2SeqTransformer fresh = model_of(c);
  const H5File f = H5File::open_read(path("run/ckpt-0.h5"));
  EXPECT_EQ(f.attr_i64("optimizer", "step"), 0);
  for (const auto& [name, t] : fresh.named_parameters()) {
    const Tensor v = t.contiguous_data();
    const std::string want(reinterpret_cast<const char*>(v.data<float>()),
                           static_cast<size_t>(v.numel()) * sizeof(float));
    EXPECT_TRUE(bytes_of(f.read_f32("model/" + name)) == want) << name;
  }
}

// Format version 2: every byte of the file lies in a part that HDF5 checksums and a load reads
// (the superblock and object headers of the 1.10 format, Fletcher32 chunks), nothing is left
// unread, and the same state saved twice gives the same bytes.
TEST_F(CheckpointFile, EveryByteIsChecksummedAndTheSameStateGivesTheSameBytes) {
  ASSERT_EQ(train(tiny_model() + std::vector<std::string>{"--steps", "0", "--out", "run"}).code, 0);
  const H5Check h = H5File::check(path("run/ckpt-0.h5"));
  EXPECT_TRUE(h.damaged.empty());
  EXPECT_TRUE(h.unchecksummed.empty()) << h.unchecksummed.front();
  EXPECT_EQ(h.superblock_version, 3u);
  EXPECT_EQ(h.accounted_bytes, h.file_bytes);
  fs::rename(dir_ / "run", dir_ / "first");
  ASSERT_EQ(train(tiny_model() + std::vector<std::string>{"--steps", "0", "--out", "run"}).code, 0);
  EXPECT_TRUE(read_text(dir_ / "first/ckpt-0.h5") == read_text(dir_ / "run/ckpt-0.h5"));
}

// Format version 1 (variable-length strings, no checksums) still loads: eval reads it, a resume
// continues it into checkpoints of the current format, and inspect --verify says that it has
// parts without a checksum.
TEST_F(CheckpointFile, FormatVersionOneStillLoadsAndResumes) {
  const std::string v1 =
      std::string(SEQGRAD_SOURCE_DIR) + "/fuzz/corpus/checkpoint/v1-adam-step1.h5";
  const CheckpointContents old = load_fully(v1);
  EXPECT_EQ(old.format_version, 1);
  RunResult r = run({"eval", "--checkpoint", v1});
  EXPECT_EQ(r.code, 0) << describe(r);
  r = run({"inspect", "--verify", v1});
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("parts have no checksum"), std::string::npos) << r.out;
  r = train({"--resume", v1, "--out", "run", "--steps", "3"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const CheckpointContents now = load_fully(path("run/ckpt-3.h5"));
  EXPECT_EQ(now.format_version, kCheckpointVersion);
  EXPECT_EQ(now.src_vocab, old.src_vocab);
  EXPECT_EQ(now.config.d_model, old.config.d_model);
  EXPECT_TRUE(H5File::check(path("run/ckpt-3.h5")).unchecksummed.empty());
}

// Optimizer state is matched by parameter name: an optimizer over the parameters in reverse
// order loads the same state for each name.
TEST_F(CheckpointFile, OptimizerStateIsKeyedByName) {
  const RunResult r =
      train(tiny_model() + std::vector<std::string>{"--steps", "2", "--out", "run"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string p = path("run/ckpt-2.h5");
  const CheckpointContents c = read_checkpoint(p);
  const Seq2SeqTransformer model = model_of(c);
  NamedParams reversed = model.named_parameters();
  std::reverse(reversed.begin(), reversed.end());
  Adam adam(reversed, AdamOptions{});
  load_optimizer(p, adam);
  const OptimizerState st = adam.export_state();
  const H5File f = H5File::open_read(p);
  ASSERT_EQ(st.params.size(), f.list("model").size());
  for (const auto& [name, ps] : st.params) {
    EXPECT_EQ(ps.step, 2) << name;
    const Tensor m = ps.buffers.at("exp_avg").contiguous_data();
    const std::string got(reinterpret_cast<const char*>(m.data<float>()),
                          static_cast<size_t>(m.numel()) * sizeof(float));
    EXPECT_TRUE(got == bytes_of(f.read_f32("optimizer/exp_avg/" + name))) << name;
  }
}

// A vocabulary that could not have been written by a run (a repeated token, the specials out of
// place) is refused when the checkpoint is read, naming the file and the dataset.
TEST_F(CheckpointFile, ABrokenVocabularyIsAnErrorNamingTheFileAndDataset) {
  ModelConfig mc;
  mc.src_vocab = mc.tgt_vocab = 6;
  mc.d_model = 8, mc.heads = 2, mc.enc_layers = mc.dec_layers = 1, mc.ff = 8;
  const Seq2SeqTransformer model(mc, 0);
  const std::vector<std::string> good = {"<pad>", "<bos>", "<eos>", "<unk>", "a", "b"};
  const std::vector<std::string> repeated = {"<pad>", "<bos>", "<eos>", "<unk>", "a", "a"};
  const std::vector<std::string> no_specials = {"a", "b", "<pad>", "<bos>", "<eos>", "<unk>"};
  Config cfg;
  TrainState st;
  save_checkpoint(path("rep.h5"), model, nullptr, cfg, good, repeated, st);
  save_checkpoint(path("spec.h5"), model, nullptr, cfg, no_specials, good, st);
  try {
    read_checkpoint(path("rep.h5"));
    ADD_FAILURE() << "a repeated token was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("rep.h5: /vocab/tgt: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("duplicate token 'a'"), std::string::npos) << e.what();
  }
  try {
    read_checkpoint(path("spec.h5"));
    ADD_FAILURE() << "a vocabulary without the specials first was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("spec.h5: /vocab/src: "), std::string::npos) << e.what();
  }
}

TEST(CheckpointName, StepOfANumberedCheckpointOnly) {
  EXPECT_EQ(checkpoint_step_of("ckpt-0.h5"), 0);
  EXPECT_EQ(checkpoint_step_of("ckpt-3000.h5"), 3000);
  for (const char* other : {"ckpt-.h5", "ckpt-3x.h5", "ckpt-12.h5.tmp-5", "best.h5", "latest.h5",
                            ".ckpt-7.h5.tmp-12", "ckpt-1.h", "xckpt-1.h5"})
    EXPECT_EQ(checkpoint_step_of(other), -1) << other;
}

// --share-embeddings: the one matrix under all three PyTorch names, equal bit for bit, so /model
// is a complete state_dict; the optimizer state holds it once; loading ties the three again, and
// inspect counts it once.
TEST_F(CheckpointFile, SharedEmbeddingsAreStoredUnderEveryPyTorchName) {
  const RunResult r = train(tiny_model() + std::vector<std::string>{"--steps", "2", "--out", "run",
                                                                    "--share-embeddings"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string p = path("run/ckpt-2.h5");
  const H5File f = H5File::open_read(p);
  const auto shared = f.read_f32("model/src_embed.weight");
  EXPECT_EQ(shared.shape, (Shape{14, 16}));
  EXPECT_EQ(f.read_f32("model/tgt_embed.weight").data, shared.data);
  EXPECT_EQ(f.read_f32("model/generator.weight").data, shared.data);
  EXPECT_EQ(f.read_f32("model/generator.bias").shape, (Shape{14}));
  EXPECT_TRUE(f.exists("optimizer/exp_avg/src_embed.weight"));
  EXPECT_FALSE(f.exists("optimizer/exp_avg/tgt_embed.weight"));
  EXPECT_FALSE(f.exists("optimizer/exp_avg/generator.weight"));
  const CheckpointContents c = read_checkpoint(p);
  ASSERT_TRUE(c.config.share_embeddings);
  Seq2SeqTransformer m = model_of(c);
  EXPECT_NE(m.parameter("src_embed.weight").to_vector(),
            std::vector<double>(shared.data.begin(), shared.data.end()));  // trained since
  load_model(p, m);
  EXPECT_EQ(m.parameter("generator.weight").impl(), m.parameter("src_embed.weight").impl());
  EXPECT_EQ(m.parameter("tgt_embed.weight").to_vector(),
            std::vector<double>(shared.data.begin(), shared.data.end()));
  EXPECT_EQ(m.named_parameters().size() + 2, m.state_dict().size());
  const RunResult inspect = run({"inspect", p, "--json"});
  ASSERT_EQ(inspect.code, 0) << describe(inspect);
  const auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j["parameters"].size(), m.state_dict().size());
  EXPECT_EQ(j["parameter_count"], m.parameter_count());
}

}  // namespace
}  // namespace sg::testing
