// Chunked byte input: POSIX file reads with plain-language errors, or an in-memory buffer.
#include "connectors/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "connectors/source_record.hpp"

namespace b24sync::connectors::detail {

byte_source byte_source::open_file(const std::string& path) {
  byte_source s;
  s.name_ = path;
  s.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s.fd_ < 0) {
    int err = errno;
    throw source_error(err == ENOENT ? source_errc::not_found : source_errc::unreadable,
                       "cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(s.fd_, &st) == 0 && S_ISDIR(st.st_mode))
    throw source_error(source_errc::unreadable, "cannot read " + path + ": it is a directory");
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(s.fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return s;
}

byte_source byte_source::from_memory(std::string_view data) noexcept {
  byte_source s;
  s.name_ = "<memory>";
  s.memory_ = data;
  return s;
}

byte_source::byte_source(byte_source&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      memory_(other.memory_),
      memory_pos_(other.memory_pos_) {}

byte_source::~byte_source() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t byte_source::read_append(std::string& out, std::size_t max) {
  if (fd_ < 0) {
    std::size_t n = std::min(max, memory_.size() - memory_pos_);
    out.append(memory_.data() + memory_pos_, n);
    memory_pos_ += n;
    return n;
  }
  std::size_t old = out.size();
  out.resize(old + max);
  for (;;) {
    ssize_t n = ::read(fd_, out.data() + old, max);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      out.resize(old);
      throw source_error(source_errc::unreadable, "cannot read " + name_ + ": " + std::strerror(err));
    }
    out.resize(old + static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
}

void byte_source::rewind() {
  if (fd_ < 0) {
    memory_pos_ = 0;
  } else if (::lseek(fd_, 0, SEEK_SET) < 0) {
    throw source_error(source_errc::unreadable, "cannot rewind " + name_ + ": " + std::strerror(errno));
  }
}

}  // namespace b24sync::connectors::detail
