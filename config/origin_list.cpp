// origin_list: a person's origins encoded in one block (see origin_list.hpp).
#include "config/origin_list.hpp"

#include <stdexcept>
#include <string>

#include "common/varint.hpp"

namespace b24sync::config {

using common::get_len;
using common::get_text;
using common::put_len;
using common::put_text;

std::size_t origin_list::size() const noexcept {
  const unsigned char* p = block_.data();
  return p ? static_cast<std::size_t>(get_len(p)) : 0;
}

connectors::origin origin_list::operator[](std::size_t i) const {
  if (i >= size()) throw std::out_of_range("origin_list index");
  const unsigned char* p = block_.data();
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
  if (!block_.empty()) {
    const unsigned char* p = block_.data();
    get_len(p);
    block.append(reinterpret_cast<const char*>(p),
                 static_cast<std::size_t>(block_.data() + block_.size() - p));
  }
  put_len(block, o.line);
  put_text(block, o.source);
  put_text(block, o.location);
  put_text(block, o.dn);
  block_ = common::byte_block(block.data(), block.size());
}

std::vector<connectors::origin> origin_list::to_vector() const {
  std::vector<connectors::origin> out;
  out.reserve(size());
  for (auto o : *this) out.push_back(std::move(o));
  return out;
}

}  // namespace b24sync::config
