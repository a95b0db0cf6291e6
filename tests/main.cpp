#define DOCTEST_CONFIG_IMPLEMENT
#include <csignal>

#include <curl/curl.h>
#include <doctest/doctest.h>

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // A test server whose client hung up must not kill the test run.
  std::signal(SIGPIPE, SIG_IGN);
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  auto result = context.run();
  curl_global_cleanup();
  return result;
}
