#include "layers/gradcheck_table.h"

namespace sg {

const std::vector<GradCase>& gradcheck_table() {
  static const std::vector<GradCase> all = [] {
    std::vector<GradCase> v = op_grad_cases();
    const std::vector<GradCase> layers = layer_grad_cases();
    v.insert(v.end(), layers.begin(), layers.end());
    return v;
  }();
  return all;
}

}  // namespace sg
