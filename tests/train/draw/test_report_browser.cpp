// The report in a real browser: headless Chromium loads the report.html a training run left
// and the test reads the page's DOM: every chart is laid out with ticks and a legend, and every
// line has one point per logged step (counted from metrics.jsonl here, and from the SVG point
// list the browser parsed there); several runs overlay their lines. The page makes no request:
// none reaches the page's proxy, the browser's Network events show the page's own file only, and
// the page lists no resource. A control page that does load something from the network shows
// that each of those three checks sees a request.
#include <gtest/gtest.h>

#include <set>

#include "tests/train/draw/chromium.h"
#include "tests/train/seqgrad_process.h"

namespace sg {
namespace {

using namespace sg::testing;

// For every chart: its key, its width as laid out, its ticks, legend entries and lines; for
// every line its kind, series, run and the points of its SVG point list.
constexpr const char* kChartsInDom = R"JS(JSON.stringify(
  [...document.querySelectorAll('svg.chart')].map(svg => ({
    chart: svg.dataset.chart,
    width: svg.getBoundingClientRect().width,
    ticks: svg.querySelectorAll('text.tick').length,
    legend: svg.querySelectorAll('.legend-entry').length,
    lines: [...svg.querySelectorAll('polyline.series')].map(p => ({
      kind: p.dataset.kind, series: p.dataset.series, run: Number(p.dataset.run),
      points: p.points.numberOfItems }))
  }))))JS";

// How many steps logged each quantity: "train/loss" -> 8, ... (a run without a resume).
std::map<std::string, int> logged_steps(const fs::path& metrics) {
  std::map<std::string, int> n;
  for (const std::string& line : lines_of(read_text(metrics))) {
    const auto j = nlohmann::json::parse(line);
    const std::string event = j["event"];
    if (event != "train" && event != "eval") continue;
    for (const auto& [key, value] : j.items())
      if (value.is_number() && key != "step" && key != "epoch" && key != "elapsed_s")
        ++n[event + "/" + key];
  }
  return n;
}

std::string file_url(const fs::path& p) {
  return "file://" + fs::absolute(p).lexically_normal().string();
}

std::vector<std::string> run_args(const std::string& out, const std::string& lr) {
  return std::vector<std::string>{"train", "--steps", "40", "--eval-every", "10", "--lr",
                                  lr,      "--out",   out} +
         tiny_model_logging_every(4);
}

void expect_no_request(HeadlessChromium& browser, const std::string& url) {
  EXPECT_TRUE(browser.proxy_requests().empty())
      << "reached the network: " << nlohmann::json(browser.proxy_requests()).dump();
  EXPECT_EQ(browser.page_requests(), std::vector<std::string>{url});
  EXPECT_EQ(browser.evaluate("performance.getEntriesByType('resource').length"), 0);
}

class ReportInBrowser : public ScratchTest {};

TEST_F(ReportInBrowser, EveryChartHasOnePointPerLoggedStepAndThePageMakesNoRequest) {
  for (const auto& [out, lr] : {std::pair{"a", "0.001"}, std::pair{"b", "0.003"}}) {
    const RunResult t = run(run_args(out, lr));
    ASSERT_EQ(t.code, 0) << describe(t);
  }
  const RunResult both = run({"report", "a", "b", "--out", "both.html", "--threads", "1"});
  ASSERT_EQ(both.code, 0) << describe(both);
  const std::map<std::string, int> logged[] = {logged_steps(dir_ / "a/metrics.jsonl"),
                                               logged_steps(dir_ / "b/metrics.jsonl")};
  ASSERT_EQ(logged[0].at("train/loss"), 10);  // every 4 steps
  ASSERT_EQ(logged[0].at("eval/loss"), 4);    // every 10

  HeadlessChromium browser(dir_ / "profile");
  // One run, as `seqgrad train` left it; then both runs on one page.
  for (const auto& [page, runs] : {std::pair{"a/report.html", 1}, std::pair{"both.html", 2}}) {
    SCOPED_TRACE(page);
    const std::string url = file_url(dir_ / page);
    browser.open(url);
    const auto charts = nlohmann::json::parse(browser.evaluate(kChartsInDom).get<std::string>());
    ASSERT_EQ(charts.size(), 6u) << charts.dump();  // loss, 3 validation metrics, lr, tokens/s
    std::set<std::string> drawn;
    for (const auto& c : charts) {
      SCOPED_TRACE(c["chart"].get<std::string>());
      EXPECT_GT(c["width"].get<double>(), 400);  // laid out, two to a row
      EXPECT_GE(c["ticks"].get<int>(), 6);       // both axes have ticks
      EXPECT_EQ(c["legend"], c["lines"].size());
      ASSERT_FALSE(c["lines"].empty());
      for (const auto& l : c["lines"]) {
        const std::string key = l["kind"].get<std::string>() + "/" + l["series"].get<std::string>();
        const int run = l["run"];
        ASSERT_LT(run, runs);
        EXPECT_EQ(l["points"], logged[run].at(key)) << key << " of run " << run;
        drawn.insert(key + "/" + std::to_string(run));
      }
    }
    // Every logged quantity of every run is drawn.
    for (int r = 0; r < runs; ++r)
      for (const auto& [key, n] : logged[r])
        EXPECT_TRUE(drawn.count(key + "/" + std::to_string(r))) << key << " of run " << r;
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('.attention svg').length"), 3 * runs);
    expect_no_request(browser, url);
  }
}

TEST_F(ReportInBrowser, TheChecksSeeAPageThatLoadsFromTheNetwork) {
  const fs::path page = dir_ / "fetches.html";
  std::ofstream(page)
      << "<!DOCTYPE html><html><head>"
         "<link rel=\"stylesheet\" href=\"http://example.invalid/style.css\">"
         "</head><body><img src=\"http://example.invalid/chart.png\"></body></html>";
  HeadlessChromium browser(dir_ / "profile");
  const std::string url = file_url(page);
  browser.open(url);
  const auto proxied = browser.proxy_requests();
  EXPECT_FALSE(proxied.empty());
  EXPECT_TRUE(std::any_of(proxied.begin(), proxied.end(), [](const std::string& l) {
    return l.find("example.invalid/chart.png") != std::string::npos;
  })) << nlohmann::json(proxied).dump();
  EXPECT_GT(browser.page_requests().size(), 1u);
  EXPECT_GE(browser.evaluate("performance.getEntriesByType('resource').length").get<int>(), 1);
}

}  // namespace
}  // namespace sg
