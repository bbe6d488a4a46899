// Data-parallel training over MPI (Open MPI). Every rank holds the whole model and draws the same
// global batch; it computes the gradient of its share, the gradients are summed across ranks with
// one allreduce over a flat buffer (in parameter order), and every rank applies the same update.
// Without MPI (not compiled in, or not started by mpirun) everything here is a one-rank no-op.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace sg::dist {

// Starts MPI when the process was launched by mpirun (or another MPI launcher); else a no-op.
void init(int* argc, char*** argv);
void finalize();
bool active();  // MPI started with more than one rank
int rank();
int size();
inline bool is_root() {
  return rank() == 0;
}

// In place: data <- the sum of data over all ranks (identical on every rank).
void allreduce_sum(float* data, int64_t n);
void allreduce_sum(double* data, int64_t n);
// Every rank's generator state, in rank order (one entry without MPI).
std::vector<std::array<uint64_t, 4>> allgather_state(const std::array<uint64_t, 4>& mine);
// The largest value over all ranks (used to agree on stopping).
int64_t allreduce_max(int64_t v);
// Sums the gradients of `params` over all ranks, as one flat buffer; a parameter without a
// gradient contributes zeros (and receives the sum).
void allreduce_gradients(const std::vector<std::pair<std::string, Tensor>>& params);
// Takes every other rank down with this one (a failing rank must not leave the others waiting).
[[noreturn]] void abort_all(int code);

}  // namespace sg::dist
