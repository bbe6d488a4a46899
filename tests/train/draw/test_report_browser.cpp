// The report in a real browser: headless Chromium loads the report.html that training runs left
// and the test reads the pages' DOM. A harness page loads each report in an iframe of 1280 CSS
// pixels and writes, for every chart, its laid-out width, its ticks, legend entries and lines,
// and for every line the number of points of the SVG point list the browser parsed; Chromium
// prints that DOM when the load events have fired (--dump-dom). Every line must have one point
// per logged step (counted from metrics.jsonl here), every logged quantity a line, and a page of
// two runs the lines of both. No request: the browser's NetLog shows none from the pages, and
// their resource timing lists nothing. A control page that loads a stylesheet and an image from
// the network shows that both checks see requests.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "tests/train/draw/chromium.h"
#include "tests/train/seqgrad_process.h"

namespace sg {
namespace {

using namespace sg::testing;

// Loads the pages of PAGES in iframes and writes what it finds into #result as JSON: per page,
// its charts (key, width, ticks, legend entries, lines with kind, series, run and points), its
// attention maps and its resource timing entries. The iframes are made by the script before they
// load, so their load handlers are in place; the document's own load event waits for them.
constexpr const char* kHarness = R"HTML(<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body><pre id="result">not measured</pre><script>
const pages = PAGES;
const results = {};
function inspect(frame) {
  const doc = frame.contentDocument;
  return {
    charts: [...doc.querySelectorAll('svg.chart')].map(svg => ({
      chart: svg.dataset.chart,
      width: svg.getBoundingClientRect().width,
      ticks: svg.querySelectorAll('text.tick').length,
      legend: svg.querySelectorAll('.legend-entry').length,
      lines: [...svg.querySelectorAll('polyline.series')].map(p => ({
        kind: p.dataset.kind, series: p.dataset.series, run: Number(p.dataset.run),
        points: p.points.numberOfItems }))
    })),
    attention_maps: doc.querySelectorAll('.attention svg').length,
    resources: frame.contentWindow.performance.getEntriesByType('resource').map(r => r.name)
  };
}
for (const page of pages) {
  const frame = document.createElement('iframe');
  frame.style.width = '1280px';
  frame.style.height = '900px';
  frame.addEventListener('load', () => {
    try { results[page] = inspect(frame); } catch (e) { results[page] = {error: String(e)}; }
    if (Object.keys(results).length === pages.length)
      document.getElementById('result').textContent = JSON.stringify(results);
  });
  frame.src = page;
  document.body.appendChild(frame);
}
</script></body></html>
)HTML";

struct Inspected {
  nlohmann::json pages;                    // page -> what the harness found
  std::vector<std::string> page_requests;  // from the NetLog
};

Inspected inspect_in_browser(const fs::path& dir, const std::vector<std::string>& pages) {
  std::string html = kHarness;
  html.replace(html.find("PAGES"), 5, nlohmann::json(pages).dump());
  std::ofstream(dir / "harness.html") << html;
  const DumpedPage dumped = dump_dom(dir / "harness.html", dir / "chromium");
  const std::string result = element_text(dumped.dom, "result");
  Inspected out;
  try {
    out.pages = nlohmann::json::parse(result);
  } catch (const std::exception&) {
    ADD_FAILURE() << "the harness wrote no result: '" << result << "'\n" << dumped.dom;
  }
  out.page_requests = dumped.page_requests;
  return out;
}

// How many steps logged each quantity: "train/loss" -> 10, ... (a run without a resume).
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

std::vector<std::string> run_args(const std::string& out, const std::string& lr) {
  return std::vector<std::string>{"train", "--steps", "40", "--eval-every", "10", "--lr",
                                  lr,      "--out",   out} +
         tiny_model_logging_every(4);
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

  // One run, as `seqgrad train` left it; and both runs on one page.
  const Inspected seen = inspect_in_browser(dir_, {"a/report.html", "both.html"});
  for (const auto& [page, runs] : {std::pair{"a/report.html", 1}, std::pair{"both.html", 2}}) {
    SCOPED_TRACE(page);
    ASSERT_TRUE(seen.pages.contains(page)) << seen.pages.dump();
    const auto& found = seen.pages[page];
    ASSERT_FALSE(found.contains("error")) << found.dump();
    const auto& charts = found["charts"];
    // The loss; exact match, token accuracy, BLEU, chrF and outputs cut of the evaluations;
    // the learning rate, tokens/s and the padding share.
    ASSERT_EQ(charts.size(), 9u) << charts.dump();
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
    EXPECT_EQ(found["attention_maps"], 3 * runs);
    EXPECT_TRUE(found["resources"].empty()) << found["resources"].dump();
  }
  EXPECT_TRUE(seen.page_requests.empty()) << nlohmann::json(seen.page_requests).dump();
}

TEST_F(ReportInBrowser, TheChecksSeeAPageThatLoadsFromTheNetwork) {
  std::ofstream(dir_ / "fetches.html")
      << "<!DOCTYPE html><html><head>"
         "<link rel=\"stylesheet\" href=\"http://example.invalid/style.css\">"
         "</head><body><img src=\"http://example.invalid/chart.png\"></body></html>";
  const Inspected seen = inspect_in_browser(dir_, {"fetches.html"});
  const auto& found = seen.pages["fetches.html"];
  ASSERT_FALSE(found.contains("error")) << found.dump();
  EXPECT_EQ(found["resources"].size(), 2u) << found.dump();
  const std::set<std::string> requested(seen.page_requests.begin(), seen.page_requests.end());
  EXPECT_EQ(requested, (std::set<std::string>{"http://example.invalid/style.css",
                                              "http://example.invalid/chart.png"}));
}

}  // namespace
}  // namespace sg
