#include "train/checkpoint/state_io.h"

#include <set>
#include <stdexcept>

#include "train/checkpoint/hdf5.h"

namespace sg {

void save_optimizer_state(H5File& file, const std::string& group, const Optimizer& optimizer) {
  const OptimizerState st = optimizer.export_state();
  const std::vector<std::string> buffers = optimizer.buffers_for(st.hyper);
  file.create_group(group);
  file.set_attr_str(group, "type", st.type);
  file.set_attr_i64(group, "step", st.step);
  for (const auto& [key, value] : st.hyper) file.set_attr_f64(group, key, value);
  file.create_group(group + "/step");
  for (const auto& [name, unused] : optimizer.params()) {
    const ParamState& ps = st.params.at(name);
    file.write(group + "/step/" + name, &ps.step, {});
    for (const std::string& b : buffers) {
      const Tensor& t = ps.buffers.at(b);
      file.write(group + "/" + b + "/" + name, t.data<float>(), t.shape());
    }
  }
}

void load_optimizer_state(const H5File& file, const std::string& group, Optimizer& optimizer) {
  const std::string where = "optimizer state '" + group + "' in '" + file.path() + "'";
  if (!file.exists(group)) throw std::runtime_error(where + ": the group is missing");
  OptimizerState st;
  st.type = file.attr_str(group, "type");
  if (st.type != optimizer.type())
    throw std::runtime_error(where + ": it is for optimizer '" + st.type + "', not '" +
                             optimizer.type() + "'");
  st.step = file.attr_i64(group, "step");
  for (const auto& [key, unused] : optimizer.hyper()) {
    if (!file.has_attr(group, key))
      throw std::runtime_error(where + ": missing hyper-parameter attribute '" + key + "'");
    st.hyper[key] = file.attr_f64(group, key);
  }
  const std::vector<std::string> names = optimizer.buffers_for(st.hyper);
  const std::string step_group = group + "/step";
  if (!file.exists(step_group)) throw std::runtime_error(where + ": missing '" + step_group + "'");
  std::set<std::string> stored;
  for (const std::string& pname : file.list(step_group)) stored.insert(pname);
  for (const std::string& b : names)
    if (file.exists(group + "/" + b))
      for (const std::string& pname : file.list(group + "/" + b)) stored.insert(pname);
  std::set<std::string> known;
  for (const auto& [name, p] : optimizer.params()) known.insert(name);
  for (const std::string& pname : stored)
    if (!known.count(pname))
      throw std::runtime_error(where + ": state for unknown parameter '" + pname + "'");
  for (const auto& [name, param] : optimizer.params()) {
    ParamState& ps = st.params[name];
    const std::string step_path = step_group + "/" + name;
    if (!file.exists(step_path))
      throw std::runtime_error(where + ": missing '" + step_path + "' (no state for parameter '" +
                               name + "')");
    const auto step = file.read_i64(step_path);
    if (step.data.size() != 1)
      throw std::runtime_error(where + ": '" + step_path + "' is not a scalar");
    ps.step = step.data[0];
    for (const std::string& b : names) {
      const std::string path = group + "/" + b + "/" + name;
      if (!file.exists(path))
        throw std::runtime_error(where + ": missing '" + path + "' (no " + b + " for parameter '" +
                                 name + "')");
      const Shape shape = file.shape_of(path);
      if (shape != param.shape())
        throw std::runtime_error(where + ": '" + path + "' has shape " + shape_str(shape) +
                                 ", the parameter has " + shape_str(param.shape()));
      Tensor t = Tensor::empty(shape, DType::f32);
      file.read_into(path, t.data<float>(), t.numel());
      ps.buffers[b] = t;
    }
  }
  try {
    optimizer.import_state(st);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
}

void save_schedule(H5File& file, const std::string& group, const Schedule& s) {
  file.create_group(group);
  file.set_attr_str(group, "kind", schedule_kind_name(s.kind));
  file.set_attr_f64(group, "base_lr", s.base_lr);
  file.set_attr_i64(group, "warmup", s.warmup);
  file.set_attr_i64(group, "d_model", s.d_model);
  file.set_attr_i64(group, "total_steps", s.total_steps);
}

Schedule load_schedule(const H5File& file, const std::string& group) {
  Schedule s;
  try {
    s.kind = parse_schedule_kind(file.attr_str(group, "kind"));
    s.base_lr = file.attr_f64(group, "base_lr");
    s.warmup = file.attr_i64(group, "warmup");
    s.d_model = file.attr_i64(group, "d_model");
    s.total_steps = file.attr_i64(group, "total_steps");
    validate_schedule(s);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("schedule '" + group + "' in '" + file.path() + "': " + e.what());
  }
  return s;
}

}  // namespace sg
