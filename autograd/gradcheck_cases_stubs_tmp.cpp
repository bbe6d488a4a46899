#include "autograd/gradcheck.h"
namespace sg {
std::vector<GradCase> nn_grad_cases() { return {}; }
std::vector<GradCase> layer_grad_cases() { return {}; }
}  // namespace sg
