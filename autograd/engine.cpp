#include "autograd/engine.h"

#include <atomic>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "autograd/parallel.h"

namespace sg {

static std::atomic<int64_t> g_live_nodes{0};
Node::Node() {
  ++g_live_nodes;
}
Node::~Node() {
  --g_live_nodes;
}
int64_t live_node_count() {
  return g_live_nodes.load();
}

static thread_local bool t_grad_enabled = true;
bool grad_enabled() {
  return t_grad_enabled;
}
NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) {
  t_grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  t_grad_enabled = prev_;
}

bool needs_record(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_record(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!needs_record(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->edges.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn())
        e.fn = t.grad_fn();
      else
        e.leaf = t.impl_ptr();
      e.shape = t.shape();
      e.dtype = t.dtype();
    }
    node->edges.push_back(std::move(e));
  }
  node->backward = std::move(fn);
  node->out_shape = out.shape();
  node->out_dtype = out.dtype();
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

Tensor record_window(Tensor out, const char* name, const Tensor& input, WindowFn window) {
  out = record(std::move(out), name, {input}, nullptr);
  if (out.grad_fn()) out.grad_fn()->window = std::move(window);
  return out;
}

Tensor record_accumulating(Tensor out, const char* name, const std::vector<Tensor>& inputs,
                           AccumulateFn fn) {
  out = record(std::move(out), name, inputs, nullptr);
  if (out.grad_fn()) out.grad_fn()->accumulate = std::move(fn);
  return out;
}

// a += b for a of any strides (a buffer the engine owns, or a window of one) and b of any layout
// and the same shape. Parallel over rows of the last dim: each element is written by one thread.
static void add_into(const Tensor& a, const Tensor& b) {
  if (a.numel() == 0) return;
  const Tensor bc = b.contiguous_data();
  const Shape& shape = a.shape();
  const int64_t nd = a.dim(), n = a.numel();
  const int64_t L = a.is_contiguous() || nd == 0 ? n : shape.back();
  const int64_t rows = L == 0 ? 0 : n / L,
                ls = a.is_contiguous() || nd == 0 ? 1 : a.strides().back();
  dispatch(a.dtype(), [&](auto z) {
    using T = decltype(z);
    T* pa = a.data<T>();
    const T* pb = bc.data<T>();
    if (rows == 1) {
      parallel_for(L, kParallelGrain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) pa[i * ls] += pb[i];
      });
      return;
    }
    parallel_for(rows, row_grain(L), [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        T* ar = pa + strided_offset(r, shape, a.strides(), nd - 1);
        const T* br = pb + r * L;
        for (int64_t i = 0; i < L; ++i) ar[i * ls] += br[i];
      }
    });
  });
}

static void check_grad(const std::string& op, size_t input, const Shape& shape, DType dtype,
                       const Tensor& g) {
  if (!g.defined())
    throw std::logic_error("op '" + op + "': backward returned no gradient for input " +
                           std::to_string(input));
  if (g.shape() != shape || g.dtype() != dtype)
    throw std::logic_error("op '" + op + "': gradient for input " + std::to_string(input) +
                           " has shape " + shape_str(g.shape()) + " " + dtype_name(g.dtype()) +
                           ", the input has " + shape_str(shape) + " " + dtype_name(dtype));
}

// True if nothing but `g` refers to its buffer, and the buffer holds exactly g's elements in
// order: the engine may then keep or update it in place instead of copying.
static bool sole_owner(const Tensor& g) {
  return g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.offset() == 0 &&
         g.is_contiguous() && g.impl()->storage->nbytes == g.numel() * dtype_size(g.dtype());
}

static void accumulate_leaf(TensorImpl* leaf, Tensor g) {
  if (!leaf->grad) {
    leaf->grad = sole_owner(g) ? g.impl_ptr() : g.clone().impl_ptr();
  } else {
    add_into(Tensor(leaf->grad), g);
  }
}

static void free_node(Node& node) {
  node.backward = nullptr;
  node.window = nullptr;
  node.accumulate = nullptr;
  node.edges.clear();
  node.freed = true;
}

// The window node's output gradient g goes into its window of the input's gradient: a leaf's
// .grad or the pending gradient of the input's node, created zero-filled if there is none yet and
// copied first if the engine does not hold it alone.
static void add_into_window(const Node& node, const Tensor& g,
                            std::unordered_map<Node*, Tensor>& grads) {
  const Edge& e = node.edges.at(0);
  if (!e.active()) return;
  Tensor acc;
  if (e.leaf) {
    if (!e.leaf->grad) e.leaf->grad = Tensor::zeros(e.shape, e.dtype).impl_ptr();
    acc = Tensor(e.leaf->grad);
  } else {
    auto [slot, fresh] = grads.try_emplace(e.fn.get());
    if (fresh)
      slot->second = Tensor::zeros(e.shape, e.dtype);
    else if (!sole_owner(slot->second))
      slot->second = slot->second.clone();
    acc = slot->second;
  }
  const Tensor win = node.window(acc);
  check_grad(node.name + "' window", 0, win.shape(), e.dtype, g);
  add_into(win, g);
}

// The gradient an accumulating op may add edge e's gradient into: the input node's pending
// gradient, or undefined. It is copied first unless the engine holds it alone, so it never shares
// a buffer with the op's own upstream gradient. Never a leaf's
// .grad: each backward call adds its own finished gradient there, so accumulating micro-batches
// sums the same per-batch gradients as an all-reduce over ranks, bit for bit.
static Tensor accumulator_for(const Edge& e, std::unordered_map<Node*, Tensor>& grads) {
  if (!e.fn) return Tensor();
  const auto it = grads.find(e.fn.get());
  if (it == grads.end()) return Tensor();
  if (!sole_owner(it->second)) it->second = it->second.clone();
  return it->second;
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  if (!root.requires_grad())
    throw std::invalid_argument("backward(): the tensor does not require grad and has no graph");
  check_grad("backward", 0, root.shape(), root.dtype(), grad);
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    accumulate_leaf(root.impl(), grad);
    return;
  }

  // Reverse topological order by an iterative depth-first post-order.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.grad_fn().get(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->edges.size()) {
      Node* child = node->edges[next++].fn.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad;
  // Keep every node alive while we walk, even if a parent releases its edges.
  std::vector<std::shared_ptr<Node>> keep;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    for (auto& e : node->edges)
      if (e.fn) keep.push_back(e.fn);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto git = grads.find(node);
    if (git == grads.end()) continue;  // no gradient reached this node
    if (node->freed)
      throw std::runtime_error("backward through op '" + node->name +
                               "' a second time: its graph was freed (pass retain_graph=true)");
    Tensor gout = std::move(git->second);
    grads.erase(git);
    check_grad(node->name + "' output", 0, node->out_shape, node->out_dtype, gout);
    if (node->window) {
      add_into_window(*node, gout, grads);
      if (!retain_graph) free_node(*node);
      continue;
    }
    std::vector<bool> needs(node->edges.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node->edges[i].active();
    std::vector<Tensor> into(node->edges.size());
    if (node->accumulate)
      for (size_t i = 0; i < into.size(); ++i) {
        // An input the op uses twice gets one accumulator, for its first use; the others go
        // the returned-gradient path (two GEMMs must not add into one buffer at once).
        bool repeated = false;
        for (size_t j = 0; j < i; ++j)
          repeated = repeated || node->edges[j].fn == node->edges[i].fn;
        if (needs[i] && !repeated) into[i] = accumulator_for(node->edges[i], grads);
      }
    std::vector<Tensor> gin =
        node->accumulate ? node->accumulate(gout, needs, into) : node->backward(gout, needs);
    if (gin.size() != node->edges.size())
      throw std::logic_error("op '" + node->name + "': backward returned " +
                             std::to_string(gin.size()) + " gradients for " +
                             std::to_string(node->edges.size()) + " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      const Edge& e = node->edges[i];
      if (!e.active()) continue;
      if (into[i].defined()) {
        if (gin[i].defined())
          throw std::logic_error("op '" + node->name +
                                 "': backward both accumulated and returned " +
                                 "a gradient for input " + std::to_string(i));
        continue;
      }
      check_grad(node->name, i, e.shape, e.dtype, gin[i]);
      if (e.leaf) {
        accumulate_leaf(e.leaf.get(), std::move(gin[i]));
      } else {
        auto [slot, fresh] = grads.try_emplace(e.fn.get(), gin[i]);
        if (!fresh) {
          // In place only into a buffer the engine alone holds: the first gradient may alias
          // another node's.
          if (!sole_owner(slot->second)) slot->second = slot->second.clone();
          add_into(slot->second, gin[i]);
        }
      }
    }
    if (!retain_graph) free_node(*node);
  }
}

}  // namespace sg
