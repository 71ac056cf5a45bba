// sd_notifier over libsystemd's sd_notify / sd_watchdog_enabled; JOURNAL_STREAM matching.
#include "app/sd_notify.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace b24sync::app {

sd_notifier::sd_notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_ = std::chrono::microseconds{static_cast<std::chrono::microseconds::rep>(usec)};
}

std::optional<std::chrono::microseconds> sd_notifier::watchdog_interval() const noexcept {
  if (!watchdog_) return std::nullopt;
  return *watchdog_ / 2;
}

bool sd_notifier::send(const std::string& state) const {
  if (!enabled_) return false;
  // unset_environment = 0: a reload or re-exec of this process must still find the socket.
  return sd_notify(0, state.c_str()) > 0;
}

bool sd_notifier::ready() const { return send("READY=1"); }

bool sd_notifier::status(std::string_view text) const { return send("STATUS=" + sanitize_status(text)); }

bool sd_notifier::reloading() const {
  // systemd >= 253 wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload); older ones ignore it.
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1'000ULL;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool sd_notifier::stopping() const { return send("STOPPING=1"); }

bool sd_notifier::watchdog() const { return send("WATCHDOG=1"); }

std::string sanitize_status(std::string_view text) {
  constexpr std::size_t max_bytes = 512;
  std::size_t n = std::min(text.size(), max_bytes);
  // Do not cut a UTF-8 sequence in half: back up to the start of the last character if it is cut.
  if (n < text.size()) {
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0U) == 0x80U) --n;
  }
  std::string out(text.substr(0, n));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino) {
  if (journal_stream == nullptr || *journal_stream == '\0') return false;
  unsigned long long want_dev = 0;
  unsigned long long want_ino = 0;
  char trailing = 0;
  if (std::sscanf(journal_stream, "%llu:%llu%c", &want_dev, &want_ino, &trailing) != 2) return false;
  return want_dev == static_cast<unsigned long long>(dev) && want_ino == static_cast<unsigned long long>(ino);
}

bool journal_stderr() {
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

}  // namespace b24sync::app
