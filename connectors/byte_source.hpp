// Chunked byte input for the file readers: a file (POSIX read) or an in-memory buffer, rewindable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace b24sync::connectors::detail {

class byte_source {
 public:
  // Opens `path`; throws source_error (not_found / unreadable) naming the file.
  static byte_source open_file(const std::string& path);
  // Reads from memory the caller keeps alive; never throws.
  static byte_source from_memory(std::string_view data) noexcept;

  byte_source(byte_source&& other) noexcept;
  byte_source& operator=(byte_source&&) = delete;
  byte_source(const byte_source&) = delete;
  ~byte_source();

  // Appends up to `max` bytes to `out`; returns how many (0 at end of input). Throws on I/O errors.
  std::size_t read_append(std::string& out, std::size_t max);
  // Back to the first byte (used after sniffing the encoding).
  void rewind();
  const std::string& name() const noexcept { return name_; }

 private:
  byte_source() = default;
  int fd_ = -1;
  std::string name_;
  std::string_view memory_;
  std::size_t memory_pos_ = 0;
};

}  // namespace b24sync::connectors::detail
