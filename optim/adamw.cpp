// AdamW: the Adam update (adam.cpp) with decoupled weight decay.
#include "optim/adamw.h"

namespace sg {

AdamW::AdamW(NamedParams params, const AdamOptions& options)
    : Adam(std::move(params), options, /*decoupled_weight_decay=*/true) {}

}  // namespace sg
