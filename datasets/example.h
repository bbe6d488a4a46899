// One training pair as token ids of real tokens (ids >= 3: <unk> allowed), without <bos> or
// <eos>; batching adds those (docs/data.md).
#pragma once

#include <cstdint>
#include <vector>

namespace sg {

struct Example {
  std::vector<int64_t> src, tgt;
  bool operator==(const Example&) const = default;
};

}  // namespace sg
