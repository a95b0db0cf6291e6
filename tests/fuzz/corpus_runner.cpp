// Runs a fuzz target's LLVMFuzzerTestOneInput on every file of its corpus
// folders (tests/fuzz/NAME/: the seeds and the crash-* regressions), without
// libFuzzer: how the normal build runs the corpora as tests. A crash, a
// sanitizer report or a broken property ends it like any failing test.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (auto& entry : fs::directory_iterator{argv[i]})
        if (entry.is_regular_file())
          inputs.push_back(entry.path());
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs: give the corpus folders\n");
    return 1;
  }
  for (auto& path : inputs) {
    std::ifstream file{path, std::ios::binary};
    if (!file) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    std::vector<uint8_t> data{std::istreambuf_iterator<char>{file},
                              std::istreambuf_iterator<char>{}};
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  std::printf("%zu passed, 0 failed\n", inputs.size());
  return 0;
}
