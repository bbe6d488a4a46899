// Corruption fuzzing (issue 20 point 4): 100 copies of real checkpoints, each with a few bytes
// changed at a seeded random place, in the weights, the optimizer state, the vocabulary, the
// config, the generator states, the HDF5 metadata or anywhere. Each copy is loaded as a resume
// loads it (metadata, model, optimizer state): every copy must be a clean error naming the file,
// never a crash, a hang or a silently different model. A copy may load only if all its damage
// fell in bytes that nothing reads; the test counts those bytes in each file (the file's size
// minus what its superblock, object headers, indexes and stored values take up): none in a
// checkpoint of this format, so every copy must be refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "optim/make_optimizer.h"
#include "tests/train/seqgrad_process.h"

namespace sg::testing {
namespace {

struct Range {
  uint64_t begin, end;
};

// The byte ranges of a checkpoint, by what they hold: the stored chunks of the datasets under
// each group, the config's JSON text, and everything else (the HDF5 metadata).
std::map<std::string, std::vector<Range>> regions_of(const std::string& path,
                                                     const std::string& bytes) {
  std::map<std::string, std::vector<Range>> out;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(file, 0) << path;
  const H5File f = H5File::open_read(path);
  std::vector<std::pair<std::string, std::string>> datasets;  // (kind, path)
  for (const char* group : {"model", "optimizer", "vocab", "rng"})
    for (const std::string& name : f.list(group)) {
      const std::string p = std::string(group) + "/" + name;
      if (group == std::string("optimizer"))
        for (const std::string& leaf : f.list(p)) datasets.emplace_back(group, p + "/" + leaf);
      else
        datasets.emplace_back(group, p);
    }
  for (const auto& [kind, p] : datasets) {
    const hid_t ds = H5Dopen2(file, p.c_str(), H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    hsize_t n = 0;
    H5Dget_num_chunks(ds, space, &n);
    for (hsize_t i = 0; i < n; ++i) {
      hsize_t offset[8];
      unsigned mask = 0;
      haddr_t addr = 0;
      hsize_t size = 0;
      EXPECT_GE(H5Dget_chunk_info(ds, space, i, offset, &mask, &addr, &size), 0) << p;
      out[kind].push_back({addr, addr + size});
    }
    H5Sclose(space);
    H5Dclose(ds);
  }
  H5Fclose(file);
  const std::string json = f.attr_str("config", "json");
  const size_t at = bytes.find(json);
  EXPECT_NE(at, std::string::npos) << "the config's JSON is not stored as it is";
  out["config"].push_back({at, at + json.size()});
  // The metadata: what no region above holds.
  std::vector<Range> taken;
  for (const auto& [kind, ranges] : out) taken.insert(taken.end(), ranges.begin(), ranges.end());
  std::sort(taken.begin(), taken.end(), [](Range a, Range b) { return a.begin < b.begin; });
  uint64_t pos = 0;
  for (const Range& r : taken) {
    if (r.begin > pos) out["metadata"].push_back({pos, r.begin});
    pos = std::max(pos, r.end);
  }
  if (pos < bytes.size()) out["metadata"].push_back({pos, bytes.size()});
  out["anywhere"].push_back({0, bytes.size()});
  return out;
}

// A uniformly random byte offset within `ranges`.
uint64_t pick(const std::vector<Range>& ranges, std::mt19937_64& rng) {
  uint64_t total = 0;
  for (const Range& r : ranges) total += r.end - r.begin;
  uint64_t k = std::uniform_int_distribution<uint64_t>(0, total - 1)(rng);
  for (const Range& r : ranges) {
    if (k < r.end - r.begin) return r.begin + k;
    k -= r.end - r.begin;
  }
  return 0;
}

// Everything a resume reads, as text: metadata, vocabularies, every parameter and every
// optimizer buffer, bit for bit. Throws what the loaders throw.
std::string load_as_resume(const std::string& path) {
  const CheckpointContents c = read_checkpoint(path);
  Seq2SeqTransformer model(model_config(c.config, static_cast<int64_t>(c.src_vocab.size()),
                                        static_cast<int64_t>(c.tgt_vocab.size())),
                           c.config.seed);
  load_model(path, model);
  const auto opt = make_optimizer(c.optimizer_type, model.named_parameters(), {{"lr", 1e-3}});
  load_optimizer(path, *opt);
  std::string all = c.config.to_json().dump() + std::to_string(c.state.step);
  for (const auto& v : {c.src_vocab, c.tgt_vocab})
    for (const auto& token : v) all += token + '\n';
  for (const auto& [name, g] : c.state.rngs)
    all.append(reinterpret_cast<const char*>(g.data()), sizeof g);
  auto add = [&](const Tensor& t) {
    const Tensor d = t.contiguous_data();
    all.append(reinterpret_cast<const char*>(d.data<float>()), d.numel() * sizeof(float));
  };
  for (const auto& [name, p] : model.named_parameters()) add(p);
  for (const auto& [name, ps] : opt->export_state().params) {
    all += std::to_string(ps.step);
    for (const auto& [buffer, t] : ps.buffers) add(t);
  }
  return all;
}

class Corruption : public ScratchTest {
 protected:
  // Two real checkpoints: the copy task with Adam and dropout, and a TSV corpus with SGD and
  // momentum (word vocabularies, the data position).
  std::vector<std::string> checkpoints() {
    // tiny_tsv_model() (both tasks, the copy task's held-out set at its default size) with
    // d_model 8 and 2 steps.
    std::vector<std::string> small = tiny_tsv_model();
    for (size_t i = 0; i + 1 < small.size(); i += 2) {
      if (small[i] == "--d-model") small[i + 1] = "8";
      if (small[i] == "--ff") small[i + 1] = "16";
    }
    small = small + std::vector<std::string>{"--steps", "2", "--eval-every", "0"};
    EXPECT_EQ(train(small + std::vector<std::string>{"--dropout", "0.1", "--out", "a"}).code, 0);
    write_tsv(dir_ / "train.tsv", 30);
    EXPECT_EQ(
        train(small + std::vector<std::string>{"--task", "tsv", "--train", "train.tsv", "--optim",
                                               "sgd", "--momentum", "0.9", "--out", "s"})
            .code,
        0);
    return {path("a/ckpt-2.h5"), path("s/ckpt-2.h5")};
  }
};

// One damaged copy of `source`: 1 to 4 consecutive bytes at a random place in `ranges`, each
// changed by a random nonzero XOR. Returns the first damaged offset and the count.
std::pair<uint64_t, uint64_t> damage(const std::string& source, const std::vector<Range>& ranges,
                                     const std::string& copy, std::mt19937_64& rng) {
  std::string bytes = read_text(source);
  const uint64_t at = pick(ranges, rng);
  const uint64_t n = std::min<uint64_t>(1 + rng() % 4, bytes.size() - at);
  for (uint64_t i = at; i < at + n; ++i) bytes[i] ^= static_cast<char>(1 + rng() % 255);
  std::ofstream(copy, std::ios::binary) << bytes;
  return {at, n};
}

const std::vector<std::string> kKinds = {"model",    "optimizer", "vocab",   "config",
                                         "metadata", "rng",       "anywhere"};

TEST_F(Corruption, EveryDamagedCopyIsACleanErrorNamingTheFile) {
  const std::vector<std::string> good = checkpoints();
  std::vector<std::map<std::string, std::vector<Range>>> regions;
  std::vector<std::string> reference;
  for (const std::string& source : good) {
    // The bytes nothing reads: the file minus everything HDF5 stores in it.
    const H5Check whole = H5File::check(source);
    ASSERT_TRUE(whole.damaged.empty()) << source;
    ASSERT_TRUE(whole.unchecksummed.empty()) << whole.unchecksummed.front();
    ASSERT_EQ(whole.file_bytes, fs::file_size(source));
    ASSERT_EQ(whole.accounted_bytes, whole.file_bytes)
        << source << ": " << whole.file_bytes - whole.accounted_bytes << " bytes nothing reads";
    regions.push_back(regions_of(source, read_text(source)));
    reference.push_back(load_as_resume(source));
  }
  std::mt19937_64 rng(20);
  int refused = 0;
  std::map<std::string, int> per_kind;
  for (int copy = 0; copy < 100; ++copy) {
    const size_t g = static_cast<size_t>(copy) % good.size();
    const std::string& kind = kKinds[(static_cast<size_t>(copy) / good.size()) % kKinds.size()];
    const std::string copy_path = path("copy-" + std::to_string(copy) + ".h5");
    const auto [at, n] = damage(good[g], regions[g].at(kind), copy_path, rng);
    const std::string what = "copy " + std::to_string(copy) + " (" + kind + ", bytes " +
                             std::to_string(at) + ".." + std::to_string(at + n) + " of " + good[g] +
                             ")";
    ::testing::internal::CaptureStderr();
    try {
      const bool same = load_as_resume(copy_path) == reference[g];
      ADD_FAILURE() << what << " was accepted, loading "
                    << (same ? "the same state" : "a different state");
    } catch (const std::runtime_error& e) {
      const std::string error = e.what();
      EXPECT_NE(error.find(copy_path), std::string::npos) << what << ": " << error;
      EXPECT_EQ(error.find('\n'), std::string::npos) << what << ": " << error;
      ++refused;
    }
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << what;
    ++per_kind[kind];
    fs::remove(copy_path);
  }
  EXPECT_EQ(refused, 100);
  for (const std::string& kind : kKinds) EXPECT_GE(per_kind[kind], 14) << kind;
}

// The same damage through the command line: `inspect --verify` names the damaged part and a
// resume refuses the copy and writes nothing, one error line and exit code 1 each. `eval` and
// `translate` check every byte they read: damage to the weights, the vocabulary, the config or
// the metadata is an error line with exit code 1; damage to the optimizer state, which they do
// not read, leaves their output that of the intact file (HDF5 metadata and bytes anywhere may
// fall in either part).
TEST_F(Corruption, TheCommandLineReportsDamageInOneLine) {
  const std::vector<std::string> good = checkpoints();
  const auto regions = regions_of(good[0], read_text(good[0]));
  const std::vector<std::string> eval = {"eval", "--json", "--threads", "1", "--checkpoint"};
  const std::vector<std::string> translate = {"translate", "--input", "3 1 4", "--checkpoint"};
  const RunResult eval_good = run(eval + std::vector<std::string>{good[0]});
  const RunResult translate_good = run(translate + std::vector<std::string>{good[0]});
  ASSERT_EQ(eval_good.code, 0) << describe(eval_good);
  ASSERT_EQ(translate_good.code, 0) << describe(translate_good);
  std::mt19937_64 rng(2020);
  // The generator states and damage anywhere are left to the test above (fewer processes).
  for (const std::string kind : {"model", "optimizer", "vocab", "config", "metadata"}) {
    const std::string copy = path("copy-" + kind + ".h5");
    damage(good[0], regions.at(kind), copy, rng);
    const RunResult verify = run({"inspect", "--verify", copy});
    expect_one_error_line(verify, 1, copy + ": damaged: ");
    EXPECT_NE(verify.out.find(copy + ": damaged: "), std::string::npos) << verify.out;
    expect_one_error_line(train({"--resume", copy, "--out", "r-" + kind, "--steps", "3"}), 1, copy);
    EXPECT_TRUE(!fs::exists(dir_ / ("r-" + kind)) || fs::is_empty(dir_ / ("r-" + kind))) << kind;
    const RunResult e = run(eval + std::vector<std::string>{copy});
    const RunResult t = run(translate + std::vector<std::string>{copy});
    // HDF5 metadata anywhere in the file may belong to the optimizer state: either outcome.
    const bool read_by_eval = kind != "optimizer" && kind != "metadata" && kind != "anywhere";
    for (const auto& [r, intact] : {std::pair{&e, &eval_good}, {&t, &translate_good}}) {
      if (read_by_eval || r->code != 0) {
        expect_one_error_line(*r, 1, copy);
      } else {
        EXPECT_EQ(r->out, intact->out) << kind;
        EXPECT_EQ(r->err, intact->err) << kind;
      }
    }
    if (kind == "optimizer") {
      EXPECT_EQ(e.code, 0) << describe(e);
    }
  }
}

}  // namespace
}  // namespace sg::testing
