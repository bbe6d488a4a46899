// The optimizer's and the schedule's state in a checkpoint. optim/ hands its state out as plain
// values (Optimizer::export_state, the Schedule struct); this is where they meet HDF5.
//
// Optimizer, under a group G ("/optimizer"):
//   attributes  type (string: "sgd" | "adam" | "adamw"), step (int64: step() calls),
//               one float64 attribute per hyper-parameter (lr, beta1, ...; booleans as 0/1)
//   G/step/<parameter name>      int64 scalar: updates applied to that parameter
//   G/<buffer>/<parameter name>  float32, the parameter's shape (exp_avg, exp_avg_sq,
//                                max_exp_avg_sq, momentum_buffer)
// Schedule, on a group ("/scheduler"): attributes kind (string), base_lr (float64), warmup,
// d_model, total_steps (int64).
#pragma once

#include <string>

#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace sg {

class H5File;

// Writes the optimizer's state under `group` (created).
void save_optimizer_state(H5File& file, const std::string& group, const Optimizer& optimizer);
// Reads the state under `group` into `optimizer`, which must be of the stored type and hold the
// same parameters. Throws std::runtime_error naming the file and object; changes nothing then.
void load_optimizer_state(const H5File& file, const std::string& group, Optimizer& optimizer);

void save_schedule(H5File& file, const std::string& group, const Schedule& s);
// Throws std::runtime_error naming the file and group on a missing or invalid attribute.
Schedule load_schedule(const H5File& file, const std::string& group);

}  // namespace sg
