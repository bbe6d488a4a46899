#include "train/checkpoint/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "datasets/vocab.h"
#include "layers/module.h"
#include "optim/ema.h"
#include "optim/optimizer.h"
#include "train/checkpoint/hdf5.h"
#include "train/checkpoint/state_io.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw std::runtime_error(path + ": cannot open to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error(path + ": fsync failed: " + std::strerror(err));
}

std::string temp_name(const fs::path& target) {
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
  return (target.parent_path() / name).string();
}

}  // namespace

void atomic_write(const std::string& path, const std::function<void(const std::string&)>& write,
                  bool durable) {
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string tmp = temp_name(dir / target.filename());
  try {
    write(tmp);
    if (durable) fsync_path(tmp, false);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec)
      throw std::runtime_error(path + ": cannot rename the saved file into place: " + ec.message());
    if (durable) sync_folder(dir.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void atomic_write_file(const std::string& path, const std::string& bytes, bool durable) {
  const auto write = [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot create '" + tmp + "': " + std::strerror(errno));
    f << bytes;
    f.close();
    if (!f) throw std::runtime_error("cannot write '" + tmp + "'");
  };
  atomic_write(path, write, durable);
}

void sync_folder(const std::string& dir) {
  fsync_path(dir, true);
}

void create_folders(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec, probe;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, probe))
    throw std::runtime_error("cannot create the folder '" + dir +
                             "': " + (ec ? ec.message() : "a file is in the way"));
}

void create_parent_folders(const std::string& path) {
  create_folders(fs::path(path).parent_path().string());
}

namespace {

// True for a writer's temporary ".<name>.h5.tmp-<pid>", ".<name>.html.tmp-<pid>" (the report) or
// ".<name>.h5.tmp-link"; sets pid
// (0 for the link) so that a live writer's file is left alone.
bool parse_temporary(const std::string& name, long& pid) {
  const std::string mark = ".tmp-";
  const size_t at = name.rfind(mark);
  if (name.size() < 2 || name[0] != '.' || at == std::string::npos) return false;
  const std::string stem = name.substr(0, at);
  const auto ends_with = [&](const std::string& ext) {
    return stem.size() > ext.size() + 1 &&
           stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (!ends_with(".h5") && !ends_with(".html")) return false;
  const std::string tail = name.substr(at + mark.size());
  if (tail == "link") {
    pid = 0;
    return true;
  }
  if (tail.empty() || tail.size() > 18 ||
      !std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  pid = std::stol(tail);
  return true;
}

}  // namespace

int64_t checkpoint_step_of(const std::string& file_name) {
  const std::string head = "ckpt-", tail = ".h5";
  if (file_name.size() <= head.size() + tail.size() || file_name.rfind(head, 0) != 0 ||
      file_name.compare(file_name.size() - tail.size(), tail.size(), tail) != 0)
    return -1;
  const std::string digits =
      file_name.substr(head.size(), file_name.size() - head.size() - tail.size());
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

void remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    long pid = 0;
    if (!parse_temporary(e.path().filename().string(), pid)) continue;
    if (pid != 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) continue;
    fs::remove(e.path(), ec);
  }
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Config& config, const std::vector<std::string>& src_vocab,
                     const std::vector<std::string>& tgt_vocab, const TrainState& st,
                     const std::string& spm_model, const Ema* ema) {
  atomic_write(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp);
    f.set_attr_str("/", "format", kCheckpointFormat);
    f.set_attr_i64("/", "format_version", kCheckpointVersion);
    f.set_attr_i64("/", "step", st.step);
    f.set_attr_i64("/", "epoch", st.epoch);
    f.set_attr_str("/", "seqgrad_version", SEQGRAD_VERSION);
    f.create_group("model");
    // Every PyTorch name, a tied matrix under each of its names (docs/checkpoint.md).
    for (const auto& [name, p] : model.state_dict()) {
      const Tensor t = p.dtype() == DType::f32 ? p.contiguous_data() : p.to(DType::f32);
      f.write("model/" + name, t.data<float>(), t.shape());
    }
    if (ema) {
      f.create_group("ema");
      f.set_attr_f64("ema", "decay", ema->decay());
      for (const auto& [name, p] : model.state_dict()) {
        const Tensor* avg = ema->average_of(p);
        if (!avg) throw std::logic_error("save_checkpoint: no average of parameter " + name);
        f.write("ema/" + name, avg->data<float>(), avg->shape());
      }
    }
    if (optimizer) save_optimizer_state(f, "optimizer", *optimizer);
    if (st.schedule) {
      save_schedule(f, "scheduler", *st.schedule);
      f.set_attr_i64("scheduler", "step", optimizer ? optimizer->step_count() : 0);
      f.set_attr_f64("scheduler", "last_lr", optimizer ? optimizer->lr() : 0.0);
    }
    f.create_group("rng");
    for (const auto& [name, s] : st.rngs) f.write("rng/" + name, s.data(), Shape{4});
    f.create_group("data");
    for (const auto& [name, v] : st.data) f.set_attr_i64("data", name, v);
    f.set_attr_f64("data", "best_score", st.best_score);
    f.set_attr_f64("data", "patience_score", st.patience_score);
    f.set_attr_i64("data", "evals_without_improvement", st.evals_without_improvement);
    if (st.lengths.known()) {
      f.set_attr_i64("data", "max_tgt_len", st.lengths.max_tgt_len);
      f.set_attr_i64("data", "max_len_ratio_num", st.lengths.ratio_num);
      f.set_attr_i64("data", "max_len_ratio_den", st.lengths.ratio_den);
    }
    f.create_group("config");
    f.set_attr_str("config", "json", config.to_json().dump());
    f.write_strings("vocab/src", src_vocab);
    f.write_strings("vocab/tgt", tgt_vocab);
    if (!spm_model.empty()) f.write_bytes("vocab/spm", spm_model);
    f.flush();
    f.close();
  });
}

CheckpointContents read_checkpoint(const std::string& path) {
  const H5File f = H5File::open_read(path);
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  if (!f.has_attr("/", "format") || f.attr_str("/", "format") != kCheckpointFormat)
    fail("not a seqgrad checkpoint (attribute 'format' is not '" + std::string(kCheckpointFormat) +
         "')");
  CheckpointContents c;
  if (!f.has_attr("/", "format_version")) fail("missing attribute 'format_version'");
  c.format_version = f.attr_i64("/", "format_version");
  if (c.format_version > kCheckpointVersion)
    fail("format_version " + std::to_string(c.format_version) +
         " is newer than this seqgrad reads (" + std::to_string(kCheckpointVersion) + ")");
  if (c.format_version < 1) fail("invalid format_version " + std::to_string(c.format_version));
  for (const char* need : {"step", "epoch"})
    if (!f.has_attr("/", need)) fail(std::string("missing attribute '") + need + "'");
  c.state.step = f.attr_i64("/", "step");
  c.state.epoch = f.attr_i64("/", "epoch");
  for (const char* g : {"model", "config", "vocab/src", "vocab/tgt", "rng", "data"})
    if (!f.exists(g)) fail(std::string("missing '/") + g + "'");
  try {
    c.config = Config::from_json(nlohmann::json::parse(f.attr_str("config", "json")));
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("unreadable /config json: ") + e.what());
  }
  c.src_vocab = f.read_strings("vocab/src");
  c.tgt_vocab = f.read_strings("vocab/tgt");
  for (const auto& [name, tokens] : {std::pair{"src", &c.src_vocab}, {"tgt", &c.tgt_vocab}}) {
    try {
      Vocab{*tokens};  // the specials first, no empty or repeated token
    } catch (const std::exception& e) {
      fail(std::string("/vocab/") + name + ": " + e.what());
    }
  }
  if (f.exists("vocab/spm")) c.spm_model = f.read_bytes("vocab/spm");
  if (c.config.tokenize == "spm" && c.config.task == "tsv" && c.spm_model.empty())
    fail("missing '/vocab/spm', the SentencePiece model its run tokenized with");
  for (const auto& name : f.list("rng")) {
    const auto a = f.read_u64("rng/" + name);
    if (a.data.size() != 4) fail("/rng/" + name + " does not hold a generator state");
    c.state.rngs[name] = {a.data[0], a.data[1], a.data[2], a.data[3]};
  }
  for (const auto& name : f.attr_names("data")) {
    // best_valid_loss and patience_loss: the names before --best-metric (always the loss).
    if (name == "best_score" || name == "best_valid_loss")
      c.state.best_score = f.attr_f64("data", name);
    else if (name == "patience_score" || name == "patience_loss")
      c.state.patience_score = f.attr_f64("data", name);
    else if (name == "evals_without_improvement")
      c.state.evals_without_improvement = f.attr_i64("data", name);
    else
      c.state.data[name] = f.attr_i64("data", name);
  }
  // The training lengths: all three attributes, or none (a checkpoint from before they existed).
  int64_t* lengths[] = {&c.state.lengths.max_tgt_len, &c.state.lengths.ratio_num,
                        &c.state.lengths.ratio_den};
  const char* names[] = {"max_tgt_len", "max_len_ratio_num", "max_len_ratio_den"};
  int found = 0;
  for (int i = 0; i < 3; ++i)
    if (const auto it = c.state.data.find(names[i]); it != c.state.data.end()) {
      *lengths[i] = it->second;
      c.state.data.erase(it);
      ++found;
    }
  if (found != 0 && found != 3)
    fail("/data has only some of max_tgt_len, max_len_ratio_num and max_len_ratio_den");
  for (int i = 0; found && i < 3; ++i)
    if (*lengths[i] < 1)
      fail(std::string("/data: ") + names[i] + " must be at least 1, got " +
           std::to_string(*lengths[i]));
  if (f.exists("scheduler")) c.state.schedule = load_schedule(f, "scheduler");
  if (f.exists("optimizer") && f.has_attr("optimizer", "type"))
    c.optimizer_type = f.attr_str("optimizer", "type");
  if (f.exists("ema")) {
    if (!f.has_attr("ema", "decay")) fail("/ema has no attribute 'decay'");
    c.ema_decay = f.attr_f64("ema", "decay");
    if (!(c.ema_decay > 0 && c.ema_decay < 1))
      fail("/ema: decay must be in (0, 1), got " + std::to_string(c.ema_decay));
  }
  return c;
}

void load_model(const std::string& path, const Module& model, const std::string& group) {
  const H5File f = H5File::open_read(path);
  if (!f.exists(group)) throw std::runtime_error(path + ": missing '/" + group + "'");
  // A tied parameter is read under its first name; its other names must hold the same values.
  const NamedTensors all = model.state_dict();
  std::map<const TensorImpl*, int> names_of;
  for (const auto& [name, p] : all) ++names_of[p.impl()];
  std::map<const TensorImpl*, std::pair<std::string, std::vector<float>>> tied;
  for (const auto& [name, p] : all) {
    const std::string ds = group + "/" + name;
    if (!f.exists(ds)) throw std::runtime_error(path + ": missing parameter /" + ds);
    const Shape s = f.shape_of(ds);
    if (s != p.shape())
      throw std::runtime_error(path + ": parameter " + name + " has shape " + shape_str(s) +
                               ", the model needs " + shape_str(p.shape()));
    auto a = f.read_f32(ds);
    const auto first = tied.find(p.impl());
    if (first != tied.end()) {
      if (a.data != first->second.second)
        throw std::runtime_error(path + ": parameter " + name + " differs from " +
                                 first->second.first + ", which the model ties it to");
      continue;
    }
    p.copy_from(Tensor::from_floats(a.data, a.shape).to(p.dtype()));
    if (names_of[p.impl()] > 1) tied.emplace(p.impl(), std::pair{name, std::move(a.data)});
  }
}

void load_optimizer(const std::string& path, Optimizer& optimizer) {
  const H5File f = H5File::open_read(path);
  if (!f.exists("optimizer")) throw std::runtime_error(path + ": missing '/optimizer'");
  load_optimizer_state(f, "optimizer", optimizer);
}

}  // namespace sg
