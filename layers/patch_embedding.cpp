#include "layers/patch_embedding.h"

#include <stdexcept>

#include "autograd/ops.h"

namespace sg {

Tensor patchify(const Tensor& images, int64_t P) {
  if (images.dim() != 3)
    throw std::invalid_argument("patch embedding: images must be (B, H, W), got " +
                                shape_str(images.shape()));
  const int64_t B = images.size(0), H = images.size(1), W = images.size(2);
  if (P < 1 || H % P != 0 || W % P != 0)
    throw std::invalid_argument("patch embedding: a " + std::to_string(W) + " x " +
                                std::to_string(H) + " image does not divide into " +
                                std::to_string(P) + " x " + std::to_string(P) + " patches");
  // (B, H/P, P, W/P, P) -> (B, H/P, W/P, P, P) -> (B, H/P * W/P, P * P)
  const Tensor grid = permute(reshape(images, {B, H / P, P, W / P, P}), {0, 1, 3, 2, 4});
  return reshape(grid, {B, (H / P) * (W / P), P * P});
}

PatchEmbedding::PatchEmbedding(int64_t patch, int64_t dim, Generator& g, DType dtype)
    : patch_(patch), proj_(patch * patch, dim, g, dtype) {
  if (patch < 1) throw std::invalid_argument("patch size must be positive");
  register_module("", proj_);
}

Tensor PatchEmbedding::forward(const Tensor& images) const {
  return proj_.forward(patchify(images, patch_));
}

}  // namespace sg
