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

namespace {

// Every node reachable from root, each after every node that consumes its output: reverse
// topological order, by an iterative depth-first post-order (reversed).
std::vector<Node*> reverse_topological_order(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen{root};
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
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
  return {order.rbegin(), order.rend()};
}

// One run of reverse mode: the gradient pending for each node's output, summed over its uses
// as they arrive, then passed through the node's backward in reverse topological order.
class BackwardPass {
 public:
  explicit BackwardPass(bool retain_graph) : retain_graph_(retain_graph) {}

  void run(const std::shared_ptr<Node>& root, const Tensor& grad) {
    const std::vector<Node*> order = reverse_topological_order(root.get());
    // Keep every node alive while we walk, even if a consumer releases its edges.
    std::vector<std::shared_ptr<Node>> keep;
    for (Node* node : order)
      for (const Edge& e : node->edges)
        if (e.fn) keep.push_back(e.fn);
    pending_[root.get()] = grad;
    for (Node* node : order) {
      auto it = pending_.find(node);
      if (it == pending_.end()) continue;  // no gradient reached this node
      if (node->freed)
        throw std::runtime_error("backward through op '" + node->name +
                                 "' a second time: its graph was freed (pass retain_graph=true)");
      Tensor gout = std::move(it->second);
      pending_.erase(it);
      check_grad(node->name + "' output", 0, node->out_shape, node->out_dtype, gout);
      if (node->window)
        backward_window(*node, gout);
      else
        backward_node(*node, gout);
      if (!retain_graph_) free_node(*node);
    }
  }

 private:
  // A window node (slice): its output gradient goes into its window of the input's gradient, a
  // leaf's .grad or the input node's pending gradient, created zero-filled if there is none yet
  // and copied first if the engine does not hold it alone.
  void backward_window(const Node& node, const Tensor& g) {
    const Edge& e = node.edges.at(0);
    if (!e.active()) return;
    Tensor acc;
    if (e.leaf) {
      if (!e.leaf->grad) e.leaf->grad = Tensor::zeros(e.shape, e.dtype).impl_ptr();
      acc = Tensor(e.leaf->grad);
    } else {
      auto [slot, fresh] = pending_.try_emplace(e.fn.get());
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

  // A plain node returns one gradient per input; an accumulating node may instead add an
  // input's gradient into the pending gradient it is handed (accumulators()).
  void backward_node(const Node& node, const Tensor& gout) {
    std::vector<bool> needs(node.edges.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node.edges[i].active();
    const std::vector<Tensor> into =
        node.accumulate ? accumulators(node, needs) : std::vector<Tensor>(node.edges.size());
    std::vector<Tensor> gin =
        node.accumulate ? node.accumulate(gout, needs, into) : node.backward(gout, needs);
    if (gin.size() != node.edges.size())
      throw std::logic_error("op '" + node.name + "': backward returned " +
                             std::to_string(gin.size()) + " gradients for " +
                             std::to_string(node.edges.size()) + " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      const Edge& e = node.edges[i];
      if (!e.active()) continue;
      if (into[i].defined()) {
        if (gin[i].defined())
          throw std::logic_error("op '" + node.name + "': backward both accumulated and returned " +
                                 "a gradient for input " + std::to_string(i));
        continue;
      }
      check_grad(node.name, i, e.shape, e.dtype, gin[i]);
      deliver(e, std::move(gin[i]));
    }
  }

  // The buffers an accumulating node may add input i's gradient into: the input node's pending
  // gradient, copied first unless the engine holds it alone (so it never shares a buffer with
  // the node's own upstream gradient); undefined where there is none. Never a leaf's .grad: each
  // backward call adds its own finished gradient there, so accumulating micro-batches sums the
  // same per-batch gradients as an all-reduce over ranks, bit for bit. An input the node uses
  // twice gets one accumulator, for its first use; the others go the returned-gradient path (two
  // GEMMs must not add into one buffer at once).
  std::vector<Tensor> accumulators(const Node& node, const std::vector<bool>& needs) {
    std::vector<Tensor> into(node.edges.size());
    for (size_t i = 0; i < into.size(); ++i) {
      const Edge& e = node.edges[i];
      bool repeated = false;
      for (size_t j = 0; j < i; ++j) repeated = repeated || node.edges[j].fn == e.fn;
      if (!needs[i] || repeated || !e.fn) continue;
      const auto it = pending_.find(e.fn.get());
      if (it == pending_.end()) continue;
      if (!sole_owner(it->second)) it->second = it->second.clone();
      into[i] = it->second;
    }
    return into;
  }

  // Input e's gradient g: into a leaf's .grad, or summed into its node's pending gradient (in
  // place only into a buffer the engine alone holds: the first gradient may alias another's).
  void deliver(const Edge& e, Tensor g) {
    if (e.leaf) {
      accumulate_leaf(e.leaf.get(), std::move(g));
      return;
    }
    auto [slot, fresh] = pending_.try_emplace(e.fn.get(), g);
    if (fresh) return;
    if (!sole_owner(slot->second)) slot->second = slot->second.clone();
    add_into(slot->second, g);
  }

  bool retain_graph_;
  std::unordered_map<Node*, Tensor> pending_;
};

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  if (!root.requires_grad())
    throw std::invalid_argument("backward(): the tensor does not require grad and has no graph");
  check_grad("backward", 0, root.shape(), root.dtype(), grad);
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    accumulate_leaf(root.impl(), grad);
    return;
  }
  BackwardPass(retain_graph).run(root.grad_fn(), grad);
}

}  // namespace sg
