// file_watch: inotify read by a coroutine on a stream_descriptor, a steady_timer for the quiet period.
#include "app/file_watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>

namespace b24sync::app {

namespace net = boost::asio;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {
constexpr std::uint32_t dir_events = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF |
                                     IN_ONLYDIR;
}

struct file_watch::state {
  state(net::io_context& io, file_watch_options o, handler h)
      : options(std::move(o)), on_change(std::move(h)), stream(io), timer(io) {}

  file_watch_options options;
  handler on_change;
  net::posix::stream_descriptor stream;
  net::steady_timer timer;
  std::map<int, fs::path> folders;  // watch descriptor -> folder
  std::set<fs::path> watched;       // absolute, normalised file paths
  std::set<fs::path> pending;       // changed since the last delivery
  std::optional<clock_type::time_point> first_change;
  clock_type::time_point due{};
  bool started = false;
  bool stopped = false;

  void note_change(const fs::path& file) {
    pending.insert(file);
    const auto now = clock_type::now();
    if (!first_change) first_change = now;
    due = std::min(now + options.quiet, *first_change + options.max_delay);
  }
};

namespace {

using watch_state = std::shared_ptr<file_watch::state>;

// Parses one read()'s worth of events; returns whether a watched file changed.
bool take_events(file_watch::state& st, const char* data, std::size_t size) {
  bool changed = false;
  std::size_t at = 0;
  while (at + sizeof(inotify_event) <= size) {
    inotify_event ev{};
    std::memcpy(&ev, data + at, sizeof ev);  // the buffer is bytes; copy for alignment
    const char* name_at = data + at + sizeof ev;
    const std::string name(name_at, ::strnlen(name_at, ev.len));
    at += sizeof ev + ev.len;

    if ((ev.mask & IN_Q_OVERFLOW) != 0) {  // events were lost: assume every file changed
      for (const auto& f : st.watched) st.note_change(f);
      changed = true;
      continue;
    }
    const auto folder = st.folders.find(ev.wd);
    if (folder == st.folders.end()) continue;
    if ((ev.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
      // The folder itself went away (or moved): its watch is useless now.
      ::inotify_rm_watch(st.stream.native_handle(), ev.wd);
      st.folders.erase(folder);
      continue;
    }
    const fs::path file = folder->second / name;
    if (st.watched.count(file) != 0) {
      st.note_change(file);
      changed = true;
    }
  }
  return changed;
}

net::awaitable<void> read_events(watch_state st) {
  alignas(inotify_event) std::array<char, 16 * 1024> buffer{};
  for (;;) {
    boost::system::error_code ec;
    co_await st->stream.async_wait(net::posix::stream_descriptor::wait_read,
                                   net::redirect_error(net::use_awaitable, ec));
    if (st->stopped || ec == net::error::operation_aborted) co_return;
    if (ec) throw boost::system::system_error(ec, "file watch: waiting for inotify");
    bool changed = false;
    for (;;) {
      const ssize_t n = ::read(st->stream.native_handle(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) throw std::system_error(errno, std::system_category(), "file watch: reading inotify");
      if (n == 0) break;
      changed = take_events(*st, buffer.data(), static_cast<std::size_t>(n)) || changed;
    }
    if (changed) st->timer.cancel();  // wake the delivery loop to re-arm at the new due time
  }
}

net::awaitable<void> deliver_changes(watch_state st) {
  for (;;) {
    st->timer.expires_at(st->pending.empty() ? clock_type::time_point::max() : st->due);
    boost::system::error_code ec;
    co_await st->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (st->stopped) co_return;
    // A cancel means "due moved": loop and re-arm. An expiry may be stale for the same reason.
    if (ec || st->pending.empty() || clock_type::now() < st->due) continue;
    const std::vector<fs::path> changed(st->pending.begin(), st->pending.end());
    st->pending.clear();
    st->first_change.reset();
    st->on_change(changed);
  }
}

// An exception (inotify failing, or thrown by the handler) leaves io_context::run(): the daemon sees it.
void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

file_watch::file_watch(net::io_context& io, file_watch_options options, handler on_change)
    : state_(std::make_shared<state>(io, std::move(options), std::move(on_change))) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "file watch: inotify_init1");
  state_->stream.assign(fd);
  for (const auto& f : state_->options.files) {
    const fs::path file = fs::absolute(f).lexically_normal();
    const fs::path folder = file.parent_path();
    const int wd = ::inotify_add_watch(fd, folder.c_str(), dir_events);
    if (wd < 0)
      throw std::system_error(errno, std::system_category(), "file watch: cannot watch folder " + folder.string());
    state_->folders.emplace(wd, folder);  // a second file in the same folder gets the same wd
    state_->watched.insert(file);
  }
}

file_watch::~file_watch() { stop(); }

void file_watch::start() {
  if (state_->started || state_->stopped) return;
  state_->started = true;
  const auto ex = state_->timer.get_executor();
  net::co_spawn(ex, read_events(state_), rethrow);
  net::co_spawn(ex, deliver_changes(state_), rethrow);
}

void file_watch::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->timer.cancel();
  boost::system::error_code ec;
  state_->stream.close(ec);  // cancels the pending wait; the inotify descriptor goes with it
}

std::size_t file_watch::watching() const noexcept { return state_->folders.size(); }

}  // namespace b24sync::app
