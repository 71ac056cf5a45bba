// state/instance_lock.cpp: the single-instance lock, an flock on `<state path>.lock` holding the
// holder's PID so a refused second run can say who is in the way.
#include "state/private_dir.hpp"
#include "state/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace b24sync::state {

namespace {

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

// Closes the fd unless released; keeps the error paths below free of repeated close() calls.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// The holder writes its PID right after locking; a reader racing that write sees "" (or, if the
// holder died and a new one has not written yet, a stale PID), hence "if readable".
std::string read_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::optional<instance_lock> instance_lock::try_acquire(const std::filesystem::path& state_path,
                                                        std::string* holder) {
  std::filesystem::path lock_path = state_path;
  lock_path += ".lock";
  detail::create_parent_dirs(lock_path);
  fd_guard fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0)
    throw state_error(lock_path.string() + ": cannot open the lock file: " + errno_text(errno));

  int rc = 0;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int e = errno;
    if (e == EWOULDBLOCK) {
      if (holder != nullptr) *holder = read_holder(fd.get());
      return std::nullopt;
    }
    throw state_error(lock_path.string() + ": cannot lock: " + errno_text(e));
  }

  // Ours now: replace whatever PID a previous holder left.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    throw state_error(lock_path.string() + ": cannot write our PID: " + errno_text(errno));
  }
  return instance_lock(fd.release());
}

instance_lock::instance_lock(instance_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

instance_lock& instance_lock::operator=(instance_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

// Closing the last descriptor of the open file description releases the flock. The PID stays in the
// file; it is only read while someone holds the lock.
instance_lock::~instance_lock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace b24sync::state
