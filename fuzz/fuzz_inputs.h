// The bodies of the libFuzzer targets (fuzz/fuzz_<target>.cpp), shared with the test suite,
// which replays every input committed under fuzz/regressions/<target>/.
//
// Each takes arbitrary bytes, writes them to a temporary file (the readers under test read
// files, HDF5 in particular), and runs on it what the CLI runs on such a file. The failures the
// CLI turns into one `seqgrad: error:` line (std::runtime_error, std::invalid_argument) are
// caught: the result is false. Anything else is a bug the fuzzer reports: a crash, a sanitizer
// report, a hang, an allocation beyond the fuzzer's limit, or any other exception escaping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sg::fuzz {

// TsvReader::load on the bytes after the first; the first byte picks the tokenization (bit 0:
// word or char) and the most tokens a side may have (bits 1-7: 1..128).
bool run_tsv(const uint8_t* data, size_t size);
// parse_config of `seqgrad train --config FILE` with the bytes as FILE, then dump_ini.
bool run_config(const uint8_t* data, size_t size);
// read_checkpoint, then a model and optimizer built from the checkpoint's config (refused above
// a small memory budget), load_model and load_optimizer: everything `--resume` reads.
bool run_checkpoint(const uint8_t* data, size_t size);

// A temporary file that holds the bytes (one name per process and target, rewritten on every
// call), removed when the object goes: a replay or a fuzzing run leaves nothing in the temp folder.
class TempFile {
 public:
  TempFile(const std::string& target, const uint8_t* data, size_t size);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  // The file's name for `target` in this process: the temp folder's seqgrad-fuzz-<target>-<pid>.
  static std::string path_for(const std::string& target);

 private:
  std::string path_;
};

}  // namespace sg::fuzz
