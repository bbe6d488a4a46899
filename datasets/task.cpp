#include "datasets/task.h"

#include <stdexcept>

#include "datasets/dates.h"
#include "datasets/synthetic.h"

namespace sg {

std::shared_ptr<const Task> make_task(const std::string& name, const TaskOptions& opt) {
  if (name == "copy") return std::make_shared<SyntheticTask>(SyntheticKind::copy, opt);
  if (name == "reverse") return std::make_shared<SyntheticTask>(SyntheticKind::reverse, opt);
  if (name == "sort") return std::make_shared<SyntheticTask>(SyntheticKind::sort, opt);
  if (name == "dates") return std::make_shared<DatesTask>();
  throw std::invalid_argument("unknown task '" + name +
                              "' (expected copy, reverse, sort or dates)");
}

}  // namespace sg
