#include "datasets/tsv_examples.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>

#include "autograd/parallel.h"

namespace sg {

namespace {

// Lines are encoded this many at a time: enough for both threads to share, little memory.
constexpr size_t kChunkLines = 4096;

struct RawLine {
  std::string src, tgt;
  int64_t line = 0, offset = 0, bytes = 0;
};

// Encodes a chunk of lines on the threads of the pool and checks their sides. When several
// lines are bad, the error of the first one in the file is thrown, whatever the threads did.
std::vector<Example> encode_chunk(const std::vector<RawLine>& lines, const std::string& path,
                                  const TextCodec& src, const TextCodec& tgt,
                                  const TsvOptions& opt) {
  std::vector<Example> out(lines.size());
  std::vector<std::string> errors(lines.size());
  parallel_for(static_cast<int64_t>(lines.size()), 256, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const RawLine& l = lines[static_cast<size_t>(i)];
      try {
        Example& x = out[static_cast<size_t>(i)];
        x.src = src.encode(l.src);
        x.tgt = tgt.encode(l.tgt);
        check_tsv_side(path, l.line, "source", static_cast<int64_t>(x.src.size()), opt);
        check_tsv_side(path, l.line, "target", static_cast<int64_t>(x.tgt.size()), opt);
      } catch (const std::exception& ex) {
        const std::string msg = ex.what();
        const std::string where = tsv_where(path, l.line);
        errors[static_cast<size_t>(i)] = msg.rfind(where, 0) == 0 ? msg : where + msg;
      }
    }
  });
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  return out;
}

// Reads `path` in chunks, calling take(lines, their encoded pairs) for each; returns the file's
// fingerprint. A malformed line ends the reading, but the lines before it are encoded first, so
// that the error reported is always the first bad line's.
template <class Take>
FileFingerprint encode_file(const std::string& path, const TextCodec& src, const TextCodec& tgt,
                            const TsvOptions& opt, Take&& take) {
  TsvScanner scan(path, /*fingerprint=*/true);
  std::vector<RawLine> chunk;
  chunk.reserve(kChunkLines);
  for (bool more = true; more;) {
    std::exception_ptr scan_error;
    try {
      TsvLine l;
      while (chunk.size() < kChunkLines && (more = scan.next(l)))
        chunk.push_back({std::string(l.src), std::string(l.tgt), l.line, l.offset, l.bytes});
    } catch (...) {
      scan_error = std::current_exception();
    }
    if (!chunk.empty()) take(chunk, encode_chunk(chunk, path, src, tgt, opt));
    if (scan_error) std::rethrow_exception(scan_error);
    chunk.clear();
  }
  return scan.fingerprint();
}

}  // namespace

TsvExamples::TsvExamples(std::string path, TextCodec src, TextCodec tgt, const TsvOptions& opt)
    : path_(std::move(path)), src_(std::move(src)), tgt_(std::move(tgt)) {
  if (opt.max_len > std::numeric_limits<uint16_t>::max())
    throw std::invalid_argument("TsvExamples: a limit of " + std::to_string(opt.max_len) +
                                " tokens does not fit its 16-bit lengths");
  fingerprint_ = encode_file(
      path_, src_, tgt_, opt,
      [&](const std::vector<RawLine>& lines, const std::vector<Example>& xs) {
        for (size_t k = 0; k < lines.size(); ++k) {
          if (lines[k].bytes > std::numeric_limits<uint32_t>::max())
            throw std::runtime_error(tsv_where(path_, lines[k].line) + "a line of more than 4 GB");
          offset_.push_back(lines[k].offset);
          bytes_.push_back(static_cast<uint32_t>(lines[k].bytes));
          src_len_.push_back(static_cast<uint16_t>(xs[k].src.size()));
          tgt_len_.push_back(static_cast<uint16_t>(xs[k].tgt.size()));
        }
      });
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot open (" + std::strerror(errno) + ")");
}

TsvExamples::~TsvExamples() {
  if (fd_ >= 0) ::close(fd_);
}

Example TsvExamples::get(int64_t i) const {
  const auto k = static_cast<size_t>(i);
  const int64_t line = i + 1;  // every line of a good file is a pair
  auto changed = [&]() -> Example {
    throw std::runtime_error(tsv_where(path_, line) +
                             "the file changed since training started reading it");
  };
  std::string raw(bytes_[k], '\0');
  size_t got = 0;
  while (got < raw.size()) {
    const ssize_t n = ::pread(fd_, raw.data() + got, raw.size() - got,
                              static_cast<off_t>(offset_[k] + static_cast<int64_t>(got)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error(tsv_where(path_, line) + "read error (" + std::strerror(errno) +
                               ")");
    if (n == 0) return changed();
    got += static_cast<size_t>(n);
  }
  Example e;
  try {
    const TsvLine l = TsvScanner::parse(path_, raw, line, offset_[k]);
    e.src = src_.encode(l.src);
    e.tgt = tgt_.encode(l.tgt);
  } catch (const std::exception&) {
    return changed();
  }
  if (e.src.size() != src_len_[k] || e.tgt.size() != tgt_len_[k]) return changed();
  return e;
}

std::vector<Example> read_tsv_examples(const std::string& path, const TextCodec& src,
                                       const TextCodec& tgt, const TsvOptions& opt,
                                       std::vector<std::string>* tgt_texts,
                                       FileFingerprint* fingerprint) {
  std::vector<Example> out;
  if (tgt_texts) tgt_texts->clear();
  const FileFingerprint read = encode_file(
      path, src, tgt, opt, [&](const std::vector<RawLine>& lines, std::vector<Example>&& xs) {
        for (auto& x : xs) out.push_back(std::move(x));
        if (tgt_texts)
          for (const auto& l : lines) tgt_texts->push_back(l.tgt);
      });
  if (fingerprint) *fingerprint = read;
  return out;
}

}  // namespace sg
