// Batches for a generated task: each batch holds B fresh examples from a TaskStream, so the
// stream's generator state is the whole position.
#pragma once

#include "datasets/batch.h"
#include "datasets/task_stream.h"

namespace sg {

class StreamBatcher {
 public:
  // Throws std::invalid_argument naming --batch if batch_size < 1.
  StreamBatcher(TaskStream& stream, int64_t batch_size);
  Batch next();
  int64_t batch_size() const { return batch_size_; }

 private:
  TaskStream& stream_;
  int64_t batch_size_;
};

}  // namespace sg
