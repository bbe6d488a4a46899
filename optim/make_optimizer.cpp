#include "optim/make_optimizer.h"

#include <set>
#include <stdexcept>

#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/sgd.h"

namespace sg {

namespace {

void check_keys(const std::string& type, const Hyper& hyper, const std::set<std::string>& known) {
  if (hyper.find("lr") == hyper.end())
    throw std::invalid_argument(type + ": the learning rate 'lr' is required");
  for (const auto& [key, value] : hyper)
    if (known.find(key) == known.end())
      throw std::invalid_argument(type + ": unknown hyper-parameter '" + key + "'");
}

double get(const Hyper& h, const char* key, double fallback) {
  const auto it = h.find(key);
  return it == h.end() ? fallback : it->second;
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const std::string& type, NamedParams params,
                                          const Hyper& hyper) {
  if (type == "sgd") {
    check_keys(type, hyper, {"lr", "momentum", "dampening", "nesterov", "weight_decay"});
    SgdOptions o;
    o.lr = hyper.at("lr");
    o.momentum = get(hyper, "momentum", o.momentum);
    o.dampening = get(hyper, "dampening", o.dampening);
    o.nesterov = get(hyper, "nesterov", 0) != 0;
    o.weight_decay = get(hyper, "weight_decay", o.weight_decay);
    return std::make_unique<Sgd>(std::move(params), o);
  }
  if (type == "adam" || type == "adamw") {
    check_keys(type, hyper, {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"});
    AdamOptions o;
    o.lr = hyper.at("lr");
    o.beta1 = get(hyper, "beta1", o.beta1);
    o.beta2 = get(hyper, "beta2", o.beta2);
    o.eps = get(hyper, "eps", o.eps);
    o.weight_decay = get(hyper, "weight_decay", type == "adamw" ? 1e-2 : 0.0);
    o.amsgrad = get(hyper, "amsgrad", 0) != 0;
    if (type == "adamw") return std::make_unique<AdamW>(std::move(params), o);
    return std::make_unique<Adam>(std::move(params), o);
  }
  throw std::invalid_argument("unknown optimizer '" + type + "' (expected sgd, adam or adamw)");
}

}  // namespace sg
