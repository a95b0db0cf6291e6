// A directory of files for one test, removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace urlpoll::test {

class temp_dir {
public:
  temp_dir() {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "urlpoll-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  /// Writes `content` to the file `name` here and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    auto file = path + "/" + name;
    std::ofstream{file} << content;
    return file;
  }

  std::string path;
};

} // namespace urlpoll::test
