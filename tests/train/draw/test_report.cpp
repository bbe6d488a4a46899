// The report: metrics.jsonl read as one point per logged step (a resumed run's repeated steps
// replaced, a cut-short last line ignored, a malformed line an error naming file and line); charts
// with round ticks and one polyline point per logged step; a page that needs nothing from
// anywhere. `seqgrad train` leaves it in --out, rewritten atomically after every evaluation, and
// `seqgrad report` writes it for one or several runs, with the exit codes of docs/cli.md on bad
// input.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/train/draw/html_scan.h"
#include "tests/train/seqgrad_process.h"
#include "train/draw/chart.h"
#include "train/draw/report.h"
#include "train/draw/run_contents.h"

namespace sg {
namespace {

using namespace sg::testing;

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + what.size())) ++n;
  return n;
}

// The polylines of a page: "chart/kind/series/run" -> the number of "x,y" pairs in points.
std::map<std::string, int> polylines(const std::string& html) {
  std::map<std::string, int> out;
  const auto lines = start_tags(html, "polyline");
  for (const StartTag& svg : start_tags(html, "svg")) {
    if (svg.attrs.count("class") == 0 || svg.attrs.at("class") != "chart") continue;
    const size_t end = html.find("</svg>", svg.at);
    for (const StartTag& p : lines) {
      if (p.at < svg.at || p.at > end || p.attrs.at("class") != "series") continue;
      const int pairs = static_cast<int>(svg_points(p.attrs.at("points")).size());
      EXPECT_EQ(pairs, std::stoi(p.attrs.at("data-points"))) << "data-points disagrees with points";
      out[svg.attrs.at("data-chart") + "/" + p.attrs.at("data-kind") + "/" +
          p.attrs.at("data-series") + "/" + p.attrs.at("data-run")] = pairs;
    }
  }
  return out;
}

const char* const kResumedMetrics =
    R"({"event":"train","step":10,"epoch":0,"loss":3.0,"lr":0.1,"tokens_per_s":100}
{"event":"train","step":20,"epoch":0,"loss":2.0,"lr":0.2,"tokens_per_s":110}
{"event":"eval","step":20,"loss":2.5,"token_acc":0.5,"exact_match":0.1,"bleu":5,"elapsed_s":1.5}
{"event":"train","step":30,"epoch":0,"loss":1.5,"lr":0.3,"tokens_per_s":120}
{"event":"train","step":40,"epoch":0,"loss":1.0,"lr":0.4,"tokens_per_s":130}
{"event":"eval","step":40,"loss":1.2,"token_acc":0.7,"exact_match":0.3,"bleu":25,"elapsed_s":3}
{"event":"train","step":30,"epoch":0,"loss":1.6,"lr":0.3,"tokens_per_s":90}
{"event":"train","step":40,"epoch":0,"loss":1.1,"lr":0.4,"tokens_per_s":95}
{"event":"eval","step":40,"loss":1.3,"token_acc":0.6,"exact_match":0.2,"bleu":20,"elapsed_s":2.5}
{"event":"done","step":40,"checkpoint":"x/ckpt-40.h5"}
)";

class ReportFiles : public ScratchTest {};

TEST_F(ReportFiles, AResumedRunKeepsOnePointPerStepTheNewest) {
  write(dir_ / "m.jsonl", kResumedMetrics);
  const RunMetrics m = read_metrics(path("m.jsonl"));
  const Series* loss = m.find(m.train, "loss");
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->steps, (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(loss->values, (std::vector<double>{3.0, 2.0, 1.6, 1.1}));
  const Series* valid = m.find(m.eval, "loss");
  ASSERT_NE(valid, nullptr);
  EXPECT_EQ(valid->steps, (std::vector<int64_t>{20, 40}));
  EXPECT_EQ(valid->values, (std::vector<double>{2.5, 1.3}));
  EXPECT_EQ(m.find(m.train, "epoch"), nullptr);     // not a quantity to chart
  EXPECT_EQ(m.find(m.eval, "elapsed_s"), nullptr);  // kept apart
  EXPECT_EQ(m.elapsed_s, 2.5);
  EXPECT_TRUE(m.done);
  EXPECT_EQ(m.last_step, 40);
  EXPECT_EQ(m.train.size(), 3u);  // loss, lr, tokens_per_s
  EXPECT_EQ(m.eval.size(), 4u);   // loss, token_acc, exact_match, bleu
}

TEST_F(ReportFiles, ANewRunInTheSameFileStartsOver) {
  write(dir_ / "m.jsonl",
        std::string(kResumedMetrics) +
            R"({"event":"train","step":10,"epoch":0,"loss":9,"lr":1,"tokens_per_s":1}
)");
  const RunMetrics m = read_metrics(path("m.jsonl"));
  EXPECT_EQ(m.find(m.train, "loss")->steps, (std::vector<int64_t>{10}));
  EXPECT_TRUE(m.find(m.eval, "loss")->steps.empty());
  EXPECT_FALSE(m.done);
}

TEST_F(ReportFiles, ACutShortLastLineIsIgnoredAMalformedOneIsAnError) {
  write(dir_ / "cut.jsonl", std::string(kResumedMetrics) + R"({"event":"train","st)");
  EXPECT_EQ(read_metrics(path("cut.jsonl")).last_step, 40);
  write(dir_ / "bad.jsonl", "{\"event\":\"train\",\"step\":1,\"loss\":1}\nnot json\n");
  try {
    read_metrics(path("bad.jsonl"));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), path("bad.jsonl") + ":2: not a JSON object");
  }
  write(dir_ / "nostep.jsonl", "{\"event\":\"eval\",\"loss\":1}\n");
  EXPECT_THROW(read_metrics(path("nostep.jsonl")), std::runtime_error);
}

TEST_F(ReportFiles, NullsAreNoPointsOtherEventsAreSkippedNoFileIsEmpty) {
  write(dir_ / "m.jsonl",
        "{\"event\":\"train\",\"step\":1,\"loss\":null,\"lr\":0.5}\n"
        "{\"event\":\"hello\",\"anything\":true}\n"
        "{\"event\":\"train\",\"step\":2,\"loss\":2,\"lr\":0.5}\n");
  const RunMetrics m = read_metrics(path("m.jsonl"));
  EXPECT_EQ(m.find(m.train, "loss")->steps, (std::vector<int64_t>{2}));
  EXPECT_EQ(m.find(m.train, "lr")->steps, (std::vector<int64_t>{1, 2}));
  const RunMetrics none = read_metrics(path("missing.jsonl"));
  EXPECT_TRUE(none.train.empty() && none.eval.empty());
}

TEST(Chart, RoundTicks) {
  EXPECT_EQ(nice_ticks(0, 3000, 6), (std::vector<double>{0, 500, 1000, 1500, 2000, 2500, 3000}));
  const auto t = nice_ticks(0, 0.93, 5);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  EXPECT_NEAR(t[1], 0.2, 1e-12);
  EXPECT_EQ(log_ticks(0.01, 10), (std::vector<double>{0.01, 0.1, 1, 10}));
  EXPECT_EQ(log_ticks(0.1, 10), (std::vector<double>{0.1, 0.2, 0.5, 1, 2, 5, 10}));
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(0.25), "0.25");
  EXPECT_EQ(format_tick(2500), "2500");
  EXPECT_EQ(format_tick(12000), "12k");
  EXPECT_EQ(format_tick(1.5e6), "1.5M");
  EXPECT_EQ(format_tick(1e-4), "1e-4");
  EXPECT_EQ(format_tick(5e-4), "5e-4");
  EXPECT_EQ(format_tick(-0.5), "-0.5");
}

Series series(const std::string& name, int n, double first, double factor) {
  Series s{name, {}, {}};
  double v = first;
  for (int i = 1; i <= n; ++i, v *= factor) {
    s.steps.push_back(50 * i);
    s.values.push_back(v);
  }
  return s;
}

TEST(Chart, OnePointPerLoggedStepInsideThePlot) {
  const Series loss = series("loss", 60, 2.3, 0.9), valid = series("loss", 7, 2.0, 0.5);
  ChartSpec c{"loss", "Loss", {}, YScale::automatic, std::nullopt, 3000};
  c.lines.push_back(ChartLine{"training", "#1f77b4", false, &loss, 0, "train"});
  c.lines.push_back(ChartLine{"validation", "#e8590c", false, &valid, 0, "eval"});
  const std::string svg = render_chart(c);
  const auto lines = polylines(svg);
  EXPECT_EQ(lines.at("loss/train/loss/0"), 60);
  EXPECT_EQ(lines.at("loss/eval/loss/0"), 7);
  EXPECT_NE(svg.find("Loss (log scale)"), std::string::npos);       // 2.3 down to 0.004
  EXPECT_EQ(count(svg, "<circle"), 67);                             // few points: a marker each
  EXPECT_NE(svg.find("training, step 3000: "), std::string::npos);  // the tooltip
  EXPECT_NE(svg.find(">3000</text>"), std::string::npos);           // the last step tick
  // Every point lies inside the plot (x from 64 to 578).
  for (const StartTag& p : start_tags(svg, "polyline"))
    for (const auto& [x, y] : svg_points(p.attrs.at("points"))) {
      EXPECT_GE(x, 64.0);
      EXPECT_LE(x, 578.0);
    }
  // Many points: no markers, every point still in the line.
  const Series dense = series("lr", 500, 1, 1);
  ChartSpec d{"lr",           "Learning rate", {{"lr", "#1f77b4", false, &dense, 0, "train"}},
              YScale::linear, std::nullopt,    0};
  const std::string dense_svg = render_chart(d);
  EXPECT_EQ(polylines(dense_svg).at("lr/train/lr/0"), 500);
  EXPECT_EQ(count(dense_svg, "<circle"), 0);
  EXPECT_EQ(dense_svg.find("log scale"), std::string::npos);
}

ReportRun synthetic_run(const std::string& name, double lr) {
  ReportRun r;
  r.name = name;
  r.metrics.train = {series("loss", 20, 2.3, 0.8), series("lr", 20, lr, 1),
                     series("tokens_per_s", 20, 9000, 1)};
  r.metrics.eval = {series("loss", 5, 2.0, 0.5), series("exact_match", 5, 0.1, 1.5),
                    series("bleu", 5, 10, 1.5)};
  r.metrics.last_step = 1000;
  r.config = {{"task", "copy"}, {"lr", lr}, {"steps", 1000}};
  return r;
}

TEST(Report, NeedsNothingFromAnywhere) {
  const std::string html = render_report({synthetic_run("runs/a", 1e-3)});
  for (const char* outside : {"<script", "<link", "<img", "<iframe", "@import",
                              "src=", "http:", "https:", "//", "url(\""})
    EXPECT_EQ(html.find(outside), std::string::npos) << outside;
  EXPECT_NE(html.find("</html>\n"), std::string::npos);
  const auto lines = polylines(html);
  EXPECT_EQ(lines.size(), 6u);  // training and validation loss, exact match, BLEU, lr, tokens/s
  EXPECT_EQ(lines.at("loss/train/loss/0"), 20);
  EXPECT_EQ(lines.at("loss/eval/loss/0"), 5);
  EXPECT_EQ(lines.at("valid_exact_match/eval/exact_match/0"), 5);
  EXPECT_EQ(lines.at("valid_bleu/eval/bleu/0"), 5);
  EXPECT_EQ(lines.at("train_lr/train/lr/0"), 20);
  EXPECT_EQ(lines.at("train_tokens_per_s/train/tokens_per_s/0"), 20);
  // The charts in a fixed order: loss, the validation metrics, then learning rate and speed.
  EXPECT_LT(html.find("data-chart=\"loss\""), html.find("data-chart=\"valid_exact_match\""));
  EXPECT_LT(html.find("data-chart=\"valid_exact_match\""), html.find("data-chart=\"valid_bleu\""));
  EXPECT_LT(html.find("data-chart=\"valid_bleu\""), html.find("data-chart=\"train_lr\""));
  EXPECT_NE(html.find("<dt>task</dt><dd>copy</dd>"), std::string::npos);
}

TEST(Report, SeveralRunsShareTheChartsAndCompareConfigurations) {
  const std::string html =
      render_report({synthetic_run("runs/a", 1e-3), synthetic_run("runs/b", 3e-3)});
  const auto lines = polylines(html);
  EXPECT_EQ(lines.size(), 12u);
  for (const char* run : {"0", "1"}) {
    EXPECT_EQ(lines.at(std::string("loss/train/loss/") + run), 20);
    EXPECT_EQ(lines.at(std::string("valid_bleu/eval/bleu/") + run), 5);
  }
  EXPECT_NE(html.find(">runs/a training<"), std::string::npos);  // the legend names both
  EXPECT_NE(html.find(">runs/b validation<"), std::string::npos);
  // The option that differs comes first and is marked.
  const size_t differs = html.find("<tr class=\"differs\"><td class=\"mono\">lr</td>");
  ASSERT_NE(differs, std::string::npos);
  EXPECT_LT(differs, html.find("<td class=\"mono\">task</td>"));
}

// --- the commands -------------------------------------------------------------------------

std::vector<std::string> short_run(const std::string& out, const std::string& lr = "0.001",
                                   const std::string& steps = "30") {
  return tiny_model_logging_every(5) +
         std::vector<std::string>{"--steps", steps, "--eval-every", "10", "--save-every", "15",
                                  "--lr",    lr,    "--out",        out};
}

// The temporary files (".<name>.tmp-<pid>") in a folder.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      out.push_back(e.path().filename().string());
  return out;
}

class ReportCommand : public ScratchTest {};

TEST_F(ReportCommand, TrainLeavesTheReportAndReportRewritesIt) {
  const RunResult t = train(short_run("run"));
  ASSERT_EQ(t.code, 0) << describe(t);
  const std::string html = read_text(dir_ / "run/report.html");
  EXPECT_NE(html.find("finished at step 30"), std::string::npos);
  const auto lines = polylines(html);
  EXPECT_EQ(lines.at("loss/train/loss/0"), 6);  // every 5 steps
  EXPECT_EQ(lines.at("loss/eval/loss/0"), 3);   // every 10
  EXPECT_EQ(lines.at("valid_exact_match/eval/exact_match/0"), 3);
  EXPECT_EQ(lines.at("valid_token_acc/eval/token_acc/0"), 3);
  EXPECT_EQ(lines.at("valid_bleu/eval/bleu/0"), 3);
  EXPECT_EQ(lines.at("train_lr/train/lr/0"), 6);
  EXPECT_EQ(lines.at("train_tokens_per_s/train/tokens_per_s/0"), 6);
  EXPECT_EQ(lines.at("valid_cut_at_max_len/eval/cut_at_max_len/0"), 3);
  EXPECT_EQ(lines.at("valid_chrf/eval/chrf/0"), 3);
  EXPECT_EQ(lines.at("train_pad_share/train/pad_share/0"), 6);
  for (const char* file : {">ckpt-15.h5<", ">ckpt-30.h5<", ">best.h5<"})
    EXPECT_NE(html.find(file), std::string::npos) << file;
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 9);  // the charts, then 3 attention examples:
  EXPECT_EQ(count(html, "<div class=\"attention\">"), 3);
  EXPECT_NE(html.find("Example 3"), std::string::npos);
  EXPECT_NE(html.find("<dt>eval_every</dt><dd>10</dd>"), std::string::npos);
  EXPECT_TRUE(temporaries(dir_ / "run").empty());  // no temporary left behind

  fs::remove(dir_ / "run/report.html");
  const RunResult r = run({"report", "run", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.out, "wrote run/report.html\n");
  EXPECT_EQ(r.err, "");
  const std::string again = read_text(dir_ / "run/report.html");
  EXPECT_EQ(polylines(again), lines);
  EXPECT_NE(again.find("Greedy decoding by ckpt-30.h5 (step 30)"), std::string::npos);
  EXPECT_EQ(count(again, "<div class=\"attention\">"), 3);
}

TEST_F(ReportCommand, SeveralRunsOverlayTheirCurves) {
  ASSERT_EQ(train(short_run("a")).code, 0);
  ASSERT_EQ(train(short_run("b", "0.003")).code, 0);
  const RunResult r =
      run({"report", "a", "b", "--out", "both.html", "--examples", "1", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.out, "wrote both.html\n");
  const std::string html = read_text(dir_ / "both.html");
  const auto lines = polylines(html);
  EXPECT_EQ(lines.size(), 20u);  // 10 lines of each run
  EXPECT_EQ(lines.at("loss/eval/loss/1"), 3);
  EXPECT_EQ(lines.at("train_lr/train/lr/1"), 6);
  EXPECT_NE(html.find("<tr class=\"differs\"><td class=\"mono\">lr</td>"), std::string::npos);
  EXPECT_EQ(count(html, "<div class=\"attention\">"), 2);
}

TEST_F(ReportCommand, BadInputGetsOneErrorLine) {
  expect_one_error_line(run({"report"}), 2, "no run folder given");
  expect_one_error_line(run({"report", "nowhere"}), 1, "'nowhere': no such folder");
  write(dir_ / "file", "x");
  expect_one_error_line(run({"report", "file"}), 1, "'file' is not a folder");
  fs::create_directories(dir_ / "empty");
  expect_one_error_line(run({"report", "empty"}), 1, "'empty' is not a run folder");
  EXPECT_TRUE(fs::is_empty(dir_ / "empty"));
  fs::create_directories(dir_ / "bad");
  write(dir_ / "bad/metrics.jsonl", "{\"event\":\"train\",\"step\":1,\"loss\":1}\n{oops}\n");
  expect_one_error_line(run({"report", "bad"}), 1, "bad/metrics.jsonl:2: not a JSON object");
  EXPECT_FALSE(fs::exists(dir_ / "bad/report.html"));
  expect_one_error_line(run({"report", "bad", "--examples", "-1"}), 2, "--examples");
  expect_one_error_line(run({"report", "bad", "--bogus"}), 2, "bogus");
}

TEST_F(ReportCommand, AnUnwritableOutputLeavesNothingBehind) {
  ASSERT_EQ(train(short_run("run", "0.001", "10")).code, 0);
  const std::string before = read_text(dir_ / "run/report.html");
  fs::create_directories(dir_ / "taken.html");  // a folder where the file would go
  expect_one_error_line(run({"report", "run", "--out", "taken.html", "--examples", "0"}), 1,
                        "--out: ");
  // A file where a folder of --out should be (missing folders are created).
  write(dir_ / "plain", "a file");
  expect_one_error_line(run({"report", "run", "--out", "plain/dir/r.html", "--examples", "0"}), 1,
                        "--out: cannot create the folder 'plain/dir'");
  EXPECT_TRUE(fs::is_empty(dir_ / "taken.html"));
  EXPECT_TRUE(temporaries(dir_).empty());
  EXPECT_EQ(read_text(dir_ / "run/report.html"), before);
}

TEST_F(ReportCommand, AnUnreadableCheckpointIsShownNotFatal) {
  ASSERT_EQ(train(short_run("run")).code, 0);
  write(dir_ / "run/ckpt-99.h5", "not an HDF5 file");
  fs::remove(dir_ / "run/latest.h5");
  fs::create_symlink("ckpt-99.h5", dir_ / "run/latest.h5");
  const RunResult r = run({"report", "run", "--threads", "1", "--examples", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(r.err, "");  // no HDF5 error stack either
  const std::string html = read_text(dir_ / "run/report.html");
  EXPECT_NE(html.find("unreadable: "), std::string::npos);
  // The maps come from the newest checkpoint that can be read.
  EXPECT_NE(html.find("Greedy decoding by best.h5 (step 30)"), std::string::npos);
}

TEST_F(ReportCommand, TrainingGoesOnWhenTheReportCannotBeWritten) {
  fs::create_directories(dir_ / "run/report.html");  // a folder where the page would go
  const RunResult t = train(short_run("run"));
  ASSERT_EQ(t.code, 0) << describe(t);
  const auto lines = lines_of(t.err);
  ASSERT_EQ(lines.size(), 1u) << t.err;  // one warning, not one per evaluation
  EXPECT_EQ(lines[0].rfind("seqgrad: warning: run/report.html not written (", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("); training goes on"), std::string::npos) << lines[0];
  EXPECT_TRUE(fs::exists(dir_ / "run/ckpt-30.h5"));
  EXPECT_TRUE(temporaries(dir_ / "run").empty());
}

// While a run trains, report.html is rewritten after every evaluation, and whoever reads it (a
// browser reloading) only ever sees a whole page: each write goes to a temporary file that is
// renamed over the old one.
TEST_F(ReportCommand, TrainingRewritesTheReportWholeAfterEveryEvaluation) {
  const pid_t pid = spawn_seqgrad(
      std::vector<std::string>{"train", "--steps", "1000000", "--eval-every", "2", "--out", "run"} +
          tiny_model_logging_every(1),
      dir_, dir_ / "out.txt", dir_ / "err.txt");
  const fs::path report = dir_ / "run/report.html";
  // The first evaluation's report, while the run goes on.
  ASSERT_TRUE(wait_until([&] { return fs::exists(report); }, pid)) << read_text(dir_ / "err.txt");
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT), 0);
  ASSERT_EQ(info.si_pid, 0) << "the run ended early: " << read_text(dir_ / "err.txt");
  // Read it again and again while it is rewritten, until 20 evaluations are in it.
  int reads = 0, evals = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (evals < 20) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "hung at " << evals << " evaluations";
    const std::string html = read_text(report);
    ++reads;
    ASSERT_GE(html.size(), 9u);
    ASSERT_EQ(html.substr(html.size() - 8), "</html>\n") << "a partial page, read " << reads;
    EXPECT_NE(html.find("(running, or stopped)"), std::string::npos);
    const auto lines = polylines(html);
    const auto it = lines.find("loss/eval/loss/0");
    ASSERT_NE(it, lines.end());
    EXPECT_GE(it->second, evals);  // never goes back
    evals = it->second;
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT), 0);
    ASSERT_EQ(info.si_pid, 0) << "the run ended: " << read_text(dir_ / "err.txt");
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 1);
  EXPECT_TRUE(temporaries(dir_ / "run").empty());
  const std::string last = read_text(report);
  EXPECT_EQ(last.substr(last.size() - 8), "</html>\n");
}

}  // namespace
}  // namespace sg
