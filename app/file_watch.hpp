// file_watch: notices when the configuration changes on disk
// (urlpoll.watch-config).
//
// Owns:     an inotify descriptor watching the folders of the config file
//           and the url-file (a folder, so that an editor's write to a new
//           file and rename over the old one is seen too), and the folders
//           their symlinks lead to; how each file looked when last read
//           (where it leads, inode, size, modification time).
// Receives: (look_atom) from itself: wait up to a quarter second for
//           changes;
//           (configure_atom, files, read at) from the reloader: watch these
//           now (none while watch-config is off); a file changed since the
//           reload read it asks for another.
// Sends:    (reload_atom, "the file watch") to the reloader, once a file
//           looks different and has been quiet for settle time: an
//           editor's save is several events, and a half-written file is not
//           read.
//
// On a thread of its own: it blocks in poll(2).
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "app/reloader.hpp"

namespace urlpoll {

/// Watches `files` (empty entries ignored) and asks `reloader` for a reload
/// `settle` after the last change to any of them.
caf::actor spawn_file_watch(caf::actor_system& sys, reloader_actor reloader,
                            std::vector<std::string> files,
                            caf::timespan settle = std::chrono::milliseconds{
                              300});

} // namespace urlpoll
