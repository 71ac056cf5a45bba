// The records a desired person was merged from, in one small block. Every record's origin repeats
// its source's name and file path; a vector of connectors::origin costs ~170 bytes per person for
// that (four std::string and a heap block each). Here each origin is encoded (line, source,
// location, DN) in one allocation of ~40 bytes; they come out as connectors::origin values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "common/byte_block.hpp"
#include "connectors/source_record.hpp"

namespace b24sync::config {

class origin_list {
 public:
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  connectors::origin operator[](std::size_t i) const;  // i < size()
  connectors::origin front() const { return (*this)[0]; }
  void push_back(const connectors::origin& o);
  std::vector<connectors::origin> to_vector() const;

  class iterator {  // yields origins by value
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = connectors::origin;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = connectors::origin;
    connectors::origin operator*() const { return (*list_)[i_]; }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

   private:
    friend class origin_list;
    iterator(const origin_list* l, std::size_t i) noexcept : list_(l), i_(i) {}
    const origin_list* list_;
    std::size_t i_;
  };
  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, size()}; }

  friend bool operator==(const origin_list&, const origin_list&) = default;

  std::size_t heap_bytes() const noexcept { return block_.size(); }

 private:
  common::byte_block block_;  // [varint count][per origin: varint line, source, location, dn]
};

}  // namespace b24sync::config
