// A headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for tests that
// load a page and look at it through its DOM. The protocol runs on a pipe
// (--remote-debugging-pipe): the browser reads commands from its fd 3 and writes replies and
// events to its fd 4, each a JSON object ended by '\0'.
//
// The network is watched two ways. Each page opens in a browser context of its own whose proxy
// is a loopback socket of this process (proxying loopback too), so any request the page makes
// beyond its own file arrives there: it is recorded and answered 502 at once. The page's
// Network events are recorded as well. The browser's own background traffic (component updates,
// time queries) does not use the page's context: it goes to the global --proxy-server, a second
// socket whose connections are closed unread.
//
// Waits are bounded by deadlines on poll(), never by sleeping.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg::testing {

class HeadlessChromium {
 public:
  // Starts the browser (--no-sandbox: CI runs as root, where Chromium's sandbox refuses to
  // start). Throws std::runtime_error when it cannot.
  explicit HeadlessChromium(const std::filesystem::path& profile_dir) : profile_(profile_dir) {
    ::signal(SIGPIPE, SIG_IGN);  // a browser that died is an error here, not a killed test
    proxy_ = listen_loopback(&proxy_port_);
    sink_ = listen_loopback(&sink_port_);
    int to_browser[2], from_browser[2];
    if (::pipe2(to_browser, O_CLOEXEC) != 0 || ::pipe2(from_browser, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    const std::string exe = std::filesystem::exists("/usr/lib/chromium/chromium")
                                ? "/usr/lib/chromium/chromium"
                                : "chromium";
    std::vector<std::string> args = {
        exe,
        "--headless",
        "--no-sandbox",
        "--remote-debugging-pipe",
        "--user-data-dir=" + profile_.string(),
        "--proxy-server=http://127.0.0.1:" + std::to_string(sink_port_),
        "--proxy-bypass-list=<-loopback>",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,1000",
        "about:blank"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // fd 3: commands in, fd 4: replies out (dup2 clears close-on-exec on the copies).
      if (::dup2(to_browser[0], 3) < 0 || ::dup2(from_browser[1], 4) < 0) ::_exit(127);
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_browser[0]);
    ::close(from_browser[1]);
    if (pid_ < 0) throw std::runtime_error("fork failed");
    to_ = to_browser[1];
    from_ = from_browser[0];
  }

  ~HeadlessChromium() {
    if (pid_ > 0) {
      try {
        send("Browser.close", {}, "");
        // The browser closes its end of the pipe when it exits.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (from_ >= 0 && std::chrono::steady_clock::now() < deadline) pump(500);
      } catch (...) {
      }
      if (from_ >= 0) ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    for (int fd : {to_, from_, proxy_, sink_})
      if (fd >= 0) ::close(fd);
  }

  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Opens `url` in a fresh browser context and waits for its load event.
  void open(const std::string& url) {
    page_requests_.clear();
    proxy_requests_.clear();
    const auto ctx = call("Target.createBrowserContext",
                          {{"proxyServer", "http://127.0.0.1:" + std::to_string(proxy_port_)},
                           {"proxyBypassList", "<-loopback>"}});
    const auto target =
        call("Target.createTarget",
             {{"url", "about:blank"}, {"browserContextId", ctx["browserContextId"]}});
    session_ = call("Target.attachToTarget",
                    {{"targetId", target["targetId"]}, {"flatten", true}})["sessionId"]
                   .get<std::string>();
    call("Network.enable", nlohmann::json::object(), session_);
    call("Page.enable", nlohmann::json::object(), session_);
    loaded_ = false;
    call("Page.navigate", {{"url", url}}, session_);
    // A load event of the blank page before it may still arrive: wait for the one of `url`.
    for (;;) {
      wait_for([&] { return loaded_; }, "the page's load event");
      loaded_ = false;
      if (evaluate("document.readyState === 'complete' && location.href") == url) break;
    }
  }

  // The value of a JavaScript expression in the page (JSON-serializable).
  nlohmann::json evaluate(const std::string& expression) {
    const auto r =
        call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}}, session_);
    if (r.contains("exceptionDetails"))
      throw std::runtime_error("evaluate: " + r["exceptionDetails"].dump());
    return r["result"].value("value", nlohmann::json());
  }

  // The URLs the page requested (Network.requestWillBeSent), its own document included.
  const std::vector<std::string>& page_requests() const { return page_requests_; }
  // The first line of every request that reached the page's proxy.
  std::vector<std::string> proxy_requests() {
    pump(0);
    return proxy_requests_;
  }

 private:
  static int listen_loopback(int* port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on a loopback socket");
    *port = ntohs(a.sin_port);
    return fd;
  }

  void send(const std::string& method, const nlohmann::json& params, const std::string& session) {
    nlohmann::json m = {{"id", ++last_id_}, {"method", method}, {"params", params}};
    if (!session.empty()) m["sessionId"] = session;
    const std::string bytes = m.dump() + '\0';
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(to_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) throw std::runtime_error("the browser stopped reading its pipe");
      done += static_cast<size_t>(n);
    }
  }

  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      const std::string& session = "") {
    send(method, params, session);
    const int64_t id = last_id_;
    nlohmann::json reply;
    wait_for(
        [&] {
          for (size_t i = 0; i < unclaimed_.size(); ++i)
            if (unclaimed_[i].value("id", int64_t{-1}) == id) {
              reply = unclaimed_[i];
              unclaimed_.erase(unclaimed_.begin() + static_cast<long>(i));
              return true;
            }
          return false;
        },
        method);
    if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
    return reply["result"];
  }

  template <class F>
  void wait_for(F&& done, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (!done()) {
      if (from_ < 0) throw std::runtime_error("the browser exited while waiting for " + what);
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("no " + what + " from the browser in 90 s");
      pump(1000);
    }
  }

  // Handles whatever is ready within `timeout_ms`: browser messages, proxy connections.
  void pump(int timeout_ms) {
    pollfd fds[3] = {{from_, POLLIN, 0}, {proxy_, POLLIN, 0}, {sink_, POLLIN, 0}};
    if (::poll(fds, 3, timeout_ms) <= 0) return;
    if (fds[1].revents & POLLIN) answer_proxy();
    if (fds[2].revents & POLLIN)
      for (int c; (c = ::accept4(sink_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) ::close(c);
    if (from_ >= 0 && (fds[0].revents & (POLLIN | POLLHUP))) {
      char buf[1 << 16];
      const ssize_t n = ::read(from_, buf, sizeof buf);
      if (n <= 0) {
        ::close(from_);
        from_ = -1;
        return;
      }
      pending_.append(buf, static_cast<size_t>(n));
      for (size_t end; (end = pending_.find('\0')) != std::string::npos;) {
        handle(nlohmann::json::parse(pending_.substr(0, end)));
        pending_.erase(0, end + 1);
      }
    }
  }

  void handle(nlohmann::json m) {
    const std::string method = m.value("method", "");
    if (method == "Page.loadEventFired" && m.value("sessionId", "") == session_) loaded_ = true;
    if (method == "Network.requestWillBeSent")
      page_requests_.push_back(m["params"]["request"].value("url", ""));
    if (m.contains("id")) unclaimed_.push_back(std::move(m));
  }

  void answer_proxy() {
    for (int c; (c = ::accept4(proxy_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      // The request line arrives with the connection (bounded wait, then whatever came).
      pollfd p{c, POLLIN, 0};
      std::string line = "(nothing sent)";
      if (::poll(&p, 1, 5000) > 0) {
        char buf[512];
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n > 0) {
          const std::string got(buf, static_cast<size_t>(n));
          line = got.substr(0, got.find('\r'));
        }
      }
      proxy_requests_.push_back(line);
      const char reply[] =
          "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      [[maybe_unused]] const ssize_t w = ::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::filesystem::path profile_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, proxy_ = -1, sink_ = -1, proxy_port_ = 0, sink_port_ = 0;
  int64_t last_id_ = 0;
  std::string pending_, session_;
  bool loaded_ = false;
  std::vector<nlohmann::json> unclaimed_;
  std::vector<std::string> page_requests_, proxy_requests_;
};

}  // namespace sg::testing
