#include "app/logging.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sys/stat.h>

namespace urlpoll {

const char* to_string(log_level x) {
  switch (x) {
  case log_level::error:
    return "error";
  case log_level::warning:
    return "warning";
  case log_level::notice:
    return "notice";
  default:
    return "info";
  }
}

std::optional<log_level> parse_log_level(const std::string& name) {
  for (auto x : {log_level::error, log_level::warning, log_level::notice,
                 log_level::info})
    if (name == to_string(x))
      return x;
  return std::nullopt;
}

bool stderr_is_journal() {
  static const bool result = [] {
    auto* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr)
      return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
      return false;
    struct stat st {};
    if (::fstat(2, &st) != 0)
      return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
  }();
  return result;
}

std::string render_log(const log_line& line, bool journal) {
  std::string prefix;
  if (journal)
    prefix = "<" + std::to_string(static_cast<int>(line.level)) + ">";
  std::string out;
  out.reserve(line.text.size() + 8);
  size_t at = 0;
  for (;;) {
    auto end = line.text.find('\n', at);
    out += prefix;
    out.append(line.text, at, end == std::string::npos ? end : end - at);
    out += '\n';
    if (end == std::string::npos)
      return out;
    at = end + 1;
  }
}

void write_log(log_level level, const std::string& text) {
  std::cerr << render_log({level, text}, stderr_is_journal()) << std::flush;
}

} // namespace urlpoll
