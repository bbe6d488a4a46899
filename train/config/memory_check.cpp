#include "train/config/memory_check.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "train/config/errors.h"

namespace sg {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (b >= 1024 && u < 6) {
    b /= 1024;
    ++u;
  }
  char buf[64];
  if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g %s", b, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

}  // namespace

ModelMemory estimate_model_memory(const Config& c, int64_t src_vocab, int64_t tgt_vocab,
                                  bool training) {
  const auto need = [](bool ok, const std::string& what) {
    if (!ok) throw RunError("invalid model size: " + what);
  };
  need(c.d_model > 0, "d_model " + std::to_string(c.d_model));
  need(c.heads > 0, "heads " + std::to_string(c.heads));
  need(c.ff > 0, "ff " + std::to_string(c.ff));
  need(c.enc_layers >= 0 && c.dec_layers >= 0,
       "layers " + std::to_string(c.enc_layers) + "/" + std::to_string(c.dec_layers));
  // model_config computes 2 * max_len + 16 in int64.
  need(c.max_len >= 1 && c.max_len <= (INT64_MAX - 16) / 2, "max_len " + std::to_string(c.max_len));
  need(src_vocab > 0 && tgt_vocab > 0,
       "vocabularies " + std::to_string(src_vocab) + "/" + std::to_string(tgt_vocab));
  const double C = static_cast<double>(c.d_model), F = static_cast<double>(c.ff);
  // Attention: in_proj (3C, C) + (3C), out_proj (C, C) + (C). Feed-forward: (F, C) + (F),
  // (C, F) + (C). LayerNorm: 2C each.
  const double attn = 4 * C * C + 4 * C, ffn = 2 * C * F + F + C;
  const double enc_layer = attn + ffn + 2 * 2 * C;
  const double dec_layer = 2 * attn + ffn + 3 * 2 * C;
  const double Vs = static_cast<double>(src_vocab), Vt = static_cast<double>(tgt_vocab);
  ModelMemory m;
  const double vocab_matrices = c.share_embeddings ? Vt * C : Vs * C + Vt * C + Vt * C;
  m.parameters = vocab_matrices + static_cast<double>(c.enc_layers) * enc_layer +
                 static_cast<double>(c.dec_layers) * dec_layer + 2 * 2 * C + Vt;
  double copies = 1;  // the parameters
  if (training) {
    copies += 1;  // gradients
    if (c.optim == "sgd")
      copies += c.momentum > 0 ? 1 : 0;
    else
      copies += 2;  // exp_avg, exp_avg_sq
  }
  // The positional table covers max(512, 2 * max_len + 16) positions (model_config.cpp).
  const double positions = std::max(512.0, 2 * static_cast<double>(c.max_len) + 16);
  m.bytes = 4 * copies * m.parameters + positions * C * (8 + 4);
  return m;
}

double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kb = -1;
    fields >> kb;
    return kb >= 0 ? kb * 1024 : -1;
  }
  return -1;
}

void check_model_fits(const Config& c, int64_t src_vocab, int64_t tgt_vocab, bool training,
                      double available) {
  const ModelMemory m = estimate_model_memory(c, src_vocab, tgt_vocab, training);
  const bool from_meminfo = available < 0;
  if (from_meminfo) available = available_memory_bytes();
  if (available < 0 || m.bytes <= available) return;
  char params[32];
  std::snprintf(params, sizeof params, "%.3g", m.parameters);
  throw RunError(
      "the model does not fit in memory: --d-model " + std::to_string(c.d_model) + " --ff " +
      std::to_string(c.ff) + " --enc-layers " + std::to_string(c.enc_layers) + " --dec-layers " +
      std::to_string(c.dec_layers) + " --max-len " + std::to_string(c.max_len) +
      " with vocabularies of " + std::to_string(src_vocab) + "/" + std::to_string(tgt_vocab) +
      " tokens make " + params + " parameters, about " + human_bytes(m.bytes) +
      (training ? " with gradients and optimizer state" : "") + ", but only " +
      human_bytes(available) + " is available" + (from_meminfo ? " (MemAvailable)" : ""));
}

}  // namespace sg
