#include "datasets/stream_batcher.h"

#include <stdexcept>

namespace sg {

StreamBatcher::StreamBatcher(TaskStream& stream, int64_t batch_size)
    : stream_(stream), batch_size_(batch_size) {
  if (batch_size < 1)
    throw std::invalid_argument("--batch must be >= 1, got " + std::to_string(batch_size));
}

Batch StreamBatcher::next() {
  std::vector<Example> examples;
  examples.reserve(static_cast<size_t>(batch_size_));
  for (int64_t b = 0; b < batch_size_; ++b) examples.push_back(stream_.next());
  return make_batch(examples);
}

}  // namespace sg
