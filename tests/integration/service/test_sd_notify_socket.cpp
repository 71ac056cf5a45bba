// sd_notifier against a real AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET.
#include "app/sd_notify.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace app = b24sync::app;

namespace {

// A bound datagram socket in a fresh temp dir; NOTIFY_SOCKET (and WATCHDOG_*) point at it while alive.
class fake_systemd {
 public:
  explicit fake_systemd(const char* watchdog_usec = nullptr) {
    char tmpl[] = "/tmp/b24sync-notify-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/notify";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    if (watchdog_usec) {
      ::setenv("WATCHDOG_USEC", watchdog_usec, 1);
      ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    }
  }
  ~fake_systemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  fake_systemd(const fake_systemd&) = delete;
  fake_systemd& operator=(const fake_systemd&) = delete;

  // The next queued datagram, or nullopt when none is waiting. sd_notify sends synchronously, so a
  // datagram from a call that returned is already queued: no waiting needed.
  std::optional<std::string> next() const {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("the notifier sends READY, STATUS, WATCHDOG and STOPPING datagrams to NOTIFY_SOCKET") {
  const fake_systemd systemd;
  const app::sd_notifier notifier;
  REQUIRE(notifier.enabled());
  CHECK_FALSE(notifier.watchdog_timeout().has_value());

  CHECK(notifier.ready());
  CHECK(systemd.next() == "READY=1");
  CHECK(notifier.status("last run ok: 3 created, 1 updated\nREADY=1"));
  CHECK(systemd.next() == "STATUS=last run ok: 3 created, 1 updated READY=1");
  CHECK(notifier.watchdog());
  CHECK(systemd.next() == "WATCHDOG=1");
  CHECK(notifier.stopping());
  CHECK(systemd.next() == "STOPPING=1");
  CHECK_FALSE(systemd.next().has_value());
}

TEST_CASE("a reload is announced with RELOADING=1 and the monotonic time, then READY=1 again") {
  const fake_systemd systemd;
  const app::sd_notifier notifier;
  CHECK(notifier.reloading());
  const auto msg = systemd.next();
  REQUIRE(msg.has_value());
  CHECK(msg->rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  const std::string usec = msg->substr(std::strlen("RELOADING=1\nMONOTONIC_USEC="));
  CHECK_FALSE(usec.empty());
  CHECK(usec.find_first_not_of("0123456789") == std::string::npos);
  CHECK(notifier.ready());
  CHECK(systemd.next() == "READY=1");
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC when it is meant for this process") {
  const fake_systemd systemd("60000000");
  const app::sd_notifier notifier;
  REQUIRE(notifier.watchdog_timeout().has_value());
  CHECK(notifier.watchdog_timeout()->count() == 60'000'000);
  CHECK(notifier.watchdog_interval()->count() == 30'000'000);
}

TEST_CASE("a socket that went away makes calls fail without throwing") {
  std::optional<app::sd_notifier> notifier;
  {
    const fake_systemd systemd;
    notifier.emplace();
  }
  REQUIRE(notifier->enabled());
  ::setenv("NOTIFY_SOCKET", "/tmp/b24sync-notify-gone/notify", 1);
  CHECK_FALSE(notifier->ready());
  ::unsetenv("NOTIFY_SOCKET");
}
