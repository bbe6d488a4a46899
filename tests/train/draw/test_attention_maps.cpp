// Attention maps show what a model learned: after a few seconds of training, cross-attention is
// the diagonal on copy and the anti-diagonal on reverse, and decoder self-attention is causal
// (exactly zero above the diagonal). Also: the SVG and HTML renderers write well-formed,
// self-contained files with every label, and `seqgrad attention` keeps the exit codes,
// JSON lines and atomic writes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/task.h"
#include "datasets/task_stream.h"
#include "train/decode/decode.h"
#include "train/decode/inference.h"
#include "train/draw/attention_maps.h"
#include "train/draw/attention_render.h"

namespace sg {
namespace {

DecodeOptions at_most(int64_t max_len) {
  DecodeOptions o;
  o.max_len = max_len;
  return o;
}

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct CmdResult {
  int code;
  std::string out, err;
};

// A fresh scratch directory per test, removed afterwards, and a way to run build/seqgrad in it.
class AttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("seqgrad_attention_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CmdResult seqgrad(const std::string& args) const {
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string cmd = std::string("'") + SEQGRAD_BINARY + "' " + args + " >'" + out.string() +
                            "' 2>'" + err.string() + "'";
    const int status = std::system(cmd.c_str());
    CmdResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out), read_text(err)};
    fs::remove(out);
    fs::remove(err);
    return r;
  }

  // Trains the small model every test uses (a few seconds on one thread); returns its
  // checkpoint. One encoder layer, two decoder layers, two heads, sequences of 1..8 symbols.
  std::string train(const std::string& task, int steps) const {
    const fs::path out = dir_ / ("run_" + task);
    const CmdResult r = seqgrad("train --task " + task + " --steps " + std::to_string(steps) +
                                " --d-model 64 --heads 2 --ff 128 --enc-layers 1 --dec-layers 2"
                                " --max-len 8 --lr 2e-3 --warmup 100 --batch 32 --threads 1"
                                " --valid-size 100 --eval-every 0 --save-every 0 --json --out '" +
                                out.string() + "'");
    EXPECT_EQ(r.code, 0) << r.err;
    return (out / "latest.h5").string();
  }

  fs::path dir_;
};

// Every map of a run: rows are probability distributions, the mean map is the mean of the
// heads, and decoder self-attention puts exactly zero weight on later positions.
void check_maps(const AttentionResult& r) {
  const int64_t H = r.heads;
  ASSERT_EQ(static_cast<int64_t>(r.maps.size()), (r.enc_layers + 2 * r.dec_layers) * (H + 1));
  for (const auto& m : r.maps) {
    ASSERT_EQ(m.weights.size(), m.rows.size());
    for (size_t q = 0; q < m.rows.size(); ++q) {
      ASSERT_EQ(m.weights[q].size(), m.cols.size());
      double sum = 0;
      for (size_t k = 0; k < m.cols.size(); ++k) {
        sum += m.weights[q][k];
        if (m.kind == "decoder_self" && k > q) {
          ASSERT_EQ(m.weights[q][k], 0.0) << "layer " << m.layer << " head " << m.head << ": query "
                                          << q << " sees later key " << k;
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-5) << m.kind << " layer " << m.layer << " row " << q;
    }
  }
  for (const char* kind : {"encoder_self", "decoder_self", "cross"})
    for (int64_t l = 0; l < (std::string(kind) == "encoder_self" ? r.enc_layers : r.dec_layers);
         ++l) {
      const auto maps = r.select(kind, l);
      ASSERT_EQ(static_cast<int64_t>(maps.size()), H + 1);
      ASSERT_EQ(maps[0]->head, kHeadMean);
      for (size_t q = 0; q < maps[0]->rows.size(); ++q)
        for (size_t k = 0; k < maps[0]->cols.size(); ++k) {
          double mean = 0;
          for (int64_t h = 0; h < H; ++h) {
            EXPECT_EQ(maps[1 + h]->head, h);
            mean += maps[1 + h]->weights[q][k] / static_cast<double>(H);
          }
          EXPECT_NEAR(maps[0]->weights[q][k], mean, 1e-12);
        }
    }
}

// The share of target positions, over held-out inputs, where decoder layer `layer`'s mean
// cross-attention row has its maximum on the aligned source position. Query row t (decoder
// input <bos> + output) predicts target token t; its aligned source position is t for copy and
// n-1-t for reverse (n source tokens). Positions a wrong output lacks count as misses.
std::vector<double> cross_alignment(const LoadedModel& m, const std::string& task,
                                    std::vector<AttentionResult>* results = nullptr) {
  const Config& c = m.contents.config;
  TaskStream stream(make_task(task, TaskOptions{c.symbols, c.min_len, c.max_len}), c.valid_size,
                    c.seed);
  const auto& held = stream.held_out();
  std::vector<double> hits(c.dec_layers, 0.0);
  double positions = 0;
  for (size_t i = 0; i < 60 && i < held.size(); ++i) {
    std::vector<int64_t> src = held[i].src;
    const int64_t n = static_cast<int64_t>(src.size());
    src.push_back(kEos);
    AttentionResult r = collect_attention(*m.model, src, m.src_codec.vocab(), m.tgt_codec.vocab(),
                                          at_most(2 * n + 10));
    positions += static_cast<double>(n);
    for (int64_t l = 0; l < c.dec_layers; ++l) {
      const AttentionMap& mean = *r.select("cross", l).at(0);
      for (int64_t t = 0; t < n && t < static_cast<int64_t>(mean.rows.size()); ++t) {
        const auto& row = mean.weights[t];
        const int64_t argmax = std::max_element(row.begin(), row.end()) - row.begin();
        if (argmax == (task == "copy" ? t : n - 1 - t)) hits[l] += 1;
      }
    }
    if (results) results->push_back(std::move(r));
  }
  for (double& h : hits) h /= positions;
  return hits;
}

TEST_F(AttentionTest, CopyCrossAttentionFollowsTheDiagonal) {
  const LoadedModel m = load_for_inference(train("copy", 400));
  std::vector<AttentionResult> results;
  const std::vector<double> hits = cross_alignment(m, "copy", &results);
  const double best = *std::max_element(hits.begin(), hits.end());
  EXPECT_GE(best, 0.9) << "layer 0: " << hits[0] << ", layer 1: " << hits[1];
  for (const auto& r : results) check_maps(r);
}

TEST_F(AttentionTest, ReverseCrossAttentionFollowsTheMirroredPosition) {
  const LoadedModel m = load_for_inference(train("reverse", 1500));
  std::vector<AttentionResult> results;
  const std::vector<double> hits = cross_alignment(m, "reverse", &results);
  const double best = *std::max_element(hits.begin(), hits.end());
  EXPECT_GE(best, 0.9) << "layer 0: " << hits[0] << ", layer 1: " << hits[1];
  for (const auto& r : results) check_maps(r);
}

// Tag balance of an XML document (declaration, elements, self-closing tags), and no bare '<' or
// '&' in text: enough to catch a renderer that writes broken markup.
bool well_formed(const std::string& doc, std::string& why) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < doc.size()) {
    if (doc[i] == '&') {
      const size_t semi = doc.find(';', i);
      const std::string ent = doc.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") {
        why = "bad entity " + ent;
        return false;
      }
      i = semi + 1;
      continue;
    }
    if (doc[i] != '<') {
      ++i;
      continue;
    }
    const size_t end = doc.find('>', i);
    if (end == std::string::npos) {
      why = "unterminated tag";
      return false;
    }
    const std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty() || tag.find('<') != std::string::npos) {
      why = "'<' inside a tag: " + tag;
      return false;
    }
    if (tag[0] == '?' || tag[0] == '!') continue;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        why = "</" + tag.substr(1) + "> closes <" + (open.empty() ? "" : open.back()) + ">";
        return false;
      }
      open.pop_back();
      continue;
    }
    if (tag.back() == '/' || tag.rfind("meta ", 0) == 0) continue;  // <meta> is a void element
    open.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
  }
  if (!open.empty()) why = "<" + open.back() + "> is never closed";
  return open.empty();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The maps of an untrained two-head model whose tokens need XML escaping.
AttentionResult untrained_result() {
  ModelConfig mc;
  const Vocab vocab = Vocab::from_tokens({"x<y", "a&b", "q\"s", "7"});
  mc.src_vocab = mc.tgt_vocab = vocab.size();
  mc.d_model = 16;
  mc.heads = 2;
  mc.enc_layers = 2;
  mc.dec_layers = 1;
  mc.ff = 32;
  mc.dropout = 0;
  Seq2SeqTransformer model(mc, 3);
  model.eval();
  return collect_attention(model, {4, 5, 6, 7, kEos}, vocab, vocab, at_most(4));
}

TEST(AttentionRender, SvgIsWellFormedAndLabelled) {
  const AttentionResult r = untrained_result();
  check_maps(r);
  RenderInfo info;
  info.lines = {"input: x<y a&b", "bad \x01 byte \xff"};
  const std::string svg = render_svg(r, info);
  std::string why;
  EXPECT_TRUE(well_formed(svg, why)) << why;
  EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // one panel per kind, layer (2 encoder, 1 decoder) and head, plus the mean, each titled
  EXPECT_EQ(count(svg, "class=\"panel\""), (2u + 1 + 1) * (2 + 1));
  EXPECT_EQ(count(svg, "mean of 2 heads"), 4u);
  EXPECT_EQ(count(svg, "layer 1 \xC2\xB7 head 1"), 1u);
  for (const char* title :
       {"Encoder self-attention", "Decoder self-attention (causal)", "Cross-attention"})
    EXPECT_NE(svg.find(title), std::string::npos) << title;
  // every token label, escaped, and the colour scale
  for (const char* label : {">x&lt;y<", ">a&amp;b<", ">q&quot;s<", ">7<", ">&lt;eos&gt;<",
                            ">&lt;bos&gt;<", "input: x&lt;y a&amp;b"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  EXPECT_NE(svg.find("<linearGradient id=\"viridis\""), std::string::npos);
  EXPECT_NE(svg.find("attention weight"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
  EXPECT_EQ(svg.find('\xff'), std::string::npos);
  // nothing to fetch: the namespace is the only URL
  EXPECT_EQ(count(svg, "http"), 1u);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("@import"), std::string::npos);
  EXPECT_EQ(count(svg, "url("), count(svg, "url(#"));
  // one cell per weight; causally masked cells grey
  size_t cells = 0, masked = 0;
  for (const auto& m : r.maps) {
    cells += m.rows.size() * m.cols.size();
    if (m.kind == "decoder_self") masked += m.rows.size() * (m.rows.size() - 1) / 2;
  }
  EXPECT_EQ(count(svg, "</title></rect>"), cells);
  EXPECT_EQ(count(svg, "fill=\"#d9d9d9\"><title>"), masked);
}

TEST(AttentionRender, HtmlIsSelfContained) {
  const AttentionResult r = untrained_result();
  const std::string html = render_html(r, RenderInfo{});
  std::string why;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_TRUE(well_formed(html.substr(html.find("<html")), why)) << why;
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_EQ(count(html, "<svg "), 1u);
  EXPECT_EQ(count(html, "class=\"panel\""), 12u);
  EXPECT_NE(html.find(">a&amp;b<"), std::string::npos);
  for (const char* remote : {"http", "<script", "src=", "href", "@import", "<link"})
    EXPECT_EQ(html.find(remote), std::string::npos) << remote;
}

TEST(AttentionRender, ColourScaleIsViridis) {
  EXPECT_EQ(weight_colour(0.0), "#440154");
  EXPECT_EQ(weight_colour(0.5), "#21918c");
  EXPECT_EQ(weight_colour(1.0), "#fde725");
  EXPECT_EQ(weight_colour(2.0), "#fde725");
  EXPECT_EQ(weight_colour(-1.0), "#440154");
  EXPECT_EQ(weight_colour(std::nan("")), "#440154");
}

TEST(AttentionMaps, JsonNamesTheMapAndItsHead) {
  AttentionMap m{"cross", 1, kHeadMean, {"<bos>", "a"}, {"a", "<eos>"}, {{0.1f, 0.9f}, {1, 0}}};
  EXPECT_EQ(to_json(m).dump(), R"({"kind":"cross","layer":1,"head":"mean","rows":["<bos>","a"],)"
                               R"("cols":["a","<eos>"],"weights":[[0.1,0.9],[1.0,0.0]]})");
  m.head = 0;
  EXPECT_EQ(to_json(m)["head"], 0);
}

TEST_F(AttentionTest, CommandWritesFilesAndJsonWithSpecExitCodes) {
  const fs::path run = dir_ / "run";
  CmdResult r = seqgrad(
      "train --steps 0 --d-model 16 --heads 2 --ff 32 --enc-layers 1 --dec-layers 1 "
      "--threads 1 --out '" +
      run.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string ck = (run / "ckpt-0.h5").string();
  const std::string base = "attention --threads 1 --checkpoint '" + ck + "' --input '3 1 4' ";

  r = seqgrad(base + "--out '" + (dir_ / "a.svg").string() + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::string why;
  const std::string svg = read_text(dir_ / "a.svg");
  EXPECT_TRUE(well_formed(svg, why)) << why;
  EXPECT_NE(svg.find("input:  3 1 4"), std::string::npos);
  r = seqgrad(base + "--out '" + (dir_ / "a.html").string() + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_text(dir_ / "a.html").rfind("<!DOCTYPE html>", 0), 0u);

  // --json: one object per map (3 kinds x 1 layer x (mean + 2 heads)), nothing else
  r = seqgrad(base + "--json");
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> maps;
  while (std::getline(lines, line)) maps.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(maps.size(), 9u);
  EXPECT_EQ(maps[0]["kind"], "encoder_self");
  EXPECT_EQ(maps[0]["head"], "mean");
  EXPECT_EQ(maps[1]["head"], 0);
  EXPECT_EQ(maps[0]["rows"], nlohmann::json({"3", "1", "4", "<eos>"}));
  EXPECT_EQ(maps[3]["kind"], "decoder_self");
  EXPECT_EQ(maps[3]["rows"][0], "<bos>");
  EXPECT_EQ(maps[6]["kind"], "cross");
  EXPECT_EQ(maps[6]["cols"], maps[0]["cols"]);
  EXPECT_EQ(maps[6]["weights"].size(), maps[6]["rows"].size());

  r = seqgrad(base + "--json --mean-only");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.out, "\n"), 3u);
  EXPECT_EQ(count(r.out, "\"head\":\"mean\""), 3u);

  auto one_error_line = [](const CmdResult& res, const std::string& names) {
    EXPECT_EQ(res.err.rfind("seqgrad: error: ", 0), 0u) << res.err;
    EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
    EXPECT_NE(res.err.find(names), std::string::npos) << res.err;
  };
  r = seqgrad(base + "--out '" + (dir_ / "a.png").string() + "'");
  EXPECT_EQ(r.code, 2);
  one_error_line(r, "--out");
  EXPECT_FALSE(fs::exists(dir_ / "a.png"));
  r = seqgrad(base);
  EXPECT_EQ(r.code, 2);
  one_error_line(r, "--out");
  r = seqgrad("attention --input x --out '" + (dir_ / "b.svg").string() + "'");
  EXPECT_EQ(r.code, 2);
  one_error_line(r, "--checkpoint");
  r = seqgrad("attention --checkpoint '" + ck + "' --input x --out b.svg --heads-all");
  EXPECT_EQ(r.code, 2);
  r = seqgrad("attention --checkpoint '" + (dir_ / "none.h5").string() + "' --input x --json");
  EXPECT_EQ(r.code, 1);
  one_error_line(r, "none.h5");

  // An unwritable --out is a run-time error that leaves no file behind, not even a temporary.
  std::ofstream(dir_ / "plain").put('x');
  r = seqgrad(base + "--out '" + (dir_ / "plain" / "c.svg").string() + "'");
  EXPECT_EQ(r.code, 1);
  one_error_line(r, "--out");
  fs::create_directory(dir_ / "taken.svg");
  fs::create_directory(dir_ / "taken.svg" / "inside");
  r = seqgrad(base + "--out '" + (dir_ / "taken.svg").string() + "'");
  EXPECT_EQ(r.code, 1);
  one_error_line(r, "--out");
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  EXPECT_TRUE(fs::is_directory(dir_ / "taken.svg" / "inside"));
}

}  // namespace
}  // namespace sg
