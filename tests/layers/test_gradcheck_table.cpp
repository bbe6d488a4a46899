// Every row of the gradcheck table is one GoogleTest case: adding an op is adding one row.
#include <gtest/gtest.h>

#include <set>

#include "layers/gradcheck_table.h"

namespace sg {
namespace {

class GradcheckTable : public ::testing::TestWithParam<size_t> {};

TEST_P(GradcheckTable, MatchesCentralDifferences) {
  const GradCase& c = gradcheck_table()[GetParam()];
  const GradResult r = check_gradients(c);
  EXPECT_TRUE(r.error.empty()) << c.name << ": " << r.error;
  EXPECT_TRUE(r.passed) << c.name << ": max abs err " << r.max_abs_err << ", max rel err "
                        << r.max_rel_err;
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  return gradcheck_table()[info.param].name;
}

std::vector<size_t> all_indices() {
  std::vector<size_t> v(gradcheck_table().size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

INSTANTIATE_TEST_SUITE_P(Cases, GradcheckTable, ::testing::ValuesIn(all_indices()), case_name);

}  // namespace
}  // namespace sg

namespace sg {
namespace {

// `--only NAME` and the test names rely on unique case names.
TEST(GradcheckTableNames, AreUniqueAndStartWithAKnownKind) {
  std::set<std::string> seen;
  for (const auto& c : gradcheck_table()) {
    EXPECT_TRUE(seen.insert(c.name).second) << "duplicate case " << c.name;
    EXPECT_TRUE(c.kind == "op" || c.kind == "layer") << c.name;
  }
}

}  // namespace
}  // namespace sg
