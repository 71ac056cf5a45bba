// systemd service notifications (READY, STATUS, RELOADING, STOPPING, WATCHDOG) through libsystemd, and
// whether stderr is the journal. Every call is a no-op outside systemd (NOTIFY_SOCKET unset).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace b24sync::app {

// Reads NOTIFY_SOCKET / WATCHDOG_USEC once, at construction. One per process, owned by the daemon
// command and passed to whoever reports (no global). Each call returns true when a datagram was sent.
class sd_notifier {
 public:
  sd_notifier();

  // False when NOTIFY_SOCKET was unset (not started by systemd as Type=notify): every call is a no-op.
  bool enabled() const noexcept { return enabled_; }
  // WatchdogSec= of the unit when the watchdog is on for this process; ping at half of it.
  std::optional<std::chrono::microseconds> watchdog_timeout() const noexcept { return watchdog_; }
  // Half the watchdog timeout (what systemd recommends), or nullopt when the watchdog is off.
  std::optional<std::chrono::microseconds> watchdog_interval() const noexcept;

  bool ready() const;                         // READY=1: start-up done (after the config and state are open)
  bool status(std::string_view text) const;   // STATUS=text, shown by `systemctl status` (one line)
  bool reloading() const;                     // RELOADING=1 + MONOTONIC_USEC; send ready() when done
  bool stopping() const;                      // STOPPING=1: SIGTERM received, finishing the run
  bool watchdog() const;                      // WATCHDOG=1: the event loop is alive

 private:
  bool send(const std::string& state) const;
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
};

// "STATUS=" payload: newlines would start another assignment (a status text could otherwise say
// "READY=1"), so control characters become spaces; capped at 512 bytes.
std::string sanitize_status(std::string_view text);

// True when JOURNAL_STREAM ("<dev>:<inode>", set by systemd for the stream it attaches) names the file
// that fd 2 is. Then log lines should carry "<N>" priority prefixes and no timestamps.
bool journal_stderr();
// The decision itself, for tests: `journal_stream` is the variable's value (nullptr when unset).
bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino);

}  // namespace b24sync::app
