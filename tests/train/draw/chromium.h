// Headless Chromium (Debian's `chromium`) for tests that look at a page through its DOM: one
// browser process per call, started with --dump-dom, which prints the DOM once the page's load
// event has fired and then exits. Nothing waits on a clock: the test blocks on the process.
//
// A page made for the test (a "harness") can load other pages in iframes and write what it
// finds in their DOM (counts, laid-out sizes, resource timing) into its own DOM, where the
// dump carries it out; --allow-file-access-from-files lets a file:// harness read file:// frames.
//
// The network: every host name resolves to nothing (--host-resolver-rules), so a request fails
// at once instead of reaching anywhere, and the browser logs its network activity to a NetLog
// file (--log-net-log) that is read when it has exited. The requests of the page (and its frames)
// are the URL requests whose network isolation key is the file:// site; the browser's own
// background requests (component updates, time queries) have other keys and are left out.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg::testing {

struct DumpedPage {
  std::string dom;                         // the serialized DOM after the load event
  std::vector<std::string> page_requests;  // network URLs the page requested
};

// "file:///abs/path" of a file.
inline std::string file_url(const std::filesystem::path& p) {
  return "file://" + std::filesystem::absolute(p).lexically_normal().string();
}

// Loads `page` in headless Chromium and returns its DOM and the network requests it made.
// `scratch` (a folder of the test) receives the profile, the NetLog and the browser's stderr.
// Throws std::runtime_error naming what failed, with the browser's stderr.
inline DumpedPage dump_dom(const std::filesystem::path& page,
                           const std::filesystem::path& scratch) {
  namespace fs = std::filesystem;
  fs::create_directories(scratch);
  const fs::path profile = scratch / "profile", netlog = scratch / "netlog.json",
                 dom = scratch / "dom.html", err = scratch / "chromium.stderr";
  fs::remove_all(profile);
  const std::string exe =
      fs::exists("/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : "chromium";
  std::vector<std::string> args = {exe,
                                   "--headless",
                                   "--no-sandbox",  // CI runs as root, where the sandbox refuses
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-extensions",
                                   "--allow-file-access-from-files",
                                   "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--window-size=1400,1000",
                                   "--user-data-dir=" + profile.string(),
                                   "--log-net-log=" + netlog.string(),
                                   "--dump-dom",
                                   file_url(page)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string dom_s = dom.string(), err_s = err.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(dom_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || e < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(e, 2) < 0)
      ::_exit(126);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  const std::string stderr_text = slurp(err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("chromium (" + exe + ") failed with status " + std::to_string(status) +
                             (WIFEXITED(status) && WEXITSTATUS(status) == 127
                                  ? ": not installed? (scripts/install_packages.sh installs it)"
                                  : "") +
                             "\n" + stderr_text);
  DumpedPage result;
  result.dom = slurp(dom);
  nlohmann::json log;
  try {
    log = nlohmann::json::parse(slurp(netlog));
  } catch (const std::exception& e) {
    throw std::runtime_error("unreadable NetLog " + netlog.string() + ": " + e.what());
  }
  const auto& types = log.at("constants").at("logEventTypes");
  const int start_job = types.at("URL_REQUEST_START_JOB").get<int>();
  for (const auto& event : log.at("events")) {
    if (event.value("type", -1) != start_job || !event.contains("params")) continue;
    const auto& params = event["params"];
    if (params.value("network_isolation_key", "").rfind("file://", 0) == 0)
      result.page_requests.push_back(params.value("url", ""));
  }
  return result;
}

// The text of the element with id `id` in a serialized DOM (&amp; &lt; &gt; &quot; undone).
inline std::string element_text(const std::string& dom, const std::string& id) {
  const size_t open = dom.find("id=\"" + id + "\"");
  if (open == std::string::npos) return "";
  const size_t from = dom.find('>', open) + 1, to = dom.find("</", from);
  std::string raw = dom.substr(from, to - from), text;
  for (size_t i = 0; i < raw.size(); ++i) {
    bool replaced = false;
    for (const auto& [entity, c] :
         {std::pair{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}}) {
      const std::string e = entity;
      if (raw.compare(i, e.size(), e) == 0) {
        text += c;
        i += e.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) text += raw[i];
  }
  return text;
}

}  // namespace sg::testing
