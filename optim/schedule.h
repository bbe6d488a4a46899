// Learning-rate schedules as pure functions of the update index.
//
// Step convention: `step` is the 1-based index of the optimizer update the rate is used for,
// i.e. optimizer.step_count() + 1 just before optimizer.step():
//     opt.set_lr(schedule_lr(sched, opt.step_count() + 1));
//     opt.step();
// This equals torch's LambdaLR(opt, lambda e: factor(e + 1)) with scheduler.step() after each
// optimizer.step() (LambdaLR's last_epoch e is 0 for the first update), value for value in
// double: lr = base_lr * factor(step), with
//   constant  factor = 1
//   noam      factor = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)     (warmup >= 1)
//   cosine    factor = step / warmup                          for step <= warmup, else
//             0.5 * (1 + cos(pi * min(1, (step - warmup) / (total_steps - warmup))))
//             (linear warmup to base_lr, cosine decay to 0 at total_steps, 0 afterwards)
//   inverse_sqrt  factor = min(step / warmup, sqrt(warmup / step))         (warmup >= 1)
//             (linear warmup to base_lr, then decay as 1/sqrt(step): noam rescaled so that
//             its peak is base_lr, as seqgrad_torch's LambdaLR and fairseq's inverse_sqrt)
#pragma once

#include <cstdint>
#include <string>

namespace sg {

enum class ScheduleKind { constant, noam, cosine, inverse_sqrt };

struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double base_lr = 1e-3;
  int64_t warmup = 0;       // noam: >= 1; cosine: >= 0
  int64_t d_model = 0;      // noam: >= 1
  int64_t total_steps = 0;  // cosine: > warmup
};

double constant_lr(double base_lr, int64_t step);
double noam_lr(double base_lr, int64_t d_model, int64_t warmup, int64_t step);
double cosine_lr(double base_lr, int64_t warmup, int64_t total_steps, int64_t step);
double inverse_sqrt_lr(double base_lr, int64_t warmup, int64_t step);
// Dispatches on s.kind after validate_schedule(s); step >= 1.
double schedule_lr(const Schedule& s, int64_t step);

// Throws std::invalid_argument naming the offending setting.
void validate_schedule(const Schedule& s);
ScheduleKind parse_schedule_kind(
    const std::string& name);  // "constant" | "noam" | "cosine" | "inverse_sqrt"
const char* schedule_kind_name(ScheduleKind k);

}  // namespace sg
