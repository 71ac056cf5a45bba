// Watching the source files for changes (inotify on their folders), debounced, on the io_context.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace b24sync::app {

struct file_watch_options {
  std::vector<std::filesystem::path> files;       // the files to watch (their folders are watched)
  std::chrono::milliseconds quiet{5000};           // deliver once nothing changed for this long
  std::chrono::milliseconds max_delay{60000};      // ... but no later than this after the first change
};

// Calls `on_change` on the io_context with the watched files that changed, once per burst: an HR export
// written in pieces, or written to a temp name and renamed over the old one, is one change.
//
// The folders are watched, not the files: an editor or exporter that replaces a file by rename() leaves
// a watch on the old inode watching nothing. Events: IN_CLOSE_WRITE (written and closed), IN_MOVED_TO
// (renamed into place), IN_CREATE (a new link, an empty new file); names other than the watched files
// are ignored. A folder that is itself removed or renamed stops delivering (logged by the caller via
// `watching()`); the daemon's schedule still runs.
class file_watch {
 public:
  using handler = std::function<void(const std::vector<std::filesystem::path>& changed)>;

  // Opens inotify and adds the folders. Throws std::system_error (e.g. a folder that does not exist,
  // or the inotify watch limit). Nothing is delivered before start().
  file_watch(boost::asio::io_context& io, file_watch_options options, handler on_change);
  ~file_watch();
  file_watch(const file_watch&) = delete;
  file_watch& operator=(const file_watch&) = delete;

  void start();  // from the io_context's thread, or before it runs
  void stop();   // no delivery after this; safe to call twice
  std::size_t watching() const noexcept;  // folders still watched

  struct state;  // opaque; shared with the coroutines so they may outlive stop()

 private:
  std::shared_ptr<state> state_;
};

}  // namespace b24sync::app
