// Fuzz target: the URL check and the ways a URL is shown. The input's first
// byte chooses a libcurl with or without IDN support, the rest is the URL.
// check_url must answer, never crash or hang; redact, origin_of,
// punycode_host and redact_password_in must cope with whatever it refuses.
#include <cstdint>
#include <cstdio>
#include <string>

#include "actors/target_url.hpp"
#include "app/targets.hpp"
#include "fuzz_support.hpp"

using namespace urlpoll;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  bool idn = (data[0] & 1) != 0;
  std::string url(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto problem = check_url(url, idn);
  if (problem)
    URLPOLL_FUZZ_ASSERT(!problem->empty());
  auto shown = redact(url);
  // Redacting twice changes nothing: *** is no password to hide again.
  URLPOLL_FUZZ_ASSERT(redact(shown) == shown);
  auto origin = origin_of(url);
  if (!problem)
    URLPOLL_FUZZ_ASSERT(!origin.empty());
  redact_password_in("error: " + url + " failed", url);
  redact_urls_in("cannot poll " + url + ", 'x' " + url);
  auto host = punycode_host(url);
  if (!host.empty())
    for (unsigned char c : host)
      URLPOLL_FUZZ_ASSERT(c < 0x80);
  return 0;
}
