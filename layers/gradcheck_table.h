// The whole gradcheck table: every op case (autograd/gradcheck.h) and every layer case. It is
// assembled here, the lowest place that sees both, and drives `seqgrad gradcheck` and the
// GoogleTest gradient tests.
#pragma once

#include <vector>

#include "autograd/gradcheck.h"

namespace sg {

// Whole layers (kind "layer"): gradcheck_cases_layers.cpp.
std::vector<GradCase> layer_grad_cases();

// The table in a fixed order: op cases first, then layer cases.
const std::vector<GradCase>& gradcheck_table();

}  // namespace sg
