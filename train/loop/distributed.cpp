#include "train/loop/distributed.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#ifdef SEQGRAD_MPI
// The C API only (Open MPI otherwise pulls in its deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sg::dist {

namespace {
int g_rank = 0, g_size = 1;
bool g_started = false;

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace

void init(int* argc, char*** argv) {
#ifdef SEQGRAD_MPI
  if (!launched_by_mpi()) return;
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_started = true;
#else
  (void)argc;
  (void)argv;
  if (launched_by_mpi() && std::getenv("OMPI_COMM_WORLD_SIZE") &&
      std::strcmp(std::getenv("OMPI_COMM_WORLD_SIZE"), "1") != 0)
    throw std::runtime_error(
        "started by mpirun, but this seqgrad was built without MPI "
        "(install libopenmpi-dev and rebuild)");
#endif
}

void finalize() {
#ifdef SEQGRAD_MPI
  if (g_started) MPI_Finalize();
  g_started = false;
#endif
}

bool active() {
  return g_started && g_size > 1;
}
int rank() {
  return g_rank;
}
int size() {
  return g_size;
}

void allreduce_sum(float* data, int64_t n) {
#ifdef SEQGRAD_MPI
  if (active())
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

void allreduce_sum(double* data, int64_t n) {
#ifdef SEQGRAD_MPI
  if (active())
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

std::vector<std::array<uint64_t, 4>> allgather_state(const std::array<uint64_t, 4>& mine) {
  std::vector<std::array<uint64_t, 4>> all(g_size);
  all[g_rank] = mine;
#ifdef SEQGRAD_MPI
  if (active())
    MPI_Allgather(mine.data(), 4, MPI_UINT64_T, all.data(), 4, MPI_UINT64_T, MPI_COMM_WORLD);
#endif
  return all;
}

int64_t allreduce_max(int64_t v) {
#ifdef SEQGRAD_MPI
  if (active()) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
#endif
  return v;
}

void allreduce_gradients(const std::vector<std::pair<std::string, Tensor>>& params) {
  if (!active()) return;
  int64_t total = 0;
  for (const auto& [name, p] : params) total += p.numel();
  std::vector<float> flat(total, 0.0f);
  int64_t off = 0;
  for (const auto& [name, p] : params) {
    const Tensor g = p.grad();
    if (g.defined())
      std::memcpy(flat.data() + off, g.contiguous_data().data<float>(), p.numel() * sizeof(float));
    off += p.numel();
  }
  allreduce_sum(flat.data(), total);
  off = 0;
  for (const auto& [name, p] : params) {
    Tensor g = p.grad();
    if (!g.defined()) {
      // Gradient accumulation owns a contiguous buffer; give this parameter one to receive into.
      p.impl()->grad = Tensor::zeros(p.shape(), p.dtype()).impl_ptr();
      g = p.grad();
    }
    std::memcpy(g.data<float>(), flat.data() + off, p.numel() * sizeof(float));
    off += p.numel();
  }
}

void abort_all(int code) {
#ifdef SEQGRAD_MPI
  if (active()) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace sg::dist
