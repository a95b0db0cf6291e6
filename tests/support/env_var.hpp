// One environment variable of the test process, set while it lives and then
// as it was: the processes a test starts meanwhile inherit it.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace urlpoll::test {

class env_var {
public:
  env_var(const char* name, const std::string& value) : name_{name} {
    if (auto x = std::getenv(name))
      old_ = x;
    ::setenv(name, value.c_str(), 1);
  }
  env_var(const env_var&) = delete;
  env_var& operator=(const env_var&) = delete;
  ~env_var() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

  /// `value` after what the variable holds, if anything, and `separator`.
  static std::string after(const char* name, const std::string& value,
                           const char* separator) {
    auto x = std::getenv(name);
    return x && *x ? std::string{x} + separator + value : value;
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

} // namespace urlpoll::test
