#include "app/file_watch.hpp"

#include <chrono>
#include <cstdlib>
#include <optional>
#include <poll.h>
#include <set>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace urlpoll {

namespace {

// What says that a file changed: where it leads (through symlinks) and
// what stat(2) sees there; all zero when it is missing.
struct fingerprint {
  std::string real_path;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t modified_ns = 0;

  static fingerprint of(const std::string& file) {
    fingerprint result;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
      return result;
    if (char* real = ::realpath(file.c_str(), nullptr)) {
      result.real_path = real;
      std::free(real);
    }
    result.device = st.st_dev;
    result.inode = st.st_ino;
    result.size = st.st_size;
    result.modified_ns =
      int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    return result;
  }

  bool operator!=(const fingerprint& other) const {
    return std::tie(real_path, device, inode, size, modified_ns) !=
           std::tie(other.real_path, other.device, other.inode, other.size,
                    other.modified_ns);
  }
};

std::string folder_of(const std::string& file) {
  auto slash = file.rfind('/');
  return slash == std::string::npos ? std::string{"."}
         : slash == 0               ? std::string{"/"}
                                    : file.substr(0, slash);
}

struct file_watch_state {
  int fd = -1;
  /// The files watched, and how each looked when last read.
  std::vector<std::pair<std::string, fingerprint>> files;
  /// The watch descriptors of their folders, and of the folders their
  /// symlinks lead to (a ConfigMap's ..data swap happens there).
  std::set<int> folders;
  /// When to ask for a reload, once nothing changed since.
  std::optional<std::chrono::steady_clock::time_point> due;
  static inline const char* name = "file_watch";

  ~file_watch_state() {
    if (fd >= 0)
      ::close(fd);
  }

  void watch(const std::vector<std::string>& paths) {
    for (auto wd : folders)
      inotify_rm_watch(fd, wd);
    folders.clear();
    files.clear();
    for (auto& file : paths) {
      if (file.empty())
        continue;
      auto seen = fingerprint::of(file);
      std::set<std::string> dirs{folder_of(file)};
      if (!seen.real_path.empty())
        dirs.insert(folder_of(seen.real_path));
      for (auto& dir : dirs) {
        auto wd = inotify_add_watch(fd, dir.c_str(),
                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                      IN_DELETE | IN_ATTRIB | IN_MOVED_FROM);
        if (wd >= 0)
          folders.insert(wd);
      }
      files.emplace_back(file, std::move(seen));
    }
  }

  // Reads what inotify has; true when a watched file now looks different.
  bool changed() {
    alignas(inotify_event) char buf[8192];
    bool events = false;
    while (::read(fd, buf, sizeof(buf)) > 0)
      events = true;
    if (!events)
      return false;
    bool result = false;
    for (auto& [file, seen] : files) {
      auto now = fingerprint::of(file);
      if (now != seen) {
        seen = std::move(now);
        result = true;
      }
    }
    return result;
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
      if (st.fd >= 0 && ::poll(&p, 1, wait_ms) > 0 && st.changed())
        st.due = clock::now() + settle;
      if (st.due && clock::now() >= *st.due) {
        st.due.reset();
        caf::anon_send(reloader, reload_atom_v, std::string{"the file watch"});
      }
      self->send(self, look_atom_v);
    },
    [=](configure_atom, const std::vector<std::string>& files,
        caf::timestamp read_at) {
      auto& st = self->state;
      st.watch(files);
      // Changed since the reload read it, before this watch began: that
      // change is not applied yet. (File times come from a coarse clock,
      // hence the margin; a reload too many changes nothing.)
      for (auto& [file, seen] : st.files)
        if (seen.modified_ns >=
            (read_at.time_since_epoch() - std::chrono::milliseconds{50})
              .count())
          st.due = std::chrono::steady_clock::now() + settle;
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
