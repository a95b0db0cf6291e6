#include "app/version.hpp"

#include <caf/config.hpp>
#include <curl/curl.h>

namespace urlpoll {

const char* urlpoll_version() {
  return URLPOLL_VERSION;
}

std::string caf_version() {
  return std::to_string(CAF_MAJOR_VERSION) + "." +
         std::to_string(CAF_MINOR_VERSION) + "." +
         std::to_string(CAF_PATCH_VERSION);
}

std::string libcurl_version() {
  return curl_version_info(CURLVERSION_NOW)->version;
}

std::string version_text() {
  return std::string{"urlpoll "} + urlpoll_version() + "\ncommit " +
         build_commit() + "\nCAF " + caf_version() + "\nlibcurl " +
         libcurl_version() + "\n";
}

} // namespace urlpoll
