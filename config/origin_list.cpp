// origin_list: a person's origins encoded in one block (see origin_list.hpp).
#include "config/origin_list.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "common/varint.hpp"

namespace b24sync::config {

using common::get_len;
using common::get_text;
using common::put_len;
using common::put_text;

origin_list::origin_list(const origin_list& other) {
  if (other.size_ == 0) return;
  buf_ = static_cast<unsigned char*>(std::malloc(other.size_));
  if (!buf_) throw std::bad_alloc();
  std::memcpy(buf_, other.buf_, other.size_);
  size_ = other.size_;
}

origin_list& origin_list::operator=(const origin_list& other) {
  if (this != &other) {
    origin_list copy(other);
    *this = std::move(copy);
  }
  return *this;
}

origin_list& origin_list::operator=(origin_list&& other) noexcept {
  if (this != &other) {
    std::free(buf_);
    buf_ = other.buf_;
    size_ = other.size_;
    other.buf_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

origin_list::~origin_list() {
  std::free(buf_);
}

std::size_t origin_list::size() const noexcept {
  if (!buf_) return 0;
  const unsigned char* p = buf_;
  return static_cast<std::size_t>(get_len(p));
}

connectors::origin origin_list::operator[](std::size_t i) const {
  if (i >= size()) throw std::out_of_range("origin_list index");
  const unsigned char* p = buf_;
  get_len(p);  // count
  for (std::size_t k = 0;; ++k) {
    const auto line = static_cast<std::size_t>(get_len(p));
    const std::string_view source = get_text(p);
    const std::string_view location = get_text(p);
    const std::string_view dn = get_text(p);
    if (k == i) return {std::string{source}, std::string{location}, line, std::string{dn}};
  }
}

void origin_list::push_back(const connectors::origin& o) {
  // Re-encoded whole: a person has one origin per source (one to three).
  std::string block;
  put_len(block, size() + 1);
  if (buf_) {
    const unsigned char* p = buf_;
    get_len(p);
    block.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(buf_ + size_ - p));
  }
  put_len(block, o.line);
  put_text(block, o.source);
  put_text(block, o.location);
  put_text(block, o.dn);
  if (block.size() > 0xFFFFFFFFu) throw std::length_error("a person's origins exceed 4 GiB");
  auto* b = static_cast<unsigned char*>(std::malloc(block.size()));
  if (!b) throw std::bad_alloc();
  std::memcpy(b, block.data(), block.size());
  std::free(buf_);
  buf_ = b;
  size_ = static_cast<std::uint32_t>(block.size());
}

std::vector<connectors::origin> origin_list::to_vector() const {
  std::vector<connectors::origin> out;
  out.reserve(size());
  for (auto o : *this) out.push_back(std::move(o));
  return out;
}

bool operator==(const origin_list& a, const origin_list& b) noexcept {
  return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.buf_, b.buf_, a.size_) == 0);
}

}  // namespace b24sync::config
