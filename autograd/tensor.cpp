#include "autograd/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

#include "autograd/engine.h"
#include "autograd/random.h"

namespace sg {

const char* dtype_name(DType d) {
  return d == DType::f32 ? "float32" : "float64";
}
size_t dtype_size(DType d) {
  return d == DType::f32 ? 4 : 8;
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << '{';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << '}';
  return o.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

int64_t wrap_dim(int64_t d, int64_t ndim, const char* op) {
  const int64_t w = d < 0 ? d + ndim : d;
  if (w < 0 || w >= ndim)
    throw std::invalid_argument(std::string(op) + ": dim " + std::to_string(d) +
                                " out of range for a " + std::to_string(ndim) + "-d tensor");
  return w;
}

namespace {

// Buffers of 32 MB and more lie beyond glibc's largest mmap threshold: malloc maps each one fresh
// and unmaps it when it is freed, so every page of it faults in, zeroed by the kernel, on each
// use. A step on a real vocabulary allocates several such buffers and frees them by the end of
// the step (the (N, V) logits and their gradient: 80 MB each at 2,500 tokens and 8,000 pieces),
// with sizes that change from batch to batch. So freed large buffers are kept, at most kMax of
// them and kMaxBytes in all (the oldest freed goes first), and a request takes the smallest kept
// buffer that holds it and is at most 5/4 of its size. A new large buffer is allocated rounded up
// to a multiple of 1/16 of the power of two below it, so that nearby sizes share buffers. Under
// AddressSanitizer nothing is kept, so that a use after free is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kKeepBuffers = false;
#else
constexpr bool kKeepBuffers = true;
#endif

class KeptBuffers {
 public:
  static constexpr size_t kMax = 8, kMaxBytes = size_t{1} << 30;

  // A kept buffer for n bytes (capacity into *cap), or null.
  void* take(size_t n, size_t* cap) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t best = kept_.size();
    for (size_t i = 0; i < kept_.size(); ++i)
      if (kept_[i].cap >= n && kept_[i].cap <= n / 4 * 5 &&
          (best == kept_.size() || kept_[i].cap < kept_[best].cap))
        best = i;
    if (best == kept_.size()) return nullptr;
    void* p = kept_[best].ptr;
    *cap = kept_[best].cap;
    bytes_ -= *cap;
    kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(best));
    return p;
  }

  void give(void* p, size_t cap) {
    std::lock_guard<std::mutex> lock(mu_);
    kept_.push_back({p, cap});
    bytes_ += cap;
    while (kept_.size() > kMax || bytes_ > kMaxBytes) {
      std::free(kept_.front().ptr);
      bytes_ -= kept_.front().cap;
      kept_.erase(kept_.begin());
    }
  }

  size_t release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Kept& k : kept_) std::free(k.ptr);
    const size_t n = kept_.size();
    kept_.clear();
    bytes_ = 0;
    return n;
  }

 private:
  struct Kept {
    void* ptr;
    size_t cap;
  };
  std::mutex mu_;
  std::vector<Kept> kept_;  // oldest first
  size_t bytes_ = 0;
};

// Never destroyed: a Storage freed during static destruction still finds it.
KeptBuffers& kept_buffers() {
  static auto* kept = new KeptBuffers;
  return *kept;
}

// n rounded up to a multiple of 1/16 of the largest power of two <= n.
size_t large_capacity(size_t n) {
  size_t top = 1;
  while (top <= n / 2) top *= 2;
  const size_t step = top / 16;
  return (n + step - 1) / step * step;
}

}  // namespace

Storage::Storage(size_t n) : nbytes(n) {
  const bool large = kKeepBuffers && n >= kKeptBufferBytes;
  if (large && (ptr = kept_buffers().take(n, &capacity))) return;
  capacity = large ? large_capacity(n) : std::max<size_t>(64, (n + 63) / 64 * 64);
  ptr = std::aligned_alloc(64, capacity);
  if (!ptr) throw std::bad_alloc();
}
Storage::~Storage() {
  if (kKeepBuffers && capacity >= kKeptBufferBytes)
    kept_buffers().give(ptr, capacity);
  else
    std::free(ptr);
}

size_t release_kept_buffers() {
  return kept_buffers().release();
}

IntTensor::IntTensor(Shape s, std::vector<int64_t> d) : shape(std::move(s)), data(std::move(d)) {
  if (shape_numel(shape) != static_cast<int64_t>(data.size()))
    throw std::invalid_argument("IntTensor: shape " + shape_str(shape) + " does not hold " +
                                std::to_string(data.size()) + " values");
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    if (d < 0) throw std::invalid_argument("tensor: negative dimension in " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, t.numel() * dtype_size(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(value);
  });
  return t;
}

Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& shape, DType dtype) {
  if (static_cast<int64_t>(v.size()) != shape_numel(shape))
    throw std::invalid_argument("from_vector: " + std::to_string(v.size()) + " values for shape " +
                                shape_str(shape));
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  });
  return t;
}

Tensor Tensor::from_floats(const std::vector<float>& v, const Shape& shape) {
  if (static_cast<int64_t>(v.size()) != shape_numel(shape))
    throw std::invalid_argument("from_floats: " + std::to_string(v.size()) + " values for shape " +
                                shape_str(shape));
  Tensor t = empty(shape, DType::f32);
  std::memcpy(t.raw_data(), v.data(), v.size() * sizeof(float));
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& g, DType dtype, double stddev) {
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(stddev * g.normal());
  });
  return t;
}

Tensor Tensor::uniform(const Shape& shape, Generator& g, double lo, double hi, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(g.uniform(lo, hi));
  });
  return t;
}

Tensor Tensor::view_of(const Tensor& base, const Shape& shape, const Shape& strides,
                       int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl_->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const {
  return impl_->shape[wrap_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (size_t i = impl_->shape.size(); i-- > 0;) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expect) return false;
    expect *= impl_->shape[i];
  }
  return true;
}

// Copies the strided elements of src into contiguous dst, in row-major order.
template <class T>
static void gather_strided(const Tensor& src, T* dst) {
  const int64_t nd = src.dim(), n = src.numel();
  if (n == 0) return;
  const T* base = src.data<T>();
  if (nd == 0) {
    dst[0] = base[0];
    return;
  }
  const Shape& sh = src.shape();
  const Shape& st = src.strides();
  // Innermost dim as a tight loop; an odometer over the outer dims.
  const int64_t inner = sh[nd - 1], istride = st[nd - 1];
  std::vector<int64_t> idx(nd, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < n; o += inner) {
    const T* p = base + off;
    for (int64_t i = 0; i < inner; ++i) dst[o + i] = p[i * istride];
    for (int64_t d = nd - 2; d >= 0; --d) {
      off += st[d];
      if (++idx[d] < sh[d]) break;
      off -= st[d] * sh[d];
      idx[d] = 0;
    }
  }
}

Tensor Tensor::contiguous_data() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape(), dtype());
  dispatch(dtype(), [&](auto z) { gather_strided(*this, out.data<decltype(z)>()); });
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  if (is_contiguous())
    std::memcpy(out.raw_data(), raw_data(), numel() * dtype_size(dtype()));
  else
    dispatch(dtype(), [&](auto z) { gather_strided(*this, out.data<decltype(z)>()); });
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return clone();
  Tensor src = contiguous_data();
  Tensor out = empty(shape(), dt);
  dispatch(dtype(), [&](auto zs) {
    using S = decltype(zs);
    dispatch(dt, [&](auto zd) {
      using D = decltype(zd);
      const S* s = src.data<S>();
      D* d = out.data<D>();
      for (int64_t i = 0, n = numel(); i < n; ++i) d[i] = static_cast<D>(s[i]);
    });
  });
  return out;
}

void Tensor::copy_from(const Tensor& src) const {
  if (src.shape() != shape() || src.dtype() != dtype())
    throw std::invalid_argument("copy_from: " + shape_str(src.shape()) + " " +
                                dtype_name(src.dtype()) + " into " + shape_str(shape()) + " " +
                                dtype_name(dtype()));
  if (!is_contiguous()) throw std::invalid_argument("copy_from: destination is not contiguous");
  Tensor s = src.contiguous_data();
  std::memmove(raw_data(), s.raw_data(), numel() * dtype_size(dtype()));
}

double Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item(): tensor of shape " + shape_str(shape()) +
                                " has more than one element");
  return dispatch(dtype(), [&](auto z) { return static_cast<double>(*data<decltype(z)>()); });
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = contiguous_data();
  std::vector<double> v(numel());
  dispatch(dtype(), [&](auto z) {
    const auto* p = c.data<decltype(z)>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

std::vector<float> Tensor::to_floats() const {
  Tensor c = contiguous_data();
  std::vector<float> v(numel());
  dispatch(dtype(), [&](auto z) {
    const auto* p = c.data<decltype(z)>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(p[i]);
  });
  return v;
}

Tensor& Tensor::set_requires_grad(bool on) {
  if (!is_leaf() && !on)
    throw std::invalid_argument("set_requires_grad(false) on a non-leaf tensor: use detach()");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  return impl_->grad ? Tensor(impl_->grad) : Tensor();
}

void Tensor::zero_grad() {
  impl_->grad.reset();
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  Tensor g = grad;
  if (!g.defined()) {
    if (numel() != 1)
      throw std::invalid_argument("backward(): the output has shape " + shape_str(shape()) +
                                  "; give an upstream gradient for a non-scalar output");
    g = Tensor::full(shape(), 1.0, dtype());
  }
  run_backward(*this, g, retain_graph);
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (b.defined() && a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(op) + ": dtype mismatch, " + dtype_name(a.dtype()) +
                                " and " + dtype_name(b.dtype()));
}

}  // namespace sg
