// Tensor: a strided N-d view over shared storage, row-major in PyTorch's dim order.
// float32 for training and float64 for gradient checks; every op is written once as a template
// over the element type and dispatched on dtype().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace sg {

using Shape = std::vector<int64_t>;

enum class DType : uint8_t { f32, f64 };

const char* dtype_name(DType d);
size_t dtype_size(DType d);
template <class T>
constexpr DType dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? DType::f32 : DType::f64;
}

// Calls f(T{}) with T = float or double according to d.
template <class F>
decltype(auto) dispatch(DType d, F&& f) {
  if (d == DType::f32) return f(float{});
  return f(double{});
}

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
// The offset of entry i, in row-major order, of the index space dims[0..n) read through
// strides[0..n): e.g. of row i of a tensor (n = dim() - 1), or of batch index i of a product.
inline int64_t strided_offset(int64_t i, const Shape& dims, const Shape& strides, int64_t n) {
  int64_t off = 0;
  for (int64_t d = n - 1; d >= 0; --d) {
    off += (i % dims[d]) * strides[d];
    i /= dims[d];
  }
  return off;
}
// Wraps a possibly negative dim into [0, ndim); throws naming `op` if out of range.
int64_t wrap_dim(int64_t d, int64_t ndim, const char* op);

// Raw, 64-byte aligned, uninitialized element buffer. Buffers of kKeptBufferBytes or more are
// kept when freed and reused for a later one of about the same size (tensor.cpp says why).
struct Storage {
  explicit Storage(size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* ptr = nullptr;
  size_t nbytes = 0;
  size_t capacity = 0;  // bytes allocated at ptr, >= nbytes
};
constexpr size_t kKeptBufferBytes = size_t{32} << 20;
// Frees the large buffers kept for reuse (tests; a program never needs to) and returns how many
// there were.
size_t release_kept_buffers();

struct Node;
class Generator;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape, strides;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories (all results are leaves that do not require grad)
  static Tensor empty(const Shape& shape, DType dtype = DType::f32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
  static Tensor from_vector(const std::vector<double>& v, const Shape& shape,
                            DType dtype = DType::f32);
  static Tensor from_floats(const std::vector<float>& v, const Shape& shape);
  static Tensor randn(const Shape& shape, Generator& g, DType dtype = DType::f32,
                      double stddev = 1.0);
  static Tensor uniform(const Shape& shape, Generator& g, double lo, double hi,
                        DType dtype = DType::f32);
  // A view of `storage` (shared) with the given geometry.
  static Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides,
                        int64_t offset);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return shape_numel(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  bool is_contiguous() const;

  // Pointer to element [0,...,0]; throws if T does not match dtype().
  template <class T>
  T* data() const {
    if (dtype_of<T>() != impl_->dtype)
      throw std::runtime_error(std::string("tensor data<") + dtype_name(dtype_of<T>()) +
                               ">() on a " + dtype_name(impl_->dtype) + " tensor");
    return static_cast<T*>(impl_->storage->ptr) + impl_->offset;
  }
  void* raw_data() const {
    return static_cast<char*>(impl_->storage->ptr) + impl_->offset * dtype_size(impl_->dtype);
  }

  // A contiguous tensor with the same values: *this if already contiguous, else a copy.
  // Not recorded: use sg::contiguous() inside differentiable code.
  Tensor contiguous_data() const;
  Tensor detach() const;         // same storage, no history
  Tensor clone() const;          // deep contiguous copy, no history
  Tensor to(DType dtype) const;  // converted contiguous copy, no history
  // Element-wise copy of same-shape data into this tensor's storage (the handle is unchanged).
  void copy_from(const Tensor& src) const;
  double item() const;  // value of a one-element tensor
  std::vector<double> to_vector() const;
  std::vector<float> to_floats() const;

  // ---- autograd
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void zero_grad();     // drops the accumulated gradient
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  // Reverse-mode from this tensor: without `grad` it must hold one element (seed 1).
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Integer tensor for token ids, targets and masks (no gradient ever flows into it).
struct IntTensor {
  Shape shape;
  std::vector<int64_t> data;
  IntTensor() = default;
  IntTensor(Shape s, std::vector<int64_t> d);
  static IntTensor zeros(const Shape& s) {
    return IntTensor(s, std::vector<int64_t>(shape_numel(s)));
  }
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

// Throws std::invalid_argument naming `op` unless b is undefined or of a's dtype.
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);

}  // namespace sg
