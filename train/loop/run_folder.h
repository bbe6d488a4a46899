// One training run per --out folder (docs/checkpoint.md, "Run folders").
//   RunLock      an exclusive advisory lock on <folder>/.seqgrad.lock, held by `train` for its
//                whole run (rank 0 under MPI). It is a POSIX record lock (fcntl F_SETLK): the
//                kernel drops it when the process ends however it ends, so a killed run never
//                leaves its folder locked, and F_GETLK names the holder's process id. It works on
//                NFS too (the folder every rank of a multi-machine run reaches).
//   run_files    the files a run writes into its folder: ckpt-<step>.h5, latest.h5, best.h5,
//                metrics.jsonl and report.html. A fresh run refuses a folder that holds any of
//                them, unless --overwrite removes them first.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sg {

class RunLock {
 public:
  // Takes the lock on `folder` (which must exist), or throws RunError "--out: 'FOLDER' is in use
  // by another training run (pid N)" at once when another process holds it.
  explicit RunLock(const std::string& folder);
  // Removes the lock file, then releases the lock.
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static constexpr const char* kFileName = ".seqgrad.lock";

 private:
  std::string path_;
  int fd_ = -1;
};

// The names of the run files in `folder` (see above), sorted by kind and step: checkpoints by
// step, then latest.h5, best.h5, metrics.jsonl, report.html. Empty if the folder does not exist.
std::vector<std::string> run_files(const std::string& folder);

// The numbered checkpoints ckpt-<step>.h5 in `folder` as (step, file name), by step.
std::vector<std::pair<int64_t, std::string>> numbered_checkpoints(const std::string& folder);

// The newest ckpt-<step>.h5 in `folder`, or "" if there is none.
std::string newest_checkpoint(const std::string& folder);

// Removes the run files of `folder` and fsyncs it. Throws RunError naming a file it cannot remove.
void remove_run_files(const std::string& folder);

}  // namespace sg
