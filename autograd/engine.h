// Reverse-mode engine: every differentiable op records one Node whose backward closure maps the
// gradient of the op's output to gradients of its inputs. backward() walks the nodes in reverse
// topological order, checks each gradient's shape and dtype against its input, accumulates into
// leaves, and frees the graph (closures and the tensors they saved) unless asked to retain it.
//
// A node is of one of three kinds, by how its backward hands gradients to its inputs:
//   plain         (record)               returns one gradient per input, which the engine adds
//                                        to what the input already has. Every op but these:
//   window        (record_window)        its output is a strided window of its one input, and
//                                        the output's gradient is added straight into that window
//                                        of the input's gradient: slice (q, k and v are three
//                                        slices of one projection).
//   accumulating  (record_accumulating)  may add an input's gradient into the gradient the
//                                        engine already holds for it (a GEMM with beta = 1)
//                                        instead of returning it: linear, linear_relu.
// run_backward (engine.cpp BackwardPass) orders the nodes, then runs each by its kind.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

// Where an input's gradient goes: into the node that produced it, or into a leaf's .grad.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  Shape shape;
  DType dtype = DType::f32;
  bool active() const { return fn != nullptr || leaf != nullptr; }
};

// grads[i] for input i, computed only where needs[i]; others may stay undefined.
using BackwardFn =
    std::function<std::vector<Tensor>(const Tensor& grad_out, const std::vector<bool>& needs)>;

// A backward that may add input i's gradient straight into into[i] when that is defined (the
// gradient accumulated so far from the input's other uses, a contiguous buffer the engine holds
// alone; never a leaf's .grad) and then returns an undefined tensor for i. A GEMM adds with beta =
// 1 and so skips zero-filling its output and the engine's separate add.
using AccumulateFn = std::function<std::vector<Tensor>(
    const Tensor& grad_out, const std::vector<bool>& needs, const std::vector<Tensor>& into)>;

// For an op whose output is a window (a strided view) of its single input: maps the input's
// gradient buffer to the view that the output's gradient adds into.
using WindowFn = std::function<Tensor(const Tensor& input_grad)>;

struct Node {
  Node();
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  std::string name;  // the op's name, used in error messages
  std::vector<Edge> edges;
  BackwardFn backward;      // unset for a window or accumulating node
  WindowFn window;          // set instead of backward by record_window
  AccumulateFn accumulate;  // set instead of backward by record_accumulating
  Shape out_shape;
  DType out_dtype = DType::f32;
  bool freed = false;
};

bool grad_enabled();

// RAII scope in which no op records history (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True if grad mode is on and any input requires grad: the op should build its closure.
bool needs_record(std::initializer_list<const Tensor*> inputs);
bool needs_record(const std::vector<Tensor>& inputs);

// Attaches a node named `name` to `out`, with one edge per input (in order), if needs_record.
// Returns `out` for chaining.
Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn);

// record for an op whose backward can accumulate into its inputs' gradients (AccumulateFn).
Tensor record_accumulating(Tensor out, const char* name, const std::vector<Tensor>& inputs,
                           AccumulateFn fn);

// For `out` a window of `input` (slice): its gradient is the output's gradient inside
// window(grad buffer) and zero elsewhere. The engine adds it into that window of the input's
// accumulated gradient, instead of materializing a zero-filled input-sized tensor per window and
// adding those up (q, k and v are three windows of one projection).
Tensor record_window(Tensor out, const char* name, const Tensor& input, WindowFn window);

// Runs reverse mode from `root` with upstream gradient `grad` (same shape and dtype as root).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Number of live Nodes (for tests that check the graph is freed).
int64_t live_node_count();

}  // namespace sg
