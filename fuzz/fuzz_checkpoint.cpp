// libFuzzer entry point for the checkpoint reader: see fuzz_inputs.h and scripts/fuzz.sh.
#include "fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sg::fuzz::run_checkpoint(data, size);
  return 0;
}
