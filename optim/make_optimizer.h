// Builds an optimizer by type name ("sgd" | "adam" | "adamw") from hyper-parameters, as the
// trainer and the tests need: "lr" is required, any other absent key takes torch's default
// (adamw: weight_decay 1e-2), an unknown key or type is a std::invalid_argument.
#pragma once

#include <memory>
#include <string>

#include "optim/optimizer.h"

namespace sg {

std::unique_ptr<Optimizer> make_optimizer(const std::string& type, NamedParams params,
                                          const Hyper& hyper);

}  // namespace sg
