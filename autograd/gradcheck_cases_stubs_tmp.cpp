#include "autograd/gradcheck.h"
namespace sg {
std::vector<GradCase> shape_grad_cases() { return {}; }
std::vector<GradCase> matmul_grad_cases() { return {}; }
}  // namespace sg
