// file_watch: notices when the configuration changes on disk
// (urlpoll.watch-config).
//
// Owns:     an inotify descriptor watching the folders of the config file
//           and the url-file (a folder, so that an editor's write to a new
//           file and rename over the old one is seen too).
// Receives: (look_atom) from itself: wait up to a quarter second for
//           changes;
//           (configure_atom, files) from the reloader: watch these now.
// Sends:    (reload_atom, "the file watch") to the reloader, once the files
//           have been quiet for settle time after a change: an editor's
//           save is several events, and a half-written file is not read.
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
