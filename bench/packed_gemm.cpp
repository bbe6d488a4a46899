// A single-threaded AVX2/FMA sgemm whose weight operand is packed once per training step and
// reused, against OpenBLAS's cblas_sgemm on the linear-layer products of `seqgrad bench`'s base
// config (issue 17 point 2: "each weight packed once per step and reused by the forward and both
// backward products"). Built and run by bench/packed_gemm.sh; the figures are in bench/README.md.
//
// Row-major C (m, n) = op(A) (m, k) op(B) (k, n) (+ C). B is the weight: the forward product of a
// linear is Y = X W^T (NT, B = W^T) and its input gradient dX = dY W (NN, B = W), W (N, K). Each
// orientation is packed once (pack_b) into the micro-kernel's panels, KC rows of k by NR columns;
// the forward's two halves of the rows and the backward's dX product reuse them. A, the
// activation, is packed per call in blocks of MC rows by KC (pack_a). BLIS's loop order: k blocks
// of KC, then blocks of MC rows of A (packed, 144 KiB, kept in L2), then the NR-wide panels of B
// (32 KiB), then the MR-row panels of A; the micro-kernel keeps an MR x NR = 6 x 16 tile of C in
// 12 registers. KC and MC can be set from the environment (KC=256 MC=144 ...) to compare
// blockings; 512 and 72 were the best of the 3 x 3 to 6 tried on this product set.
//
// No beta pass: with beta 0 the first k block stores C, and every later one adds to it. Every
// element of C is acc_0 (+ acc_1 + ...) (or C + acc_0 + acc_1 + ... for beta 1), where acc_b is
// a sum of fmas over the k of block b in increasing order, started at 0; the k blocks depend on k
// alone, every lane of every tile does the same, and edge tiles run the same kernel on
// zero-padded panels. So an element's bits depend neither on the row block a call gets nor on the
// element's place in a tile: splitting C by rows (or columns) over threads keeps them.
#include <immintrin.h>
#include <omp.h>

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "timing.h"

namespace {

constexpr long MR = 6, NR = 16;
long KC = 512, MC = 72;

// 64-byte aligned float storage.
struct Floats {
  float* p = nullptr;
  size_t n = 0;
  Floats() = default;
  explicit Floats(size_t count)
      : p(static_cast<float*>(std::aligned_alloc(64, (count * 4 + 63) / 64 * 64))), n(count) {}
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;
  Floats(Floats&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; }
  Floats& operator=(Floats&& o) noexcept {
    std::swap(p, o.p);
    std::swap(n, o.n);
    return *this;
  }
  ~Floats() { std::free(p); }
};

// The floats of A's packing buffer: MC rows rounded up to MR, by KC, and 8 of slack.
size_t abuf_floats() {
  return static_cast<size_t>((MC + MR - 1) / MR * MR * KC + 8);
}

// Transposes the 8 x 8 block r[0..7] in place (r[i] becomes column i).
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// op(B) (k, n) packed: for each k block of KC rows (the last may be shorter), the NR-wide column
// panels, each kc x NR contiguous (row kk of the panel: NR floats), columns past n zero.
struct PackedB {
  long k = 0, n = 0, npad = 0;
  Floats data;
  const float* panel(long pc, long j) const {
    return data.p + pc * npad + j * std::min(KC, k - pc);
  }
};

// Packs the panels of columns [j0, j1) (multiples of NR) of op(B) into P, already sized by
// pack_b: threads can pack one B together.
void pack_panels(bool tb, const float* b, long ldb, PackedB& P, long j0, long j1) {
  const long k = P.k, n = P.n, npad = P.npad;
  for (long pc = 0; pc < k; pc += KC) {
    const long kc = std::min(KC, k - pc);
    float* const block = P.data.p + pc * npad;
    if (!tb) {  // 8 rows of B at a time, each read once from start to end
      for (long k0 = 0; k0 < kc; k0 += 8)
        for (long j = j0; j < j1; j += NR) {
          const long w = std::min(NR, n - j);
          for (long kk = k0; kk < std::min(kc, k0 + 8); ++kk) {
            const float* src = b + (pc + kk) * ldb + j;
            float* o = block + j * kc + kk * NR;
            if (w == NR) {
              _mm256_store_ps(o, _mm256_loadu_ps(src));
              _mm256_store_ps(o + 8, _mm256_loadu_ps(src + 8));
            } else {
              for (long c = 0; c < NR; ++c) o[c] = c < w ? src[c] : 0.0f;
            }
          }
        }
      continue;
    }
    for (long j = j0; j < j1; j += NR) {  // B^T's rows j.. j + 15, 8 x 8 blocks transposed
      float* out = block + j * kc;
      const long w = std::min(NR, n - j), k8 = w == NR ? kc / 8 * 8 : 0;
      for (long cb = 0; cb < NR; cb += 8)
        for (long kk = 0; kk < k8; kk += 8) {
          __m256 r[8];
          for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(b + (j + cb + i) * ldb + pc + kk);
          transpose8(r);
          for (int i = 0; i < 8; ++i) _mm256_store_ps(out + (kk + i) * NR + cb, r[i]);
        }
      for (long c = 0; c < NR; ++c)
        for (long kk = k8; kk < kc; ++kk)
          out[kk * NR + c] = c < w ? b[(j + c) * ldb + pc + kk] : 0.0f;
    }
  }
}

// Packs op(B) (k, n), where op(B)[kk][j] is b[kk * ldb + j], or b[j * ldb + kk] if tb.
void pack_b(bool tb, long k, long n, const float* b, long ldb, PackedB& P) {
  P.k = k;
  P.n = n;
  P.npad = (n + NR - 1) / NR * NR;
  if (P.data.n < static_cast<size_t>(k * P.npad)) P.data = Floats(k * P.npad);
  pack_panels(tb, b, ldb, P, 0, P.npad);
}

// Packs rows [0, mc) by k [0, kc) of op(A) into MR-row panels, each kc x MR (row kk of a panel:
// MR floats), rows past mc zero; op(A)[i][kk] is a[i * lda + kk], or a[kk * lda + i] if ta.
void pack_a(bool ta, long mc, long kc, const float* a, long lda, float* out) {
  for (long i = 0; i < mc; i += MR) {
    const long h = std::min(MR, mc - i);
    float* o = out + i * kc;
    if (!ta) {
      // 8 x 8 transposes of 6 rows and 2 zero ones; each 8-float store overlaps the next by 2
      // (abuf has 8 floats of slack)
      const long k8 = kc / 8 * 8;
      for (long kk = 0; kk < k8; kk += 8) {
        __m256 r[8];
        for (long q = 0; q < 8; ++q)
          r[q] = q < h ? _mm256_loadu_ps(a + (i + q) * lda + kk) : _mm256_setzero_ps();
        transpose8(r);
        for (long q = 0; q < 8; ++q) _mm256_storeu_ps(o + (kk + q) * MR, r[q]);
      }
      for (long r = 0; r < MR; ++r)
        for (long kk = k8; kk < kc; ++kk) o[kk * MR + r] = r < h ? a[(i + r) * lda + kk] : 0.0f;
    } else {
      for (long kk = 0; kk < kc; ++kk)
        for (long r = 0; r < MR; ++r) o[kk * MR + r] = r < h ? a[kk * lda + i + r] : 0.0f;
    }
  }
}

// Row r of the tile: c<r>0 and c<r>1 += a[r] times b0 and b1.
#define SG_ROW(r)                            \
  x = _mm256_broadcast_ss(a + r);            \
  c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0); \
  c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1)

// The MR x NR tile c (row stride ldc) = (add ? c : 0) + the sum over kk < kc of a[kk] b[kk]^T,
// a: kc x MR, b: kc x NR, one fma per element and k in increasing k.
inline void kernel(long kc, const float* __restrict a, const float* __restrict b, float* c,
                   long ldc, bool add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
         c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (long r = 0; r < MR; ++r)
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (long kk = 0; kk < kc; ++kk) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 x;
    SG_ROW(0);
    SG_ROW(1);
    SG_ROW(2);
    SG_ROW(3);
    SG_ROW(4);
    SG_ROW(5);
    a += MR;
    b += NR;
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                             {c30, c31}, {c40, c41}, {c50, c51}};
  for (long r = 0; r < MR; ++r)
    for (long h = 0; h < 2; ++h) {
      float* p = c + r * ldc + 8 * h;
      _mm256_storeu_ps(p, add ? _mm256_add_ps(_mm256_loadu_ps(p), acc[r][h]) : acc[r][h]);
    }
}

// The kernel on a partial tile (h rows, w columns of C): into a scratch tile, then stored or
// added with the same single rounding as a full tile.
void edge_kernel(long kc, const float* a, const float* b, float* c, long ldc, bool add, long h,
                 long w) {
  alignas(64) float t[MR * NR];
  kernel(kc, a, b, t, NR, false);
  for (long r = 0; r < h; ++r)
    for (long j = 0; j < w; ++j)
      c[r * ldc + j] = add ? c[r * ldc + j] + t[r * NR + j] : t[r * NR + j];
}

// C (m, n) = op(A) op(B) + (beta1 ? C : 0), op(B) packed; one thread; the packing buffer of A is
// the caller's (MC x KC floats).
void packed_gemm(bool ta, long m, const float* a, long lda, const PackedB& B, bool beta1, float* c,
                 long ldc, float* abuf) {
  const long k = B.k, n = B.n;
  for (long pc = 0; pc < k; pc += KC) {
    const long kc = std::min(KC, k - pc);
    const bool add = beta1 || pc > 0;
    for (long ic = 0; ic < m; ic += MC) {
      const long mc = std::min(MC, m - ic);
      pack_a(ta, mc, kc, ta ? a + pc * lda + ic : a + ic * lda + pc, lda, abuf);
      for (long j = 0; j < n; j += NR) {
        const float* bp = B.panel(pc, j);
        const long w = std::min(NR, n - j);
        for (long i = 0; i < mc; i += MR) {
          float* ct = c + (ic + i) * ldc + j;
          if (w == NR && i + MR <= mc)
            kernel(kc, abuf + i * kc, bp, ct, ldc, add);
          else
            edge_kernel(kc, abuf + i * kc, bp, ct, ldc, add, std::min(MR, mc - i), w);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

void fill(float* p, size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t i = 0; i < n; ++i) p[i] = u(g);
}

void openblas(bool ta, bool tb, long m, long n, long k, const float* a, long lda, const float* b,
              long ldb, bool beta1, float* c, long ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, lda, b, ldb, beta1 ? 1.0f : 0.0f, c, ldc);
}

// One linear layer of the base step: X (R, K), W (N, K), used `layers` times per step. Its
// forward is two NT calls on halves of the R rows (beta 1: the bias is in Y), its dX one NN call
// (R, K, N) with beta 0.
struct Linear {
  long N, K, layers;
};

// One worker's set of operands for a linear: `sets` copies so that each call finds them cold.
struct Operands {
  std::vector<Floats> x, w, y, g, dx, dw;
  std::vector<PackedB> wt, wn;  // W^T for the forward, W for dX
  Floats abuf{abuf_floats()};
};

constexpr long kR = 32 * 32;  // batch 32, T = length + 1 = 32

void alloc(Operands& o, const Linear& l, int sets, unsigned seed) {
  o = Operands();
  for (int s = 0; s < sets; ++s) {
    o.x.emplace_back(kR * l.K);
    o.w.emplace_back(l.N * l.K);
    o.y.emplace_back(kR * l.N);
    o.g.emplace_back(kR * l.N);
    o.dx.emplace_back(kR * l.K);
    o.dw.emplace_back(l.N * l.K);
    fill(o.x.back().p, kR * l.K, seed + 5 * s);
    fill(o.w.back().p, l.N * l.K, seed + 5 * s + 1);
    fill(o.y.back().p, kR * l.N, seed + 5 * s + 2);
    fill(o.g.back().p, kR * l.N, seed + 5 * s + 3);
    std::memset(o.dx.back().p, 0, kR * l.K * 4);
    o.wt.emplace_back();
    o.wn.emplace_back();
    pack_b(true, l.K, l.N, o.w.back().p, l.K, o.wt.back());
    pack_b(false, l.N, l.K, o.w.back().p, l.K, o.wn.back());
  }
}

// What one sample times, per use of a weight: 0 OpenBLAS forward (both halves), 1 OpenBLAS dX, 2
// packed forward, 3 packed dX (packed copies of W as cold as the rest), 4 packing W^T and W; the
// step's sequence for one weight: 5 OpenBLAS's forward and dX, 6 the packed ones, each after its
// packing; 7 packing W and the packed dX.
void run(int what, const Linear& l, Operands& o, int s) {
  const long h = kR / 2;
  switch (what) {
    case 0:
      for (long r0 : {0L, h})
        openblas(false, true, h, l.N, l.K, o.x[s].p + r0 * l.K, l.K, o.w[s].p, l.K, true,
                 o.y[s].p + r0 * l.N, l.N);
      break;
    case 1:
      openblas(false, false, kR, l.K, l.N, o.g[s].p, l.N, o.w[s].p, l.K, false, o.dx[s].p, l.K);
      break;
    case 2:
      for (long r0 : {0L, h})
        packed_gemm(false, h, o.x[s].p + r0 * l.K, l.K, o.wt[s], true, o.y[s].p + r0 * l.N, l.N,
                    o.abuf.p);
      break;
    case 3:
      packed_gemm(false, kR, o.g[s].p, l.N, o.wn[s], false, o.dx[s].p, l.K, o.abuf.p);
      break;
    case 4:
      pack_b(true, l.K, l.N, o.w[s].p, l.K, o.wt[s]);
      pack_b(false, l.N, l.K, o.w[s].p, l.K, o.wn[s]);
      break;
    case 5:
      run(0, l, o, s);
      run(1, l, o, s);
      break;
    case 6:  // each orientation packed right before its first use
      pack_b(true, l.K, l.N, o.w[s].p, l.K, o.wt[s]);
      run(2, l, o, s);
      run(7, l, o, s);
      break;
    case 7:
      pack_b(false, l.N, l.K, o.w[s].p, l.K, o.wn[s]);
      run(3, l, o, s);
      break;
  }
}

Operands ops[2];  // one set per thread

// The step's products of one linear at two threads as seqgrad runs them, called by both threads
// of a parallel region on ops[0]: the forward's halves at once, then dX on thread 0 beside dW =
// dY^T X (OpenBLAS in both variants) on thread 1. The packed variant packs W^T in two halves of
// its panels, one per thread, before the forward, and W on thread 0 before dX.
void run_pair(bool packed, const Linear& l, int s) {
  const int t = omp_get_thread_num();
  Operands& o = ops[0];
  const long h = kR / 2, r0 = t * h;
  if (packed) {
    const long np = o.wt[s].npad, mid = np / NR / 2 * NR;
    pack_panels(true, o.w[s].p, l.K, o.wt[s], t ? mid : 0, t ? np : mid);
#pragma omp barrier
    packed_gemm(false, h, o.x[s].p + r0 * l.K, l.K, o.wt[s], true, o.y[s].p + r0 * l.N, l.N,
                ops[t].abuf.p);
  } else {
    openblas(false, true, h, l.N, l.K, o.x[s].p + r0 * l.K, l.K, o.w[s].p, l.K, true,
             o.y[s].p + r0 * l.N, l.N);
  }
#pragma omp barrier
  if (t == 1)
    openblas(true, false, l.N, l.K, kR, o.g[s].p, l.N, o.x[s].p, l.K, false, o.dw[s].p, l.K);
  else if (packed)
    run(7, l, o, s);
  else
    run(1, l, o, s);
#pragma omp barrier
}

// Seconds per use of `reps` uses, cycling through the operand sets; `two`: both threads at once,
// each on its own operands (seconds per pair); what 8 and 9: run_pair, OpenBLAS and packed.
double sample(int what, const Linear& l, int reps, bool two) {
  const int sets = static_cast<int>(ops[0].x.size());
  const double t0 = now();
  if (what >= 8) {
#pragma omp parallel num_threads(2)
    for (int r = 0; r < reps; ++r) run_pair(what == 9, l, r % sets);
  } else if (!two) {
    for (int r = 0; r < reps; ++r) run(what, l, ops[0], r % sets);
  } else {
#pragma omp parallel num_threads(2)
    {
      Operands& o = ops[omp_get_thread_num()];
      for (int r = 0; r < reps; ++r) run(what, l, o, r % sets);
    }
  }
  return (now() - t0) / reps;
}

const Linear kBase[] = {
    {1536, 512, 6}, {512, 512, 18}, {2048, 512, 6}, {512, 2048, 6}, {14, 512, 1}};

// Operand sets per linear: enough that one pass over them is well beyond the 32 MiB L3.
int sets_for(const Linear& l) {
  const double bytes = 4.0 * (2 * kR * l.K + 2 * kR * l.N + 3 * l.N * l.K);
  return std::max(2, static_cast<int>(std::ceil(96e6 / bytes)));
}

void step(bool two, int rounds) {
  const std::vector<int> whats =
      two ? std::vector<int>{0, 1, 2, 3, 4, 5, 6, 8, 9} : std::vector<int>{0, 1, 2, 3, 4, 5, 6};
  double tot[10] = {}, flops = 0;
  printf("\n%s, GFLOP/s, medians of %d rounds, cold operands\n",
         two ? "two at once, each thread its own operands (aggregate)" : "one thread", rounds);
  printf(
      "    N     K layers sets | openblas fwd    dX | packed fwd    dX | pack W^T, W | per "
      "weight, ms: openblas, packed incl. packing%s\n",
      two ? " | as the step runs them (+ dW)" : "");
  for (const Linear& l : kBase) {
    const int sets = sets_for(l);
    alloc(ops[0], l, sets, 1);
    if (two) alloc(ops[1], l, sets, 1000);
    std::vector<double> t[10];
    int reps[10];
    for (int w : whats) {
      sample(w, l, sets, two);
      reps[w] = std::max(sets, static_cast<int>(0.03 / sample(w, l, sets, two)));
    }
    for (int r = 0; r < rounds; ++r)
      for (size_t w0 = 0; w0 < whats.size(); ++w0) {
        const int w = whats[(w0 + r) % whats.size()];
        t[w].push_back(sample(w, l, reps[w], two));
      }
    double m[10] = {};
    for (int w : whats) {
      m[w] = median(t[w]) / (two && w < 8 ? 2 : 1);
      tot[w] += l.layers * m[w];
    }
    const double f = 2.0 * kR * l.N * l.K;  // per product: the forward (both halves), dX or dW
    printf("%5ld %5ld %6ld %4d | %12.1f %5.1f | %10.1f %5.1f | %8.3f ms | %7.3f %7.3f (%.3fx)", l.N,
           l.K, l.layers, sets, f / m[0] / 1e9, f / m[1] / 1e9, f / m[2] / 1e9, f / m[3] / 1e9,
           m[4] * 1e3, m[5] * 1e3, m[6] * 1e3, m[5] / m[6]);
    if (two) printf(" | %7.3f %7.3f (%.3fx)", m[8] * 1e3, m[9] * 1e3, m[8] / m[9]);
    printf("\n");
    flops += l.layers * 2 * f;
  }
  auto rate = [&](double sec) { return flops / sec / 1e9; };
  printf(
      "step's forward and dX products, ms (GFLOP/s): openblas %.1f (%.1f), packed with copies "
      "cold %.1f (%.1f) + packing %.1f = %.1f (%.1f), %.3fx; each packed just before its "
      "use: openblas %.1f (%.1f), packed %.1f (%.1f), %.3fx\n",
      (tot[0] + tot[1]) * 1e3, rate(tot[0] + tot[1]), (tot[2] + tot[3]) * 1e3,
      rate(tot[2] + tot[3]), tot[4] * 1e3, (tot[2] + tot[3] + tot[4]) * 1e3,
      rate(tot[2] + tot[3] + tot[4]), (tot[0] + tot[1]) / (tot[2] + tot[3] + tot[4]), tot[5] * 1e3,
      rate(tot[5]), tot[6] * 1e3, rate(tot[6]), tot[5] / tot[6]);
  if (two)
    printf(
        "as the step runs them (forward halves at once, then dX beside dW): openblas %.1f ms "
        "(%.1f GFLOP/s), packed %.1f ms (%.1f), %.3fx\n",
        tot[8] * 1e3, rate(tot[8]) * 1.5, tot[9] * 1e3, rate(tot[9]) * 1.5, tot[8] / tot[9]);
}

// Max |C - reference| over C (m, n) = op(A) op(B) (+ C0) in double, for the packed kernel and
// OpenBLAS; and whether rows split at several points (including points inside a tile) give the
// packed kernel's bits of one call.
void check(bool ta, bool tb, long m, long n, long k, bool beta1) {
  const long lda = ta ? m : k, ldb = tb ? k : n;
  Floats a(m * k), b(k * n), c0(m * n), cp(m * n), co(m * n), cs(m * n);
  fill(a.p, m * k, 11);
  fill(b.p, k * n, 12);
  fill(c0.p, m * n, 13);
  std::memcpy(cp.p, c0.p, m * n * 4);
  std::memcpy(co.p, c0.p, m * n * 4);
  PackedB P;
  pack_b(tb, k, n, b.p, ldb, P);
  Floats abuf(abuf_floats());
  packed_gemm(ta, m, a.p, lda, P, beta1, cp.p, n, abuf.p);
  openblas(ta, tb, m, n, k, a.p, lda, b.p, ldb, beta1, co.p, n);
  double ep = 0, eo = 0, scale = 0;
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) {
      double s = beta1 ? c0.p[i * n + j] : 0.0;
      for (long kk = 0; kk < k; ++kk)
        s += static_cast<double>(ta ? a.p[kk * lda + i] : a.p[i * lda + kk]) *
             (tb ? b.p[j * ldb + kk] : b.p[kk * ldb + j]);
      ep = std::max(ep, std::abs(cp.p[i * n + j] - s));
      eo = std::max(eo, std::abs(co.p[i * n + j] - s));
      scale = std::max(scale, std::abs(s));
    }
  long as_openblas = 0;
  for (long i = 0; i < m * n; ++i) as_openblas += cp.p[i] == co.p[i];
  bool same = true;
  for (long split : {1L, 5L, 7L, 96L, m / 2, m - 13}) {
    if (split <= 0 || split >= m) continue;
    std::memcpy(cs.p, c0.p, m * n * 4);
    packed_gemm(ta, split, a.p, lda, P, beta1, cs.p, n, abuf.p);
    packed_gemm(ta, m - split, ta ? a.p + split : a.p + split * lda, lda, P, beta1,
                cs.p + split * n, n, abuf.p);
    same = same && std::memcmp(cs.p, cp.p, m * n * 4) == 0;
  }
  printf(
      "%d %d %5ld %5ld %5ld beta %d: max |C - C_double|: packed %.2e, openblas %.2e (max |C| "
      "%.1f); equal to openblas's: %.1f%%; row splits: %s\n",
      ta, tb, m, n, k, beta1, ep, eo, scale, 100.0 * as_openblas / (m * n),
      same ? "same bits" : "DIFFERENT");
}

void big(int rounds) {
  const long s = 2048;
  Floats a(s * s), b(s * s), c(s * s), abuf(abuf_floats());
  fill(a.p, s * s, 1);
  fill(b.p, s * s, 2);
  PackedB P;
  std::vector<double> tb, tp, tk;
  for (int r = 0; r < rounds; ++r) {
    double t0 = now();
    openblas(false, false, s, s, s, a.p, s, b.p, s, false, c.p, s);
    tb.push_back(now() - t0);
    t0 = now();
    pack_b(false, s, s, b.p, s, P);
    tk.push_back(now() - t0);
    t0 = now();
    packed_gemm(false, s, a.p, s, P, false, c.p, s, abuf.p);
    tp.push_back(now() - t0);
  }
  const double f = 2.0 * s * s * s;
  printf(
      "\n2048^3 NN, one thread, medians of %d rounds: openblas %.1f GFLOP/s; packed %.1f "
      "GFLOP/s (B packed once: %.2f ms)\n",
      rounds, f / median(tb) / 1e9, f / median(tp) / 1e9, median(tk) * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (getenv("KC")) KC = atol(getenv("KC"));
  if (getenv("MC")) MC = atol(getenv("MC"));
  omp_set_num_threads(1);  // the OpenMP build sizes a call's team by omp_get_max_threads()
  if (what == "check") {
    for (const Linear& l : kBase) {
      check(false, true, kR / 2, l.N, l.K, true);
      check(false, false, kR, l.K, l.N, false);
    }
    check(true, false, 100, 37, 300, true);
    check(true, true, 61, 50, 520, false);
    return 0;
  }
  if (what == "big") {
    big(rounds);
    return 0;
  }
  if (what != "step" && what != "step1" && what != "step2") {
    fprintf(stderr, "usage: %s check|step|step1|step2|big [rounds]\n", argv[0]);
    return 2;
  }
  if (what != "step2") step(false, rounds);  // step1: one thread only, step2: two only
  if (what != "step1") step(true, rounds);
  return 0;
}
