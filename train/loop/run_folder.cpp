#include "train/loop/run_folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "train/checkpoint/checkpoint.h"
#include "train/config/errors.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

// The process id of the lock's holder: what F_GETLK reports, or else (a holder in another pid
// namespace shows as 0) what the holder wrote into the file. -1: nobody holds it any more.
long lock_holder(int fd) {
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  if (::fcntl(fd, F_GETLK, &probe) != 0) return 0;
  if (probe.l_type == F_UNLCK) return -1;
  if (probe.l_pid > 0) return probe.l_pid;
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::strtol(text, nullptr, 10) : 0;
}

}  // namespace

RunLock::RunLock(const std::string& folder) : path_((fs::path(folder) / kFileName).string()) {
  // The holder removes the file when it ends, so the file this process opened may be gone (or
  // replaced) by the time it holds the lock: it then tries again on the file now at the path.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw RunError("--out: cannot create the lock file " + path_ + ": " + std::strerror(errno));
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &lk) != 0) {
      const int err = errno;
      const long holder = (err == EACCES || err == EAGAIN) ? lock_holder(fd) : 0;
      ::close(fd);
      if (err != EACCES && err != EAGAIN)
        throw RunError("--out: cannot lock " + path_ + ": " + std::strerror(err));
      if (holder < 0) continue;  // released in the meantime
      throw RunError("--out: '" + folder + "' is in use by another training run (" +
                     (holder > 0 ? "pid " + std::to_string(holder) : std::string("pid unknown")) +
                     "); wait for it to end or choose another --out");
    }
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      // The process id, for people and scripts that look (the lock itself names it too).
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // Not needed for the lock: a full disk is reported by the first save.
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw RunError("--out: cannot lock " + path_ + ": it keeps being replaced");
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still held: a process that opened it will try again
  ::close(fd_);
}

std::vector<std::pair<int64_t, std::string>> numbered_checkpoints(const std::string& folder) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    const int64_t step = checkpoint_step_of(name);
    if (step >= 0) out.emplace_back(step, name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> run_files(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& [step, name] : numbered_checkpoints(folder)) out.push_back(name);
  for (const char* name : {"latest.h5", "best.h5", "metrics.jsonl", "report.html"}) {
    std::error_code ec;
    // symlink_status: a latest.h5 whose checkpoint is gone still belongs to the old run. A
    // folder of one of these names is not a run's file (a run never writes one).
    const fs::file_status st = fs::symlink_status(fs::path(folder) / name, ec);
    if (fs::exists(st) && !fs::is_directory(st)) out.emplace_back(name);
  }
  return out;
}

std::string newest_checkpoint(const std::string& folder) {
  const auto all = numbered_checkpoints(folder);
  return all.empty() ? "" : (fs::path(folder) / all.back().second).string();
}

void remove_run_files(const std::string& folder) {
  for (const std::string& name : run_files(folder)) {
    std::error_code ec;
    const fs::path p = fs::path(folder) / name;
    fs::remove(p, ec);
    if (ec) throw RunError("--overwrite: cannot remove " + p.string() + ": " + ec.message());
  }
  sync_folder(folder);
}

}  // namespace sg
