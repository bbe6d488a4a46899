// Schedules: the same double expressions, in the same order, as the lambdas given to torch's
// LambdaLR in tests/reference/make_optim_fixtures.py (pow and cos from the same libm).
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace sg {

namespace {

void check_step(int64_t step, const char* who) {
  if (step < 1)
    throw std::invalid_argument(std::string(who) +
                                ": step must be >= 1 (the 1-based update index), got " +
                                std::to_string(step));
}

}  // namespace

double constant_lr(double base_lr, int64_t step) {
  check_step(step, "constant schedule");
  return base_lr * 1.0;
}

double noam_lr(double base_lr, int64_t d_model, int64_t warmup, int64_t step) {
  check_step(step, "noam schedule");
  if (d_model < 1 || warmup < 1)
    throw std::invalid_argument("noam schedule: d_model and warmup must be >= 1");
  const double s = static_cast<double>(step);
  const double factor =
      std::pow(static_cast<double>(d_model), -0.5) *
      std::min(std::pow(s, -0.5), s * std::pow(static_cast<double>(warmup), -1.5));
  return base_lr * factor;
}

double inverse_sqrt_lr(double base_lr, int64_t warmup, int64_t step) {
  check_step(step, "inverse_sqrt schedule");
  if (warmup < 1) throw std::invalid_argument("inverse_sqrt schedule: warmup must be >= 1");
  const double s = static_cast<double>(step), w = static_cast<double>(warmup);
  return base_lr * std::min(s / w, std::pow(w / s, 0.5));
}

double cosine_lr(double base_lr, int64_t warmup, int64_t total_steps, int64_t step) {
  check_step(step, "cosine schedule");
  if (warmup < 0 || total_steps <= warmup)
    throw std::invalid_argument("cosine schedule: need 0 <= warmup < total steps");
  double factor;
  if (step <= warmup) {
    factor = static_cast<double>(step) / static_cast<double>(warmup);
  } else {
    const double progress = std::min(
        1.0, static_cast<double>(step - warmup) / static_cast<double>(total_steps - warmup));
    factor = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
  return base_lr * factor;
}

void validate_schedule(const Schedule& s) {
  if (!std::isfinite(s.base_lr) || s.base_lr < 0)
    throw std::invalid_argument("schedule: invalid base learning rate " +
                                std::to_string(s.base_lr));
  switch (s.kind) {
    case ScheduleKind::constant:
      return;
    case ScheduleKind::noam:
      if (s.d_model < 1) throw std::invalid_argument("noam schedule: d_model must be >= 1");
      if (s.warmup < 1) throw std::invalid_argument("noam schedule: warmup must be >= 1");
      return;
    case ScheduleKind::inverse_sqrt:
      if (s.warmup < 1) throw std::invalid_argument("inverse_sqrt schedule: warmup must be >= 1");
      break;
    case ScheduleKind::cosine:
      if (s.warmup < 0) throw std::invalid_argument("cosine schedule: warmup must be >= 0");
      if (s.total_steps <= s.warmup)
        throw std::invalid_argument("cosine schedule: total steps (" +
                                    std::to_string(s.total_steps) + ") must exceed warmup (" +
                                    std::to_string(s.warmup) + ")");
      return;
  }
}

double schedule_lr(const Schedule& s, int64_t step) {
  validate_schedule(s);
  switch (s.kind) {
    case ScheduleKind::constant:
      return constant_lr(s.base_lr, step);
    case ScheduleKind::noam:
      return noam_lr(s.base_lr, s.d_model, s.warmup, step);
    case ScheduleKind::inverse_sqrt:
      return inverse_sqrt_lr(s.base_lr, s.warmup, step);
    case ScheduleKind::cosine:
      return cosine_lr(s.base_lr, s.warmup, s.total_steps, step);
  }
  throw std::invalid_argument("schedule: unknown kind");
}

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "noam") return ScheduleKind::noam;
  if (name == "cosine") return ScheduleKind::cosine;
  if (name == "inverse_sqrt") return ScheduleKind::inverse_sqrt;
  throw std::invalid_argument("unknown schedule '" + name +
                              "' (expected constant, noam, cosine or inverse_sqrt)");
}

const char* schedule_kind_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::constant:
      return "constant";
    case ScheduleKind::noam:
      return "noam";
    case ScheduleKind::cosine:
      return "cosine";
    case ScheduleKind::inverse_sqrt:
      return "inverse_sqrt";
  }
  return "?";
}

}  // namespace sg
