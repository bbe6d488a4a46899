// A user's own model on seqgrad: a character-level language model that uses causal
// self-attention only (decoder-only, no encoder, no cross-attention), trained with AdamW, global
// norm clipping and a cosine schedule on a text file, saved and resumed through the checkpoint
// API.
//
//   char_lm TEXT DIR [STEPS]
//
// trains STEPS steps (default 80) from scratch, saving DIR/half.h5 halfway and DIR/final.h5 at
// the end, and prints a sample of text. Then it resumes from DIR/half.h5 into a model and an
// optimizer built from nothing but that file, trains to STEPS again, and checks that every
// parameter and every optimizer buffer equals the straight run's bit for bit (exit 1 if not).
//
// The model, pre-LN like GPT-2: ids (B, T) -> embed * sqrt(C) + positions -> dropout ->
// `layers` blocks of [x = x + drop(attn(ln1(x), causal)); x = x + drop(ff(ln2(x)))] -> final
// LayerNorm -> Linear to the vocabulary: logits (B, T, V). The loss is the mean cross-entropy of
// predicting each next character.
#include <seqgrad/seqgrad.h>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using sg::IntTensor;
using sg::Tensor;

// The run's settings. They travel in the checkpoint's /config as a sg::Config (the fields the
// seqgrad command uses for the same things), so a resume needs nothing but the file.
struct LmConfig {
  int64_t d_model = 48, heads = 4, layers = 2, d_ff = 128;
  double dropout = 0.1;
  int64_t context = 32, batch = 16, steps = 80, warmup = 10;
  double lr = 3e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01, clip_norm = 1.0;
  uint64_t seed = 1;

  sg::Config to_config(const std::string& text_file) const {
    sg::Config c;
    c.task = "char_lm";
    c.train_file = text_file;
    c.tokenize = "char";
    c.d_model = d_model, c.heads = heads, c.enc_layers = 0, c.dec_layers = layers, c.ff = d_ff;
    c.dropout = dropout, c.max_len = context, c.batch = batch, c.steps = steps;
    c.optim = "adamw", c.lr = lr, c.beta1 = beta1, c.beta2 = beta2, c.eps = eps;
    c.weight_decay = weight_decay, c.clip_norm = clip_norm;
    c.schedule = "cosine", c.warmup = warmup, c.seed = seed;
    return c;
  }
  static LmConfig from_config(const sg::Config& c) {
    LmConfig l;
    l.d_model = c.d_model, l.heads = c.heads, l.layers = c.dec_layers, l.d_ff = c.ff;
    l.dropout = c.dropout, l.context = c.max_len, l.batch = c.batch, l.steps = c.steps;
    l.lr = c.lr, l.beta1 = c.beta1, l.beta2 = c.beta2, l.eps = c.eps;
    l.weight_decay = c.weight_decay, l.clip_norm = c.clip_norm;
    l.warmup = c.warmup, l.seed = c.seed;
    return l;
  }
};

// One pre-LN block of causal self-attention and a feed-forward layer.
class Block : public sg::Module {
 public:
  Block(const LmConfig& c, sg::Generator* dropout_gen, sg::Generator& init)
      : attn(c.d_model, c.heads, c.dropout, dropout_gen, init),
        ff(c.d_model, c.d_ff, c.dropout, dropout_gen, init),
        ln1(c.d_model),
        ln2(c.d_model),
        drop_(c.dropout, dropout_gen) {
    register_module("attn", attn);
    register_module("ff", ff);
    register_module("ln1", ln1);
    register_module("ln2", ln2);
    register_module("", drop_);
  }

  // x: (B, T, C); causal: (1, 1, T, T) -> (B, T, C).
  Tensor forward(const Tensor& x, const IntTensor& causal) const {
    const Tensor h = ln1.forward(x);
    const Tensor y = x + drop_.forward(attn.forward_self(h, &causal));
    return y + drop_.forward(ff.forward(ln2.forward(y)));
  }

  sg::MultiHeadAttention attn;
  sg::FeedForward ff;
  sg::LayerNorm ln1, ln2;

 private:
  sg::Dropout drop_;
};

class CharLm : public sg::Module {
 public:
  CharLm(const LmConfig& c, int64_t vocab)
      : init_gen_(c.seed),
        dropout_gen_(c.seed + 1),
        scale_(std::sqrt(static_cast<double>(c.d_model))),
        embed_(vocab, c.d_model, init_gen_, 1 / scale_),
        pos_(c.d_model, sg::DType::f32, c.context),
        drop_(c.dropout, &dropout_gen_),
        norm_(c.d_model),
        head_(c.d_model, vocab, init_gen_) {
    register_module("embed", embed_);
    register_module("", drop_);
    for (int64_t i = 0; i < c.layers; ++i) {
      blocks_.push_back(std::make_unique<Block>(c, &dropout_gen_, init_gen_));
      register_module("blocks." + std::to_string(i), *blocks_.back());
    }
    register_module("norm", norm_);
    register_module("head", head_);
  }

  // ids: (B, T), T <= context -> logits (B, T, V).
  Tensor forward(const IntTensor& ids) const {
    const IntTensor causal = sg::causal_mask(ids.shape[1]);
    Tensor x = drop_.forward(pos_.forward(embed_.forward(ids) * scale_));
    for (const auto& b : blocks_) x = b->forward(x, causal);
    return head_.forward(norm_.forward(x));
  }

  // The dropout masks' generator: part of the state a resume restores.
  sg::Generator& dropout_generator() { return dropout_gen_; }

 private:
  sg::Generator init_gen_, dropout_gen_;
  double scale_;
  sg::Embedding embed_;
  sg::PositionalEncoding pos_;
  sg::Dropout drop_;
  std::vector<std::unique_ptr<Block>> blocks_;
  sg::LayerNorm norm_;
  sg::Linear head_;
};

// Everything a run is: the model, the optimizer, the schedule, where the data comes from.
struct Run {
  LmConfig cfg;
  sg::Vocab vocab;
  std::unique_ptr<CharLm> model;
  std::unique_ptr<sg::AdamW> opt;
  sg::Schedule schedule;
  sg::Generator data;  // draws the batches' windows
  int64_t step = 0;

  Run(const LmConfig& c, sg::Vocab v) : cfg(c), vocab(std::move(v)), data(c.seed + 2) {
    model = std::make_unique<CharLm>(cfg, vocab.size());
    sg::AdamOptions o;
    o.lr = cfg.lr, o.beta1 = cfg.beta1, o.beta2 = cfg.beta2, o.eps = cfg.eps;
    o.weight_decay = cfg.weight_decay;
    opt = std::make_unique<sg::AdamW>(model->named_parameters(), o);
    schedule = {sg::ScheduleKind::cosine, cfg.lr, cfg.warmup, 0, cfg.steps};
  }
};

// B random windows of context + 1 characters: inputs (B, T) and next characters (B * T).
std::pair<IntTensor, IntTensor> draw_batch(Run& r, const std::vector<int64_t>& text) {
  const int64_t B = r.cfg.batch, T = r.cfg.context;
  IntTensor x = IntTensor::zeros({B, T}), y = IntTensor::zeros({B * T});
  for (int64_t b = 0; b < B; ++b) {
    const auto start = static_cast<int64_t>(r.data.below(text.size() - T));
    for (int64_t t = 0; t < T; ++t) {
      x.data[b * T + t] = text[start + t];
      y.data[b * T + t] = text[start + t + 1];
    }
  }
  return {x, y};
}

double train_step(Run& r, const std::vector<int64_t>& text) {
  const auto [x, y] = draw_batch(r, text);
  r.opt->zero_grad(true);
  const Tensor logits = r.model->forward(x);
  const Tensor loss = sg::cross_entropy(sg::reshape(logits, {-1, r.vocab.size()}), y);
  loss.backward();
  // Clipping's factor is applied inside the optimizer's pass (ClipApply::defer).
  const sg::ClipResult clip = sg::clip_grad_norm(r.opt->params(), r.cfg.clip_norm,
                                                 sg::NonFinite::error, sg::ClipApply::defer);
  r.opt->set_lr(sg::schedule_lr(r.schedule, r.opt->step_count() + 1));
  r.opt->step(clip.coef);
  ++r.step;
  return loss.item();
}

void train_to(Run& r, const std::vector<int64_t>& text, int64_t until, const char* who) {
  while (r.step < until) {
    const double loss = train_step(r, text);
    if (r.step % 20 == 0 || r.step == until)
      std::cout << who << " step " << r.step << "  loss " << loss << "  lr " << r.opt->lr() << "\n";
  }
}

void save(const Run& r, const std::string& path, const std::string& text_file) {
  sg::TrainState st;
  st.step = r.step;
  st.schedule = r.schedule;
  st.rngs["data"] = r.data.state();
  st.rngs["dropout"] = r.model->dropout_generator().state();
  sg::save_checkpoint(path, *r.model, r.opt.get(), r.cfg.to_config(text_file), r.vocab.tokens(),
                      r.vocab.tokens(), st);
  std::cout << "saved " << path << " at step " << r.step << "\n";
}

// A run rebuilt from a checkpoint alone: settings, vocabulary, parameters, optimizer state,
// schedule, generators and step.
Run resume(const std::string& path) {
  const sg::CheckpointContents c = sg::read_checkpoint(path);
  Run r(LmConfig::from_config(c.config), sg::Vocab(c.src_vocab));
  sg::load_model(path, *r.model);
  sg::load_optimizer(path, *r.opt);
  if (c.state.schedule) r.schedule = *c.state.schedule;
  r.data.set_state(c.state.rngs.at("data"));
  r.model->dropout_generator().set_state(c.state.rngs.at("dropout"));
  r.step = c.state.step;
  return r;
}

// `n` characters after `prompt`, each drawn from the model's softmax (eval mode: no dropout).
std::string sample(Run& r, const std::string& prompt, int n, uint64_t seed) {
  const sg::Tokenizer chars(sg::TokenizeMode::character);
  std::vector<int64_t> ids = r.vocab.encode(chars.tokenize(prompt));
  sg::Generator g(seed);
  sg::NoGradGuard no_grad;
  r.model->eval();
  for (int i = 0; i < n; ++i) {
    const int64_t T = std::min<int64_t>(ids.size(), r.cfg.context);
    const IntTensor x({1, T}, std::vector<int64_t>(ids.end() - T, ids.end()));
    const Tensor logits = r.model->forward(x);
    const std::vector<double> p = sg::softmax(sg::slice(logits, 1, T - 1, T)).to_vector();
    double u = g.uniform();
    int64_t next = static_cast<int64_t>(p.size()) - 1;
    for (size_t k = 0; k < p.size(); ++k)
      if ((u -= p[k]) < 0) {
        next = static_cast<int64_t>(k);
        break;
      }
    ids.push_back(next);
  }
  r.model->train();
  return chars.detokenize(r.vocab.decode(ids));
}

// Bit-for-bit equality of every parameter and every optimizer buffer; prints the first
// difference.
bool same_state(const Run& a, const Run& b) {
  auto same = [](const Tensor& x, const Tensor& y) {
    return x.shape() == y.shape() &&
           std::memcmp(x.contiguous_data().data<float>(), y.contiguous_data().data<float>(),
                       x.numel() * sizeof(float)) == 0;
  };
  const sg::NamedTensors pa = a.model->named_parameters(), pb = b.model->named_parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    if (!same(pa[i].second, pb[i].second)) {
      std::cout << "parameter " << pa[i].first << " differs\n";
      return false;
    }
  const sg::OptimizerState sa = a.opt->export_state(), sb = b.opt->export_state();
  for (const auto& [name, state] : sa.params)
    for (const auto& [buffer, t] : state.buffers)
      if (!same(t, sb.params.at(name).buffers.at(buffer))) {
        std::cout << "optimizer " << buffer << " of " << name << " differs\n";
        return false;
      }
  return sa.step == sb.step;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: char_lm TEXT DIR [STEPS]\n";
    return 2;
  }
  const std::string text_file = argv[1], dir = argv[2];
  try {
    // A model this small runs fastest on one thread. (As with `seqgrad train --resume`, an exact
    // resume needs the thread count of the run it continues.)
    sg::use_threads(1);
    LmConfig cfg;
    if (argc == 4) cfg.steps = std::stoll(argv[3]);
    std::ifstream in(text_file, std::ios::binary);
    if (!in) throw std::runtime_error(text_file + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    const sg::Tokenizer chars(sg::TokenizeMode::character);
    const std::vector<std::string> tokens = chars.tokenize(ss.str());
    if (static_cast<int64_t>(tokens.size()) <= cfg.context)
      throw std::runtime_error(text_file + ": needs more than " + std::to_string(cfg.context) +
                               " characters");
    std::filesystem::create_directories(dir);

    Run straight(cfg, sg::Vocab::build({tokens}, 1));
    const std::vector<int64_t> text = straight.vocab.encode(tokens);
    std::cout << text.size() << " characters, vocabulary " << straight.vocab.size() << ", "
              << straight.model->parameter_count() << " parameters\n";
    train_to(straight, text, cfg.steps / 2, "straight");
    save(straight, dir + "/half.h5", text_file);
    train_to(straight, text, cfg.steps, "straight");
    save(straight, dir + "/final.h5", text_file);
    std::cout << "sample: " << sample(straight, "The ", 60, 7) << "\n";

    Run resumed = resume(dir + "/half.h5");
    std::cout << "resumed " << dir << "/half.h5 at step " << resumed.step << "\n";
    train_to(resumed, text, cfg.steps, "resumed");
    if (!same_state(straight, resumed)) {
      std::cout << "FAIL: the resumed run differs from the straight run\n";
      return 1;
    }
    std::cout << "resumed run equals the straight run bit for bit at step " << resumed.step << " ("
              << straight.model->named_parameters().size()
              << " parameters and their AdamW state)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "char_lm: error: " << e.what() << "\n";
    return 1;
  }
}
