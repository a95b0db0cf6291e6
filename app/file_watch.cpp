#include "app/file_watch.hpp"

#include <chrono>
#include <optional>
#include <poll.h>
#include <set>
#include <sys/inotify.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace urlpoll {

namespace {

struct file_watch_state {
  int fd = -1;
  /// The file names watched, by the watch descriptor of their folder.
  std::map<int, std::set<std::string>> names;
  /// When to ask for a reload, once nothing changed since.
  std::optional<std::chrono::steady_clock::time_point> due;
  static inline const char* name = "file_watch";

  ~file_watch_state() {
    if (fd >= 0)
      ::close(fd);
  }

  void watch(const std::vector<std::string>& files) {
    for (auto& [wd, ignored] : names)
      inotify_rm_watch(fd, wd);
    names.clear();
    for (auto& file : files) {
      if (file.empty())
        continue;
      auto slash = file.rfind('/');
      auto folder = slash == std::string::npos ? std::string{"."}
                    : slash == 0               ? std::string{"/"}
                                               : file.substr(0, slash);
      auto base = slash == std::string::npos ? file : file.substr(slash + 1);
      auto wd = inotify_add_watch(fd, folder.c_str(),
                                  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                    IN_DELETE | IN_ATTRIB);
      if (wd >= 0)
        names[wd].insert(base);
    }
  }

  // Reads what inotify has; true when a watched file was among it.
  bool drain() {
    alignas(inotify_event) char buf[8192];
    bool hit = false;
    for (;;) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n <= 0)
        return hit;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        auto i = names.find(ev->wd);
        if (i != names.end() && ev->len > 0 && i->second.count(ev->name) > 0)
          hit = true;
      }
    }
  }
};

caf::behavior file_watch(caf::stateful_actor<file_watch_state>* self,
                         reloader_actor reloader,
                         std::vector<std::string> files, caf::timespan settle) {
  auto& st = self->state;
  st.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  st.watch(files);
  self->send(self, look_atom_v);
  return {
    [=](look_atom) {
      auto& st = self->state;
      using clock = std::chrono::steady_clock;
      int wait_ms = 250;
      if (st.due)
        wait_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(*st.due -
                                                                clock::now())
            .count(),
          0, 250));
      pollfd p{st.fd, POLLIN, 0};
      if (st.fd >= 0 && ::poll(&p, 1, wait_ms) > 0 && st.drain())
        st.due = clock::now() + settle;
      if (st.due && clock::now() >= *st.due) {
        st.due.reset();
        caf::anon_send(reloader, reload_atom_v, std::string{"the file watch"});
      }
      self->send(self, look_atom_v);
    },
    [=](configure_atom, const std::vector<std::string>& files) {
      self->state.watch(files);
    },
  };
}

} // namespace

caf::actor spawn_file_watch(caf::actor_system& sys, reloader_actor reloader,
                            std::vector<std::string> files,
                            caf::timespan settle) {
  return sys.spawn<caf::detached>(file_watch, std::move(reloader),
                                  std::move(files), settle);
}

} // namespace urlpoll
