// field_map: a person's fields encoded in one block. Layout of the block:
//   [uint32 count][uint32 reserved][entry × count, sorted by name][encoded values]
// Values: a length is a LEB128 varint; text = len bytes; date = int16 year, month, day;
// list = n, then n texts; departments = n paths, each = n levels, then n texts.
#include "config/field_map.hpp"

#include "common/varint.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>

namespace b24sync::config {
namespace {

// --- interned names --------------------------------------------------------------------------

constexpr std::size_t max_names = 65535;
constexpr std::size_t chunk_size = 256;  // names are published in chunks, allocated as needed

struct name_chunk {
  std::array<std::atomic<const std::string*>, chunk_size> names{};
};

struct name_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct name_table {
  std::mutex mu;
  // guarded by mu; looked up by string_view (a mapping sets ~10^7 fields per 10^6 people)
  std::unordered_map<std::string, field_name_id, name_hash, std::equal_to<>> ids;
  // Written once per ID under mu, read without it: a reader only holds IDs published before.
  std::array<std::atomic<name_chunk*>, (max_names + chunk_size - 1) / chunk_size> chunks{};
};

name_table& names() {
  static name_table* t = new name_table;  // never destroyed: field maps may outlive static destructors
  return *t;
}

// --- encoding ----------------------------------------------------------------------------------

using common::get_len;
using common::get_text;
using common::put_len;
using common::put_text;

field_kind encode(const field_value& v, std::string& out) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    put_text(out, *s);
    return field_kind::text;
  }
  if (const auto* l = std::get_if<string_list>(&v)) {
    put_len(out, l->size());
    for (const auto& s : *l) put_text(out, s);
    return field_kind::list;
  }
  if (const auto* d = std::get_if<std::chrono::year_month_day>(&v)) {
    const auto y = static_cast<std::int16_t>(static_cast<int>(d->year()));
    out.append(reinterpret_cast<const char*>(&y), sizeof y);
    out.push_back(static_cast<char>(static_cast<unsigned>(d->month())));
    out.push_back(static_cast<char>(static_cast<unsigned>(d->day())));
    return field_kind::date;
  }
  const auto& paths = std::get<department_list>(v);
  put_len(out, paths.size());
  for (const auto& path : paths) {
    put_len(out, path.levels.size());
    for (const auto& level : path.levels) put_text(out, level);
  }
  return field_kind::departments;
}

}  // namespace

field_name_id intern_field_name(std::string_view name) {
  name_table& t = names();
  std::lock_guard lock(t.mu);
  auto it = t.ids.find(name);
  if (it != t.ids.end()) return it->second;
  if (t.ids.size() >= max_names) throw std::length_error("more than 65535 distinct field names");
  const auto id = static_cast<field_name_id>(t.ids.size());
  const auto at = t.ids.emplace(std::string{name}, id).first;
  auto& slot = t.chunks[id / chunk_size];
  name_chunk* chunk = slot.load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new name_chunk;
    slot.store(chunk, std::memory_order_release);
  }
  chunk->names[id % chunk_size].store(&at->first, std::memory_order_release);  // map keys never move
  return id;
}

std::optional<field_name_id> find_field_name(std::string_view name) {
  name_table& t = names();
  std::lock_guard lock(t.mu);
  auto it = t.ids.find(name);
  if (it == t.ids.end()) return std::nullopt;
  return it->second;
}

std::string_view field_name(field_name_id id) noexcept {
  if (id >= max_names) return {};
  const name_chunk* chunk = names().chunks[id / chunk_size].load(std::memory_order_acquire);
  const std::string* s = chunk ? chunk->names[id % chunk_size].load(std::memory_order_acquire) : nullptr;
  return s ? std::string_view{*s} : std::string_view{};
}

// --- field_ref ---------------------------------------------------------------------------------

std::string_view field_ref::text() const noexcept {
  if (kind_ != field_kind::text) return {};
  const unsigned char* p = at_;
  return get_text(p);
}

std::chrono::year_month_day field_ref::date() const noexcept {
  if (kind_ != field_kind::date) return {};
  std::int16_t y = 0;
  std::memcpy(&y, at_, sizeof y);
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{at_[2]},
                                     std::chrono::day{at_[3]}};
}

void field_ref::list(std::vector<std::string_view>& out) const {
  const unsigned char* p = at_;
  switch (kind_) {
    case field_kind::text:
      if (std::string_view s = get_text(p); !s.empty()) out.push_back(s);
      return;
    case field_kind::list:
      for (auto n = get_len(p); n > 0; --n) out.push_back(get_text(p));
      return;
    case field_kind::date:
    case field_kind::departments:
      return;  // callers format these themselves (value())
  }
}

bool field_ref::path_cursor::next(std::vector<std::string_view>& levels) {
  levels.clear();
  if (left_ == 0) return false;
  --left_;
  for (auto n = get_len(at_); n > 0; --n) levels.push_back(get_text(at_));
  return true;
}

field_ref::path_cursor field_ref::paths() const noexcept {
  path_cursor c;
  if (kind_ != field_kind::departments) return c;
  c.at_ = at_;
  c.left_ = static_cast<std::uint32_t>(get_len(c.at_));
  return c;
}

field_value field_ref::value() const {
  switch (kind_) {
    case field_kind::text:
      return std::string{text()};
    case field_kind::date:
      return date();
    case field_kind::list: {
      std::vector<std::string_view> items;
      const unsigned char* p = at_;
      for (auto n = get_len(p); n > 0; --n) items.push_back(get_text(p));
      return string_list(items.begin(), items.end());
    }
    case field_kind::departments: {
      department_list out;
      std::vector<std::string_view> levels;
      for (auto c = paths(); c.next(levels);) out.push_back({{levels.begin(), levels.end()}});
      return out;
    }
  }
  return std::string{};
}

std::string to_string(const field_ref& f) {
  if (f.kind() == field_kind::text) return std::string{f.text()};
  return to_string(f.value());
}

// --- field_map ---------------------------------------------------------------------------------

field_map::field_map(const field_map& other) {
  if (other.size_ == 0) return;
  buf_ = static_cast<unsigned char*>(std::malloc(other.size_));
  if (!buf_) throw std::bad_alloc();
  std::memcpy(buf_, other.buf_, other.size_);
  size_ = cap_ = other.size_;
}

field_map& field_map::operator=(const field_map& other) {
  if (this != &other) {
    field_map copy(other);
    *this = std::move(copy);
  }
  return *this;
}

field_map& field_map::operator=(field_map&& other) noexcept {
  if (this != &other) {
    std::free(buf_);
    buf_ = other.buf_;
    size_ = other.size_;
    cap_ = other.cap_;
    other.buf_ = nullptr;
    other.size_ = other.cap_ = 0;
  }
  return *this;
}

field_map::~field_map() {
  std::free(buf_);
}

std::uint32_t field_map::count() const noexcept {
  if (!buf_) return 0;
  std::uint32_t n = 0;
  std::memcpy(&n, buf_, sizeof n);
  return n;
}

field_map::entry field_map::entry_at(std::uint32_t i) const noexcept {
  entry e{};
  std::memcpy(&e, buf_ + header + i * sizeof(entry), sizeof e);
  return e;
}

namespace {
field_kind kind_of(std::uint16_t meta) noexcept {
  return static_cast<field_kind>(meta & 3);
}
std::uint16_t source_of(std::uint16_t meta) noexcept {
  const std::uint16_t s = meta >> 2;
  return s >= max_sources ? no_source : s;
}
std::uint16_t meta_of(field_kind kind, std::uint16_t source) noexcept {
  return static_cast<std::uint16_t>(static_cast<unsigned>(kind) | (std::min(source, max_sources) << 2));
}
}  // namespace

field_ref field_map::ref_at(std::uint32_t i) const noexcept {
  const entry e = entry_at(i);
  return field_ref{e.name, kind_of(e.meta), source_of(e.meta), buf_ + data_start() + e.offset};
}

field_map::iterator field_map::find(field_name_id name) const noexcept {
  const std::uint32_t n = count();
  for (std::uint32_t i = 0; i < n; ++i)
    if (entry_at(i).name == name) return {this, i};
  return end();
}

field_map::iterator field_map::find(std::string_view name) const noexcept {
  const std::uint32_t n = count();
  for (std::uint32_t i = 0; i < n; ++i)
    if (field_name(entry_at(i).name) == name) return {this, i};
  return end();
}

std::optional<field_value> field_map::get(std::string_view name) const {
  auto it = find(name);
  if (it == end()) return std::nullopt;
  return (*it).value();
}

field_value field_map::at(std::string_view name) const {
  auto it = find(name);
  if (it == end()) throw std::out_of_range("no field " + std::string{name});
  return (*it).value();
}

void field_map::reserve(std::size_t bytes) {
  if (bytes <= cap_) return;
  if (bytes > 0xFFFFFFFFu) throw std::length_error("a person's fields exceed 4 GiB");
  std::size_t cap = std::max<std::size_t>({bytes, std::size_t{cap_} * 2, 128});
  cap = std::min<std::size_t>(cap, 0xFFFFFFFFu);
  auto* b = static_cast<unsigned char*>(std::realloc(buf_, cap));
  if (!b) throw std::bad_alloc();
  if (!buf_) std::memset(b, 0, header);
  buf_ = b;
  cap_ = static_cast<std::uint32_t>(cap);
  if (size_ == 0) size_ = header;
}

void field_map::put(field_name_id name, field_kind kind, std::uint16_t source, const std::string& encoded) {
  const std::uint32_t n = count();
  const std::string_view wanted = field_name(name);
  std::uint32_t pos = 0;
  while (pos < n && field_name(entry_at(pos).name) < wanted) ++pos;
  const bool replace = pos < n && entry_at(pos).name == name;
  // A replaced value's bytes stay behind until shrink_to_fit (a person's fields are set once).
  const std::size_t used = buf_ ? size_ : header;  // an empty map has no block (nor header) yet
  reserve(used + (replace ? 0 : sizeof(entry)) + encoded.size());
  const std::size_t data_len = size_ - data_start();
  if (!replace) {
    // Move the data area (and the entries after pos) up by one entry.
    unsigned char* entries = buf_ + header;
    std::memmove(entries + (n + 1) * sizeof(entry), entries + n * sizeof(entry), data_len);
    std::memmove(entries + (pos + 1) * sizeof(entry), entries + pos * sizeof(entry),
                 (n - pos) * sizeof(entry));
    const std::uint32_t grown = n + 1;
    std::memcpy(buf_, &grown, sizeof grown);
    size_ += sizeof(entry);
  }
  const entry e{name, meta_of(kind, source), static_cast<std::uint32_t>(data_len)};
  std::memcpy(buf_ + header + pos * sizeof(entry), &e, sizeof e);
  std::memcpy(buf_ + size_, encoded.data(), encoded.size());
  size_ += static_cast<std::uint32_t>(encoded.size());
}

void field_map::set(std::string_view name, const field_value& value, std::uint16_t source) {
  std::string encoded;
  const field_kind kind = encode(value, encoded);
  put(intern_field_name(name), kind, source, encoded);
}

void field_map::set(std::string_view name, std::string_view text, std::uint16_t source) {
  std::string encoded;
  put_text(encoded, text);
  put(intern_field_name(name), field_kind::text, source, encoded);
}

bool field_map::erase(std::string_view name) {
  auto it = find(name);
  if (it == end()) return false;
  // Rebuild without it (rare: tests and hand-built input).
  field_map rebuilt;
  for (auto f : *this)
    if (f.name_id() != (*it).name_id()) rebuilt.set(f.name(), f.value(), f.source());
  rebuilt.shrink_to_fit();
  *this = std::move(rebuilt);
  return true;
}

void field_map::clear() noexcept {
  std::free(buf_);
  buf_ = nullptr;
  size_ = cap_ = 0;
}

void field_map::shrink_to_fit() {
  if (!buf_) return;
  const std::uint32_t n = count();
  if (n == 0) {
    clear();
    return;
  }
  // Re-lays the values in entry order: drops replaced values, and a pass reads them front to back.
  std::string data;
  std::vector<entry> entries(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    entries[i] = entry_at(i);
    const unsigned char* start = buf_ + data_start() + entries[i].offset;
    // The encoded value ends where a decoder stops: decode it to find its length.
    const unsigned char* p = start;
    switch (kind_of(entries[i].meta)) {
      case field_kind::text:
        get_text(p);
        break;
      case field_kind::date:
        p += 4;
        break;
      case field_kind::list:
        for (auto k = get_len(p); k > 0; --k) get_text(p);
        break;
      case field_kind::departments:
        for (auto k = get_len(p); k > 0; --k)
          for (auto l = get_len(p); l > 0; --l) get_text(p);
        break;
    }
    entries[i].offset = static_cast<std::uint32_t>(data.size());
    data.append(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p - start));
  }
  const std::size_t bytes = header + n * sizeof(entry) + data.size();
  auto* b = static_cast<unsigned char*>(std::malloc(bytes));
  if (!b) throw std::bad_alloc();
  std::memcpy(b, &n, sizeof n);
  std::memset(b + sizeof n, 0, header - sizeof n);
  std::memcpy(b + header, entries.data(), n * sizeof(entry));
  std::memcpy(b + header + n * sizeof(entry), data.data(), data.size());
  std::free(buf_);
  buf_ = b;
  size_ = cap_ = static_cast<std::uint32_t>(bytes);
}

bool operator==(const field_map& a, const field_map& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    const field_ref x = *i, y = *j;
    if (x.name_id() != y.name_id() || x.kind() != y.kind() || x.source() != y.source() ||
        x.value() != y.value())
      return false;
  }
  return true;
}

}  // namespace b24sync::config
