// sd_notify's pure parts: the STATUS text cleaned of assignments, the JOURNAL_STREAM decision, and
// that a notifier outside systemd (no NOTIFY_SOCKET) sends nothing.
#include "app/sd_notify.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace app = b24sync::app;

TEST_CASE("a status text cannot smuggle another notification assignment") {
  CHECK(app::sanitize_status("synced 12 users") == "synced 12 users");
  CHECK(app::sanitize_status("ok\nREADY=1") == "ok READY=1");
  CHECK(app::sanitize_status("a\tb\rc\x7f") == "a b c ");
  CHECK(app::sanitize_status(std::string(600, 'x')).size() == 512);
  // 511 ASCII bytes then a two-byte "я": cutting at 512 would split it, so it is dropped whole.
  const std::string cut = app::sanitize_status(std::string(511, 'x') + "яя");
  CHECK(cut == std::string(511, 'x'));
}

TEST_CASE("stderr is the journal only when JOURNAL_STREAM names its device and inode") {
  CHECK(app::journal_stream_matches("8:12345", 8, 12345));
  CHECK_FALSE(app::journal_stream_matches("8:12345", 8, 12346));
  CHECK_FALSE(app::journal_stream_matches("9:12345", 8, 12345));
  CHECK_FALSE(app::journal_stream_matches(nullptr, 8, 12345));
  CHECK_FALSE(app::journal_stream_matches("", 8, 12345));
  CHECK_FALSE(app::journal_stream_matches("8:12345x", 8, 12345));
  CHECK_FALSE(app::journal_stream_matches("8", 8, 0));
}

TEST_CASE("without NOTIFY_SOCKET the notifier is disabled and every call is a no-op") {
  const char* saved = std::getenv("NOTIFY_SOCKET");
  const std::string restore = saved ? saved : "";
  ::unsetenv("NOTIFY_SOCKET");
  const app::sd_notifier notifier;
  CHECK_FALSE(notifier.enabled());
  CHECK_FALSE(notifier.watchdog_timeout().has_value());
  CHECK_FALSE(notifier.ready());
  CHECK_FALSE(notifier.status("x"));
  CHECK_FALSE(notifier.watchdog());
  CHECK_FALSE(notifier.stopping());
  if (saved) ::setenv("NOTIFY_SOCKET", restore.c_str(), 1);
}
