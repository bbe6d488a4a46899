// Linear patch embedding, the front-end of an image model's encoder (as ViT's, with a Linear
// instead of the equivalent strided convolution): the image is cut into non-overlapping P x P
// patches in row-major order (patch (r, c) is position r * W/P + c), each patch's P * P pixels
// are flattened row by row, and one Linear(P * P, C) maps them to the model width:
//   images (B, H, W) -> patches (B, H/P * W/P, P * P) -> (B, H/P * W/P, C)
// Parameters `weight` (C, P * P) and `bias` (C), PyTorch's Linear init.
#pragma once

#include "layers/linear.h"

namespace sg {

class PatchEmbedding : public Module {
 public:
  PatchEmbedding(int64_t patch, int64_t dim, Generator& g, DType dtype = DType::f32);
  // images: (B, H, W) with H and W multiples of the patch size -> (B, H/P * W/P, dim).
  Tensor forward(const Tensor& images) const;
  int64_t patch() const { return patch_; }

 private:
  int64_t patch_;
  Linear proj_;  // registered under "" so its parameters are weight and bias
};

// images (B, H, W) -> (B, H/P * W/P, P * P), patches in row-major order, each flattened row by
// row (differentiable: a reshape, a permute and a reshape).
Tensor patchify(const Tensor& images, int64_t patch);

}  // namespace sg
