// What the fuzz targets share: a folder of their own for the files that the
// configuration loader reads, made once per process and removed at its end.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace urlpoll::fuzz {

class scratch_dir {
public:
  scratch_dir() {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "urlpoll-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      std::abort();
    path = pattern;
  }

  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  /// Writes `size` bytes to the file `name` here and returns its path.
  std::string write(const std::string& name, const void* data,
                    size_t size) const {
    auto file = path + "/" + name;
    std::ofstream out{file, std::ios::binary | std::ios::trunc};
    out.write(static_cast<const char*>(data),
              static_cast<std::streamsize>(size));
    return file;
  }

  std::string path;
};

/// The process's scratch folder.
inline const scratch_dir& scratch() {
  static scratch_dir dir;
  return dir;
}

/// A property of urlpoll's that an input broke: a finding like a crash.
#define URLPOLL_FUZZ_ASSERT(cond)                                              \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

} // namespace urlpoll::fuzz
