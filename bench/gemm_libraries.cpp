// Times single-precision GEMM of OpenBLAS (seqgrad's, autograd/gemm.h), BLIS, oneDNN and LIBXSMM
// on the products of one training step of `seqgrad bench`'s toy and base configs (issue 17 point
// 2), and checks whether each keeps seqgrad's guarantee of the same bits at any thread count.
// Built and run by bench/gemm_libraries.sh; the figures are in bench/README.md.
//
// Every product is row-major C (m, n) = op(A) (m, k) op(B) (k, n) + C, as gemm.h calls it. The
// calls are the same at any thread count (step_calls); with --threads 2 the two halves of a
// linear's forward product run on the two threads at once, dX and dW of the backward run side by
// side, and the per-head attention products run on both threads at once. So "2 at once" times two
// single-threaded calls running concurrently, one per thread; the aggregate is the pair's FLOPs
// over the pair's wall time.
//
// BLIS exports the same cblas_/BLAS symbols as OpenBLAS, so it is loaded with dlopen (local
// symbols, deep binding) and called through its typed API; LIBXSMM's fallback for large
// products calls the BLAS linked here, OpenBLAS.
#include <dlfcn.h>
#include <omp.h>

#include <cblas.h>
#include <libxsmm.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "timing.h"

namespace {

struct Shape {
  int ta, tb;
  long m, n, k, calls;  // calls per training step
};

// The products of one training step of the copy-task transformer (layers/): every linear layer
// (rows R = batch x T, in K, out N) makes a forward NT (R, N, K), dX NN (R, K, N) and dW TN
// (N, K, R) product; per (batch, head) each attention op makes 3 NT (T, T, Dh: the scores, their
// recomputation in the backward, dP = G V^T), 2 NN (P V, dS K) and 2 TN (P^T G, dS^T Q). Encoder
// layers: fused QKV, out, two feed-forward; decoder layers: fused QKV, out, cross Q, K, V, out,
// two feed-forward; one output layer over the 14-symbol vocabulary. A large forward product is two
// calls on equal halves of the rows (linear_forward in ops_matmul.cpp). This is exactly the set
// that cblas_sgemm received from `seqgrad bench` at 1 and at 2 threads (logged through LD_PRELOAD).
std::vector<Shape> step_calls(long batch, long T, long d, long ff, long heads, long enc, long dec) {
  const long R = batch * T, V = 14, dh = d / heads, att = (enc + 2 * dec) * batch * heads;
  const long linears[][3] = {{3 * d, d, enc + dec},
                             {d, d, enc + 5 * dec},
                             {ff, d, enc + dec},
                             {d, ff, enc + dec},
                             {V, d, 1}};  // N, K, layers
  std::vector<Shape> v;
  for (const auto& l : linears) {
    if (R >= 2 * 96 && R * l[0] * l[1] >= (1 << 20)) {  // halves R / 2 and R - R / 2
      v.push_back({0, 1, R / 2, l[0], l[1], l[2] * (R % 2 ? 1 : 2)});
      if (R % 2) v.push_back({0, 1, R - R / 2, l[0], l[1], l[2]});
    } else {
      v.push_back({0, 1, R, l[0], l[1], l[2]});
    }
    v.push_back({0, 0, R, l[1], l[0], l[2]});
    v.push_back({1, 0, l[0], l[1], R, l[2]});
  }
  v.push_back({0, 1, T, T, dh, 3 * att});
  v.push_back({0, 0, T, dh, T, 2 * att});
  v.push_back({1, 0, T, dh, T, 2 * att});
  return v;
}

// BLIS's typed API (blis.h: trans_t BLIS_TRANSPOSE is bit 3; dim_t and inc_t are int64_t).
using BliGemm = void (*)(int, int, int64_t, int64_t, int64_t, float*, float*, int64_t, int64_t,
                         float*, int64_t, int64_t, float*, float*, int64_t, int64_t);
BliGemm bli_sgemm_fn;
void (*bli_set_threads_fn)(int64_t);

// Row-major C (m, n) = op(A) op(B) + C; threads 1: one thread, 2: the library's own two threads.
using GemmFn = void (*)(bool, bool, long, long, long, const float*, long, const float*, long,
                        float*, long, int);

void openblas(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b,
              long ldb, float* c, long ldc, int threads) {
  omp_set_num_threads(threads);  // the OpenMP build sizes its team by omp_get_max_threads()
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, lda, b, ldb, 1.0f, c, ldc);
}

void blis(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b,
          long ldb, float* c, long ldc, int threads) {
  if (omp_in_parallel() == 0) bli_set_threads_fn(threads);  // the global setting, set outside
  float one = 1.0f;
  // row stride ld, column stride 1
  bli_sgemm_fn(ta ? 8 : 0, tb ? 8 : 0, m, n, k, &one, const_cast<float*>(a), lda, 1,
               const_cast<float*>(b), ldb, 1, &one, c, ldc, 1);
}

void onednn(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b,
            long ldb, float* c, long ldc, int threads) {
  omp_set_num_threads(threads);
  dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 1.0f, c, ldc);
}

// Column-major C^T (n, m) = op(B)^T op(A)^T; single-threaded (its fallback, OpenBLAS, follows
// omp_get_max_threads()).
void xsmm(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b,
          long ldb, float* c, long ldc, int threads) {
  omp_set_num_threads(threads);
  const char TA = tb ? 'T' : 'N', TB = ta ? 'T' : 'N';
  const libxsmm_blasint M = n, N = m, K = k, LA = ldb, LB = lda, LC = ldc;
  const float one = 1.0f;
  libxsmm_sgemm(&TA, &TB, &M, &N, &K, &one, b, &LA, a, &LB, &one, c, &LC);
}

struct Lib {
  const char* name;
  GemmFn f;
};
const Lib kLibs[] = {{"openblas", openblas}, {"blis", blis}, {"onednn", onednn}, {"libxsmm", xsmm}};
constexpr int kNumLibs = 4;

struct Buffers {
  std::vector<float> a, b, c;
};
Buffers buf[2];  // one set per thread

void fill(std::vector<float>& v, size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  v.resize(n);
  for (auto& x : v) x = u(g);
}

void alloc(Buffers& B, const Shape& s, unsigned seed) {
  fill(B.a, s.m * s.k, seed);
  fill(B.b, s.k * s.n, seed + 1);
  fill(B.c, s.m * s.n, seed + 2);
}

// Rows [r0, r1) of C (all of them when r1 < 0), densely stored operands.
void call(const Lib& L, const Shape& s, Buffers& B, int threads, long r0 = 0, long r1 = -1) {
  if (r1 < 0) r1 = s.m;
  const long lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n, ldc = s.n;
  L.f(s.ta, s.tb, r1 - r0, s.n, s.k, B.a.data() + (s.ta ? r0 : r0 * lda), lda, B.b.data(), ldb,
      B.c.data() + r0 * ldc, ldc, threads);
}

// gemm.h's gemm_span: part p of `parts` spans of [0, n) with edges on multiples of 96.
void span(long n, int parts, int p, long& b, long& e) {
  const long q = (n + 95) / 96;
  b = std::min(n, q * p / parts * 96);
  e = std::min(n, q * (p + 1) / parts * 96);
}

// Seconds per call of `reps` calls. mode 0: one thread; 1: both threads, each its own product
// (seconds per pair); 2: rows split over two threads as gemm.h does; 3: the library's 2 threads.
double sample(const Lib& L, const Shape& s, int mode, int reps) {
  bli_set_threads_fn(1);  // BLIS's global setting, for its calls inside the parallel regions
  const double t0 = now();
  if (mode == 0 || mode == 3) {
    for (int r = 0; r < reps; ++r) call(L, s, buf[0], mode == 0 ? 1 : 2);
  } else {
#pragma omp parallel num_threads(2)
    {
      const int t = omp_get_thread_num();
      long b, e;
      span(s.m, 2, t, b, e);
      for (int r = 0; r < reps; ++r) {
        if (mode == 1)
          call(L, s, buf[t], 1);
        else if (b < e)
          call(L, s, buf[0], 1, b, e);
      }
    }
  }
  return (now() - t0) / reps;
}

// Whether rows split in 2 and in 3 parts (each one single-threaded call) and the library's own 2
// threads give the bits of one single-threaded call.
void bits(const std::vector<Shape>& shapes) {
  for (const Shape& s : shapes) {
    printf("%d %d %5ld %5ld %5ld:", s.ta, s.tb, s.m, s.n, s.k);
    for (const Lib& L : kLibs) {
      alloc(buf[0], s, 7);
      call(L, s, buf[0], 1);
      const std::vector<float> one = buf[0].c;
      bool same[3];
      for (int parts : {2, 3}) {
        alloc(buf[0], s, 7);
        bli_set_threads_fn(1);
#pragma omp parallel for num_threads(2)
        for (int p = 0; p < parts; ++p) {
          long b, e;
          span(s.m, parts, p, b, e);
          if (b < e) call(L, s, buf[0], 1, b, e);
        }
        same[parts - 2] = one == buf[0].c;
      }
      alloc(buf[0], s, 7);
      call(L, s, buf[0], 2);
      same[2] = one == buf[0].c;
      printf("  %s %s/%s/%s", L.name, same[0] ? "same" : "DIFF", same[1] ? "same" : "DIFF",
             same[2] ? "same" : "DIFF");
    }
    printf("\n");
  }
}

// The step's products at one thread (mode 0) or two (mode 1), libraries alternating shape by
// shape, medians over rounds; the step's GEMM time is the sum of calls x median time.
void step(const char* title, const std::vector<Shape>& sh, int mode, int rounds) {
  std::vector<std::vector<double>> t(sh.size() * kNumLibs);
  std::vector<int> reps(sh.size() * kNumLibs);
  for (size_t i = 0; i < sh.size(); ++i) {
    alloc(buf[0], sh[i], 1);
    alloc(buf[1], sh[i], 2);
    for (int l = 0; l < kNumLibs; ++l) {  // about 12 ms of calls per sample
      sample(kLibs[l], sh[i], mode, 1);
      reps[i * kNumLibs + l] =
          std::max(1, static_cast<int>(0.012 / sample(kLibs[l], sh[i], mode, 3)));
    }
  }
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < sh.size(); ++i) {
      alloc(buf[0], sh[i], 1);
      alloc(buf[1], sh[i], 2);
      for (int l0 = 0; l0 < kNumLibs; ++l0) {
        const int l = static_cast<int>((l0 + r + i) % kNumLibs);
        t[i * kNumLibs + l].push_back(sample(kLibs[l], sh[i], mode, reps[i * kNumLibs + l]));
      }
    }
  double flops = 0, total[kNumLibs] = {};
  for (const Shape& s : sh) flops += 2.0 * s.m * s.n * s.k * s.calls;
  printf("\n%s, GFLOP/s, medians of %d rounds\nta tb     m     n     k  calls  %%flops", title,
         rounds);
  for (const Lib& L : kLibs) printf(" %9s", L.name);
  printf("\n");
  for (size_t i = 0; i < sh.size(); ++i) {
    const Shape& s = sh[i];
    const double f = 2.0 * s.m * s.n * s.k;
    printf("%2d %2d %5ld %5ld %5ld %6ld %6.1f%%", s.ta, s.tb, s.m, s.n, s.k, s.calls,
           100 * f * s.calls / flops);
    for (int l = 0; l < kNumLibs; ++l) {
      const double tm = median(t[i * kNumLibs + l]);
      printf(" %9.1f", f * (mode == 1 ? 2 : 1) / tm / 1e9);
      total[l] += tm * s.calls / (mode == 1 ? 2 : 1);
    }
    printf("\n");
  }
  printf("step's GEMMs, ms (GFLOP/s):");
  for (int l = 0; l < kNumLibs; ++l)
    printf("  %s %.1f (%.1f)", kLibs[l].name, total[l] * 1e3, flops / total[l] / 1e9);
  printf("\n");
}

void big(int rounds) {
  const Shape s{0, 0, 2048, 2048, 2048, 1};
  alloc(buf[0], s, 1);
  std::vector<double> t[kNumLibs][4];
  for (int r = 0; r < rounds; ++r)
    for (int l0 = 0; l0 < kNumLibs; ++l0) {
      const int l = (l0 + r) % kNumLibs;
      for (int mode : {0, 2, 3}) t[l][mode].push_back(sample(kLibs[l], s, mode, 1));
    }
  const double f = 2.0 * 2048 * 2048 * 2048;
  printf(
      "\n2048^3 NN, GFLOP/s, medians of %d rounds: 1 thread | 2 threads, rows split as gemm.h "
      "does | the library's own 2 threads\n",
      rounds);
  for (int l = 0; l < kNumLibs; ++l)
    printf("%-9s %6.1f | %6.1f | %6.1f\n", kLibs[l].name, f / median(t[l][0]) / 1e9,
           f / median(t[l][2]) / 1e9, f / median(t[l][3]) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  void* h = dlopen(BLIS_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  bli_sgemm_fn = reinterpret_cast<BliGemm>(dlsym(h, "bli_sgemm"));
  bli_set_threads_fn = reinterpret_cast<void (*)(int64_t)>(dlsym(h, "bli_thread_set_num_threads"));
  auto arch_id = reinterpret_cast<int (*)()>(dlsym(h, "bli_arch_query_id"));
  auto arch_name = reinterpret_cast<const char* (*)(int)>(dlsym(h, "bli_arch_string"));
  printf("BLIS kernels: %s; OpenBLAS: %s\n", arch_name(arch_id()), openblas_get_config());
  // `seqgrad bench`'s toy and base configs (d_model 128, 4 heads, 2 + 2 layers, ff 512, batch 64,
  // length 10; d_model 512, 8 heads, 3 + 3 layers, ff 2048, batch 32, length 31): T = length + 1
  const std::vector<Shape> toy = step_calls(64, 11, 128, 512, 4, 2, 2);
  if (what == "bits") {
    std::vector<Shape> all = toy, base = step_calls(32, 32, 512, 2048, 8, 3, 3);
    all.insert(all.end(), base.begin(), base.end());
    for (int ta : {0, 1})
      for (int tb : {0, 1}) all.push_back({ta, tb, 2048, 2048, 2048, 1});
    bits(all);
  } else if (what == "toy" || what == "base") {
    const std::vector<Shape> one = what == "toy" ? toy : step_calls(32, 32, 512, 2048, 8, 3, 3);
    step("the step's products, one thread", one, 0, rounds);
    step("the same products, two at once (aggregate)", one, 1, rounds);
  } else if (what == "big") {
    big(rounds);
  } else {
    fprintf(stderr, "usage: %s toy|base|big|bits [rounds]\n", argv[0]);
    return 2;
  }
  return 0;
}
