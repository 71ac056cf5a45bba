// LDIF reader: blocks split at blank lines, logical lines unfolded, values decoded, entries filtered.
#include "connectors/ldif_reader.hpp"

#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

#include "connectors/byte_source.hpp"
#include "connectors/text_encoding.hpp"

namespace b24sync::connectors {
namespace {

using detail::byte_source;

bool is_blank_line(const char* b, const char* e) noexcept {
  return b == e || (e - b == 1 && *b == '\r');
}

bool valid_attr_name(std::string_view n) noexcept {
  if (n.empty()) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == ';' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string preview(std::string_view s) {
  std::string out(s.substr(0, 40));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  if (s.size() > 40) out += "...";
  return out;
}

class ldif_parser {
 public:
  ldif_parser(byte_source& in, const ldif_options& options, const ldif_entry_handler& on_entry)
      : in_(in), options_(options), on_entry_(on_entry) {
    location_ = options.path.empty() ? in.name() : options.path;
    chunk_ = std::max<std::size_t>(options.chunk_size, 1);
    if (!options.filter.empty()) filter_ = ldap_filter::parse(options.filter);
  }

  ldif_result run();

 private:
  struct logical_line {
    std::string_view text;
    std::size_t line;
  };
  struct value_line {
    std::string_view name;
    std::string_view value;
    bool ok = false;
  };

  bool refill();
  void process_block(const char* p, const char* e, std::size_t first_line);
  std::optional<value_line> decode_line(const logical_line& l, std::string_view dn, bool is_dn);
  bool wanted() const;
  void add_reject(std::size_t line, std::string_view dn, std::string reason) {
    ++result_.stats.rejected;
    result_.rejects.push_back(
        {origin{options_.source_name, location_, line, std::string(dn)}, std::move(reason)});
  }

  byte_source& in_;
  const ldif_options& options_;
  const ldif_entry_handler& on_entry_;
  std::optional<ldap_filter> filter_;
  std::string location_;
  std::size_t chunk_ = 0;
  ldif_result result_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::size_t line_ = 1;
  bool first_block_ = true;
  std::vector<logical_line> logical_;
  std::string
      scratch_;  // unfolded lines and decoded values of the current entry; never reallocated mid-entry
  std::vector<attribute_value_view> values_;
};

bool ldif_parser::refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  std::size_t n = in_.read_append(buf_, chunk_);
  result_.stats.bytes += n;
  eof_ = n == 0;
  return n > 0;
}

std::optional<ldif_parser::value_line> ldif_parser::decode_line(const logical_line& l, std::string_view dn,
                                                                bool is_dn) {
  std::string_view t = l.text;
  std::size_t colon = t.find(':');
  if (colon == std::string_view::npos || !valid_attr_name(t.substr(0, colon))) {
    add_reject(l.line, dn,
               "line " + std::to_string(l.line) + ": expected 'attribute: value', got '" + preview(t) + "'");
    return std::nullopt;
  }
  value_line v;
  v.name = t.substr(0, colon);
  std::string_view rest = t.substr(colon + 1);
  auto strip_fill = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
  };
  if (!rest.empty() && rest.front() == '<') {
    add_reject(l.line, dn,
               "line " + std::to_string(l.line) + ": attribute " + std::string(v.name) +
                   " takes its value from a URL (':<'), which is not supported; export the value inline");
    return std::nullopt;
  }
  if (!rest.empty() && rest.front() == ':') {
    std::string_view encoded = strip_fill(rest.substr(1));
    while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
    std::size_t off = scratch_.size();
    if (!base64_decode_append(encoded, scratch_)) {
      scratch_.resize(off);
      add_reject(l.line, dn,
                 "line " + std::to_string(l.line) + ": attribute " + std::string(v.name) +
                     " has an invalid base64 value");
      return std::nullopt;
    }
    std::string_view decoded(scratch_.data() + off, scratch_.size() - off);
    if (is_valid_utf8(decoded) && decoded.find('\0') == std::string_view::npos) {
      v.value = decoded;
    } else if (is_dn) {
      add_reject(l.line, dn, "line " + std::to_string(l.line) + ": the base64 DN is not UTF-8 text");
      return std::nullopt;
    } else {
      v.value = encoded;  // binary (objectGUID, photos): kept as base64 text
      ++result_.stats.binary_values;
    }
    return v;
  }
  v.value = strip_fill(rest);
  if (v.value.find('\0') != std::string_view::npos || !is_valid_utf8(v.value)) {
    add_reject(l.line, dn,
               "line " + std::to_string(l.line) + ": the value of " + std::string(v.name) +
                   " is not valid UTF-8 text (binary values must be base64, written with '::')");
    return std::nullopt;
  }
  return v;
}

bool ldif_parser::wanted() const {
  if (!options_.object_classes.empty()) {
    bool found = false;
    for (const auto& av : values_) {
      if (!iequals_ascii(av.name, "objectClass")) continue;
      for (const auto& oc : options_.object_classes) found = found || iequals_ascii(av.value, oc);
    }
    if (!found) return false;
  }
  return !filter_ || filter_->matches(values_);
}

void ldif_parser::process_block(const char* p, const char* e, std::size_t first_line) {
  logical_.clear();
  scratch_.clear();
  scratch_.reserve(2 * static_cast<std::size_t>(e - p) + 64);  // unfolded text + decoded values fit
  bool in_comment = false;
  std::size_t ln = first_line;
  for (const char* cur = p; cur < e; ++ln) {
    const auto* nl = static_cast<const char*>(std::memchr(cur, '\n', static_cast<std::size_t>(e - cur)));
    const char* stop = nl ? nl : e;
    const char* line_end = (stop > cur && stop[-1] == '\r') ? stop - 1 : stop;
    std::string_view line(cur, static_cast<std::size_t>(line_end - cur));
    cur = nl ? nl + 1 : e;
    if (line.empty()) continue;
    if (line.front() == ' ') {  // folded continuation: drop the one leading space
      if (in_comment || logical_.empty()) continue;
      logical_line& last = logical_.back();
      const char* text_end = last.text.data() + last.text.size();
      if (scratch_.empty() || text_end != scratch_.data() + scratch_.size()) {
        std::size_t off = scratch_.size();
        scratch_.append(last.text);
        last.text = std::string_view(scratch_.data() + off, last.text.size());
      }
      scratch_.append(line.substr(1));
      last.text = std::string_view(last.text.data(), last.text.size() + line.size() - 1);
      continue;
    }
    in_comment = line.front() == '#';
    if (!in_comment) logical_.push_back({line, ln});
  }
  if (first_block_ && !logical_.empty()) {
    first_block_ = false;
    if (!logical_.empty() && logical_.front().text.substr(0, 8) == "version:") {
      std::string_view v = logical_.front().text.substr(8);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      if (v != "1")
        throw source_error(source_errc::bad_format, location_ + ":" + std::to_string(logical_.front().line) +
                                                        ": unsupported LDIF version '" + preview(v) + "'");
      logical_.erase(logical_.begin());
    }
  }
  if (logical_.empty()) return;
  const logical_line& head = logical_.front();
  if (head.text.substr(0, 7) == "search:") return;  // ldapsearch's result trailer, not an entry
  ++result_.stats.entries;
  auto dn_line = decode_line(head, {}, true);
  if (!dn_line) return;
  if (!iequals_ascii(dn_line->name, "dn")) {
    add_reject(head.line, {},
               "line " + std::to_string(head.line) + ": an entry must start with 'dn:', got '" +
                   preview(head.text) + "'");
    return;
  }
  std::string_view dn = dn_line->value;
  values_.clear();
  std::size_t i = 1;
  while (i < logical_.size() && logical_[i].text.substr(0, 8) == "control:") ++i;
  if (i < logical_.size() && logical_[i].text.substr(0, 11) == "changetype:") {
    auto ct = decode_line(logical_[i], dn, false);
    if (!ct) return;
    if (ct->value != "add") {
      ++result_.stats.skipped;
      result_.skipped.push_back({origin{options_.source_name, location_, head.line, std::string(dn)},
                                 "change record (changetype: " + preview(ct->value) +
                                     ") skipped; only entries and 'add' records are read"});
      return;
    }
    ++i;
  }
  for (; i < logical_.size(); ++i) {
    auto v = decode_line(logical_[i], dn, false);
    if (!v) return;
    if (iequals_ascii(v->name, "dn")) {
      add_reject(logical_[i].line, dn,
                 "line " + std::to_string(logical_[i].line) +
                     ": a second 'dn:' inside one entry (entries must be separated by a blank line)");
      return;
    }
    values_.push_back({v->name, v->value});
  }
  if (!wanted()) {
    ++result_.stats.filtered_out;
    return;
  }
  ++result_.stats.records;
  on_entry_(ldif_entry{head.line, dn, values_});
}

ldif_result ldif_parser::run() {
  while (buf_.size() < 3 && refill()) {
  }
  if (buf_.empty()) throw source_error(source_errc::empty, location_ + " is empty");
  if (starts_with_utf8_bom(buf_)) pos_ = 3;
  std::size_t scanned = 0;  // bytes after the block start already known to hold no blank line
  std::size_t scanned_lines = 0;
  bool skipping = false;  // dropping an over-long entry up to the next blank line
  bool mid_line = false;  // skipping dropped part of a line: its rest is not a blank line
  for (;;) {
    const char* p = buf_.data() + pos_;
    const char* end = buf_.data() + buf_.size();
    if (!skipping && scanned == 0) {  // blank lines between entries
      while (p < end) {
        const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl || !is_blank_line(p, nl)) break;
        p = nl + 1;
        ++line_;
      }
      pos_ = static_cast<std::size_t>(p - buf_.data());
    }
    if (p == end) {
      if (!refill()) break;
      continue;
    }
    const char* cur = p + scanned;
    const char* block_end = nullptr;
    while (cur < end) {
      const auto* nl = static_cast<const char*>(std::memchr(cur, '\n', static_cast<std::size_t>(end - cur)));
      if (!nl) break;
      if (is_blank_line(cur, nl) && (cur != p || skipping) && !(mid_line && cur == p)) {
        block_end = cur;
        break;
      }
      ++scanned_lines;
      cur = nl + 1;
      mid_line = false;
    }
    if (!block_end && !eof_) {
      scanned = static_cast<std::size_t>(cur - p);
      if (skipping || static_cast<std::size_t>(end - p) >= options_.max_entry_bytes) {
        if (!skipping) {
          ++result_.stats.entries;
          add_reject(line_, {},
                     "entry starting on line " + std::to_string(line_) + " is longer than " +
                         std::to_string(options_.max_entry_bytes) + " bytes; skipped");
        }
        skipping = true;
        mid_line = mid_line || cur < end;  // a partial line is dropped too
        pos_ = buf_.size();
        line_ += scanned_lines;
        scanned = scanned_lines = 0;
      }
      refill();
      continue;
    }
    if (!block_end) {  // end of input: the last line may lack its line break
      block_end = end;
      if (cur < end) ++scanned_lines;
    }
    if (!skipping) process_block(p, block_end, line_);
    skipping = false;
    line_ += scanned_lines;
    scanned = scanned_lines = 0;
    pos_ = static_cast<std::size_t>(block_end - buf_.data());
  }
  result_.stats.lines = line_ - 1;
  if (result_.stats.entries == 0 && result_.rejects.empty())
    throw source_error(source_errc::empty, location_ + " contains no LDIF entries");
  return std::move(result_);
}

}  // namespace

bool ad_account_disabled(std::string_view user_account_control) noexcept {
  while (!user_account_control.empty() && user_account_control.front() == ' ')
    user_account_control.remove_prefix(1);
  while (!user_account_control.empty() && user_account_control.back() == ' ')
    user_account_control.remove_suffix(1);
  std::uint64_t v = 0;
  const char* b = user_account_control.data();
  const char* e = b + user_account_control.size();
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc{} || ptr != e) return false;
  return (v & 0x2) != 0;
}

source_record to_source_record(std::string_view dn, std::span<const attribute_value_view> values,
                               origin where) {
  source_record rec;
  rec.where = std::move(where);
  rec.where.dn = std::string(dn);
  for (const auto& av : values) {
    attribute* a = nullptr;
    for (auto& existing : rec.attributes)
      if (iequals_ascii(existing.name, av.name)) a = &existing;
    if (!a) a = &rec.attributes.emplace_back(attribute{std::string(av.name), {}});
    a->values.emplace_back(av.value);
  }
  return rec;
}

ldif_result scan_ldif(const ldif_options& options, const ldif_entry_handler& on_entry) {
  byte_source in = byte_source::open_file(options.path);
  ldif_parser parser(in, options, on_entry);
  return parser.run();
}

ldif_result scan_ldif_buffer(std::string_view data, const ldif_options& options,
                             const ldif_entry_handler& on_entry) {
  byte_source in = byte_source::from_memory(data);
  ldif_parser parser(in, options, on_entry);
  return parser.run();
}

namespace {
ldif_entry_handler to_records(const ldif_options& options, std::string location,
                              const ldif_record_handler& on_record) {
  return [&options, location = std::move(location), &on_record](const ldif_entry& e) {
    on_record(to_source_record(e.dn, e.values, origin{options.source_name, location, e.line, {}}));
  };
}
}  // namespace

ldif_result read_ldif(const ldif_options& options, const ldif_record_handler& on_record) {
  return scan_ldif(options, to_records(options, options.path, on_record));
}

ldif_result read_ldif_buffer(std::string_view data, const ldif_options& options,
                             const ldif_record_handler& on_record) {
  return scan_ldif_buffer(data, options,
                          to_records(options, options.path.empty() ? "<memory>" : options.path, on_record));
}

}  // namespace b24sync::connectors
