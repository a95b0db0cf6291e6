// The status page: app/status_page.html, built into the binary by CMake so
// that it needs no files at run time.
#pragma once

namespace urlpoll {

extern const char* const status_page_html;

} // namespace urlpoll
