// A desired person's Bitrix24 fields in one allocation. A run holds up to 10^6 people of ~10 fields
// each; a map of std::string -> std::variant costs ~72 bytes per field before any value, plus a heap
// block per long name, per long value and three per department path (about 1.4 KiB per person in
// tests/bench/sync/bench_diff). Here a field is an 8-byte entry (interned name, kind, offset) and its
// value is encoded after the entries: a person's fields are one block of ~300 bytes.
//
// Values go in as field_value (owned) and come out as field_ref (views into the block, no
// allocation); field_ref::value() gives an owned copy back.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace b24sync::config {

// One department as a path from the top ("Company", "Sales", "Moscow"); a bare name is a one-level
// path. The sync resolves paths to portal department IDs.
struct department_path {
  std::vector<std::string> levels;  // top first
  auto operator<=>(const department_path&) const = default;
};

using string_list = std::vector<std::string>;
using department_list = std::vector<department_path>;

// A canonical field value: text (trimmed, inner spaces collapsed; EMAIL lower-case; phones E.164),
// a list (`multiple: true`), a calendar date, or departments. An empty value clears the field.
using field_value = std::variant<std::string, string_list, std::chrono::year_month_day, department_list>;

// Text form for reports and explain: lists joined with ", ", dates as YYYY-MM-DD, paths with " / ".
std::string to_string(const field_value& v);

// Field names are interned once per process (a few dozen distinct Bitrix24 field names in practice;
// at most 65,535, beyond which intern_field_name throws std::length_error). Thread-safe.
using field_name_id = std::uint16_t;
field_name_id intern_field_name(std::string_view name);
std::optional<field_name_id> find_field_name(std::string_view name);  // without interning
std::string_view field_name(field_name_id id) noexcept;               // "" for an unknown ID

enum class field_kind : std::uint8_t { text, list, date, departments };

// Which source a field's value came from: an index into the config's sources, or none.
inline constexpr std::uint16_t no_source = 0xFFFF;
inline constexpr std::uint16_t max_sources = 0x3FFF;  // indexes at or above it are kept as no_source

// One field of a field_map: views into its block, valid until the map is changed or destroyed.
class field_ref {
 public:
  field_name_id name_id() const noexcept { return name_; }
  std::string_view name() const noexcept { return field_name(name_); }
  field_kind kind() const noexcept { return kind_; }
  std::uint16_t source() const noexcept { return source_; }  // no_source when not recorded

  std::string_view text() const noexcept;             // kind text; "" otherwise
  std::chrono::year_month_day date() const noexcept;  // kind date; a default date otherwise
  // The items of a list, or of a text (one item unless empty), appended. Dates and departments add
  // nothing (views need bytes to point at: use value() or paths()).
  void list(std::vector<std::string_view>& out) const;
  // Department paths, one at a time: `levels` is filled with the next path's levels; false at the end.
  class path_cursor {
   public:
    bool next(std::vector<std::string_view>& levels);

   private:
    friend class field_ref;
    const unsigned char* at_ = nullptr;
    std::uint32_t left_ = 0;
  };
  path_cursor paths() const noexcept;  // empty unless kind departments

  field_value value() const;  // an owned copy

 private:
  friend class field_map;
  field_ref(field_name_id name, field_kind kind, std::uint16_t source, const unsigned char* at) noexcept
      : at_(at), name_(name), source_(source), kind_(kind) {}
  const unsigned char* at_ = nullptr;
  field_name_id name_ = 0;
  std::uint16_t source_ = no_source;
  field_kind kind_ = field_kind::text;
};

std::string to_string(const field_ref& f);

// The fields, sorted by name (iteration order), at most one per name.
class field_map {
 public:
  field_map() noexcept = default;
  field_map(const field_map& other);
  field_map(field_map&& other) noexcept : buf_(other.buf_), size_(other.size_), cap_(other.cap_) {
    other.buf_ = nullptr;
    other.size_ = other.cap_ = 0;
  }
  field_map& operator=(const field_map& other);
  field_map& operator=(field_map&& other) noexcept;
  ~field_map();

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = field_ref;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = field_ref;
    iterator() noexcept = default;
    field_ref operator*() const noexcept { return map_->ref_at(i_); }
    struct arrow {
      field_ref ref;
      const field_ref* operator->() const noexcept { return &ref; }
    };
    arrow operator->() const noexcept { return {map_->ref_at(i_)}; }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator t = *this;
      ++i_;
      return t;
    }
    bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

   private:
    friend class field_map;
    iterator(const field_map* m, std::uint32_t i) noexcept : map_(m), i_(i) {}
    const field_map* map_ = nullptr;
    std::uint32_t i_ = 0;
  };

  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, count()}; }
  std::size_t size() const noexcept { return count(); }
  bool empty() const noexcept { return count() == 0; }

  iterator find(std::string_view name) const noexcept;
  iterator find(field_name_id name) const noexcept;
  // The field's owned value; nullopt when absent.
  std::optional<field_value> get(std::string_view name) const;
  // The field's owned value; throws std::out_of_range when absent (as std::map::at).
  field_value at(std::string_view name) const;

  // Sets (adds or replaces) a field; `source`: see field_ref::source().
  void set(std::string_view name, const field_value& value, std::uint16_t source = no_source);
  void set(std::string_view name, std::string_view text, std::uint16_t source = no_source);
  void set(std::string_view name, const char* text, std::uint16_t source = no_source) {
    set(name, std::string_view{text}, source);
  }
  void set(std::string_view name, const std::string& text, std::uint16_t source = no_source) {
    set(name, std::string_view{text}, source);
  }
  bool erase(std::string_view name);
  void clear() noexcept;
  // Frees unused capacity (and the space of replaced values): what a mapping does once a person is built.
  void shrink_to_fit();

  // Bytes the map holds on the heap (for the benchmarks and their notes).
  std::size_t heap_bytes() const noexcept { return cap_; }
  // The start of the block (a prefetch hint for the engine).
  const void* block() const noexcept { return buf_; }

  // Same names, kinds, values and sources (a value taken from another source is a difference).
  friend bool operator==(const field_map& a, const field_map& b);

 private:
  struct entry {  // 8 bytes, sorted by name
    field_name_id name;
    std::uint16_t meta;    // field_kind in the low 2 bits, the source index (max_sources: none) above
    std::uint32_t offset;  // of the encoded value, from the start of the data area
  };
  static constexpr std::size_t header = 8;  // uint32 count, uint32 reserved
  std::uint32_t count() const noexcept;
  entry entry_at(std::uint32_t i) const noexcept;
  field_ref ref_at(std::uint32_t i) const noexcept;
  std::size_t data_start() const noexcept { return header + count() * sizeof(entry); }
  void reserve(std::size_t bytes);
  void put(field_name_id name, field_kind kind, std::uint16_t source, const std::string& encoded);

  unsigned char* buf_ = nullptr;  // [header][entries][data]
  std::uint32_t size_ = 0;        // bytes used
  std::uint32_t cap_ = 0;         // bytes allocated
};

}  // namespace b24sync::config
