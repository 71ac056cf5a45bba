// CSV reader: chunked input, encoding sniffing, delimiter detection, quoted fields, per-row rejects.
#include "connectors/csv_reader.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "connectors/byte_source.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace b24sync::connectors {
namespace {

using detail::byte_source;

// Byte classes for the unquoted-field scan; a quote inside an unquoted field is taken literally.
enum : unsigned char { c_plain = 0, c_quote = 1, c_delim = 2, c_cr = 3, c_lf = 4 };

// Line breaks inside [s, e): LF, CRLF and lone CR each count once.
std::size_t count_line_breaks(const char* s, const char* e) noexcept {
  std::size_t n = 0;
  for (const char* p = s; p < e; ++p) {
    if (*p == '\n')
      ++n;
    else if (*p == '\r' && (p + 1 == e || p[1] != '\n'))
      ++n;
  }
  return n;
}

std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string describe_delimiter(char d) {
  if (d == '\t') return "tab";
  std::string out(3, '\'');
  out[1] = d;
  return out;
}

class csv_parser {
 public:
  csv_parser(byte_source& in, const csv_options& options, const csv_row_handler& on_row)
      : in_(in), options_(options), on_row_(on_row) {
    location_ = options.path.empty() ? in.name() : options.path;
    chunk_ = std::max<std::size_t>(options.chunk_size, 1);
  }

  csv_result run();

 private:
  enum class parse_status { complete, need_more, unterminated };
  struct field_ref {
    const char* ptr;  // into buf_, or nullptr when the value lives in scratch_
    std::size_t offset;
    std::size_t size;
  };

  void choose_encoding();
  bool refill();
  char detect_delimiter();
  parse_status parse_record(const char* p, const char* end, const char*& next, std::size_t& breaks);
  void handle_record(const char* p, const char* next);
  void take_header(const char* p, const char* next);
  void add_reject(std::size_t line, std::string reason);
  std::string_view field(std::size_t i) const noexcept {
    const field_ref& f = fields_[i];
    return f.ptr ? std::string_view(f.ptr, f.size) : std::string_view(scratch_.data() + f.offset, f.size);
  }
  // First delimiter, CR or LF at or after r (end if none): the hot loop, 16 bytes at a time with SSE2.
  const char* scan_plain(const char* r, const char* end) const noexcept {
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delimiter_), cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (end - r >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r));
      __m128i hit =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, cr)), _mm_cmpeq_epi8(v, lf));
      if (auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit))) return r + __builtin_ctz(mask);
      r += 16;
    }
#endif
    while (r < end && cls_[static_cast<unsigned char>(*r)] <= c_quote) ++r;
    return r;
  }
  std::string column_name(std::size_t i) const {
    if (i < result_.header.size() && !result_.header[i].empty()) return "'" + result_.header[i] + "'";
    return std::to_string(i + 1);
  }

  byte_source& in_;
  const csv_options& options_;
  const csv_row_handler& on_row_;
  std::string location_;
  std::size_t chunk_ = 0;
  csv_result result_;
  text_encoding encoding_ = text_encoding::utf8;
  std::size_t bom_skip_ = 0;
  std::string buf_;  // decoded UTF-8 text; [pos_, size) is not yet parsed
  std::string raw_;  // cp1251 input before decoding
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::array<unsigned char, 256> cls_{};
  char delimiter_ = ',';
  std::size_t line_ = 1;
  bool header_done_ = false;
  bool terminated_ = true;  // whether the last row ended with a line break (false: ended by EOF)
  std::size_t width_ = 0;
  std::vector<field_ref> fields_;
  std::string scratch_;  // unescaped quoted values of the current row
  std::vector<std::string_view> views_;
};

void csv_parser::choose_encoding() {
  // The BOM decides first; it is stripped whatever the encoding.
  std::string probe;
  while (probe.size() < 3 && in_.read_append(probe, 3 - probe.size()) > 0) {
  }
  bool bom = starts_with_utf8_bom(probe);
  result_.stats.had_bom = bom;
  bom_skip_ = bom ? 3 : 0;
  encoding_ = options_.encoding;
  if (bom && encoding_ == text_encoding::cp1251)
    throw source_error(source_errc::bad_format,
                       location_ +
                           " starts with a UTF-8 byte-order mark but the source says "
                           "encoding cp1251; set encoding to utf-8 or auto");
  if (encoding_ == text_encoding::auto_detect) {
    if (bom) {
      encoding_ = text_encoding::utf8;
    } else {
      encoding_sniffer sniffer;
      std::string sample = probe;
      bool certain = sniffer.feed(sample);
      while (!certain) {
        sample.clear();
        if (in_.read_append(sample, std::max<std::size_t>(chunk_, 64 << 10)) == 0) break;
        certain = sniffer.feed(sample);
      }
      encoding_ = sniffer.verdict();
    }
  }
  in_.rewind();
  result_.stats.encoding = encoding_;
}

bool csv_parser::refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  std::size_t n = 0;
  while (n == 0) {
    std::size_t old = buf_.size();
    if (encoding_ == text_encoding::cp1251) {
      raw_.clear();
      n = in_.read_append(raw_, chunk_);
      std::size_t skip = std::min(bom_skip_, n);
      bom_skip_ -= skip;
      append_cp1251_as_utf8(std::string_view(raw_).substr(skip), buf_);
    } else {
      n = in_.read_append(buf_, chunk_);
      std::size_t skip = std::min(bom_skip_, n);
      bom_skip_ -= skip;
      buf_.erase(old, skip);
    }
    result_.stats.bytes += n;
    if (n == 0) {
      eof_ = true;
      return false;
    }
  }
  return true;
}

char csv_parser::detect_delimiter() {
  for (;;) {
    std::string_view w(buf_.data() + pos_, buf_.size() - pos_);
    std::size_t start = w.find_first_not_of("\r\n");
    std::size_t stop =
        start == std::string_view::npos ? std::string_view::npos : w.find_first_of("\r\n", start);
    if (stop != std::string_view::npos || eof_ || w.size() > options_.max_record_bytes) {
      std::string_view line =
          start == std::string_view::npos ? std::string_view{} : w.substr(start, stop - start);
      std::size_t semicolons = 0, commas = 0, tabs = 0;
      bool quoted = false;
      for (char c : line) {
        if (c == '"') {
          quoted = !quoted;
        } else if (!quoted) {
          semicolons += c == ';';
          commas += c == ',';
          tabs += c == '\t';
        }
      }
      if (semicolons == 0 && commas == 0 && tabs == 0) return ',';
      if (semicolons >= commas && semicolons >= tabs) return ';';
      return commas >= tabs ? ',' : '\t';
    }
    refill();
  }
}

csv_parser::parse_status csv_parser::parse_record(const char* p, const char* end, const char*& next,
                                                  std::size_t& breaks) {
  fields_.clear();
  scratch_.clear();
  breaks = 0;
  terminated_ = false;
  const char* q = p;
  for (;;) {
    if (q < end && *q == '"') {
      const char* s = q + 1;
      std::size_t scratch_begin = scratch_.size();
      bool copied = false;
      std::string_view direct;
      for (;;) {
        const auto* quote = static_cast<const char*>(std::memchr(s, '"', static_cast<std::size_t>(end - s)));
        if (quote == nullptr) return eof_ ? parse_status::unterminated : parse_status::need_more;
        if (quote + 1 == end && !eof_) return parse_status::need_more;  // "" or closing? not known yet
        breaks += count_line_breaks(s, quote);
        if (quote + 1 < end && quote[1] == '"') {  // doubled quote: one literal quote
          scratch_.append(s, quote + 1);
          copied = true;
          s = quote + 2;
          continue;
        }
        if (copied)
          scratch_.append(s, quote);
        else
          direct = std::string_view(s, static_cast<std::size_t>(quote - s));
        q = quote + 1;
        break;
      }
      if (q < end && cls_[static_cast<unsigned char>(*q)] <= c_quote) {  // text after the closing quote
        const char* r = q;
        while (r < end && cls_[static_cast<unsigned char>(*r)] <= c_quote) ++r;
        if (!copied) scratch_.append(direct);
        scratch_.append(q, r);
        copied = true;
        q = r;
      }
      if (copied)
        fields_.push_back({nullptr, scratch_begin, scratch_.size() - scratch_begin});
      else
        fields_.push_back({direct.data(), 0, direct.size()});
    } else {
      const char* r = scan_plain(q, end);
      fields_.push_back({q, 0, static_cast<std::size_t>(r - q)});
      q = r;
    }
    if (q == end) {
      if (!eof_) return parse_status::need_more;
      next = q;
      return parse_status::complete;
    }
    unsigned char c = cls_[static_cast<unsigned char>(*q)];
    if (c == c_delim) {
      ++q;
      continue;
    }
    if (c == c_cr && q + 1 == end && !eof_) return parse_status::need_more;  // CR or CRLF?
    next = q + 1 + (c == c_cr && q + 1 < end && q[1] == '\n');
    ++breaks;
    terminated_ = true;
    return parse_status::complete;
  }
}

void csv_parser::add_reject(std::size_t line, std::string reason) {
  ++result_.stats.rejected;
  result_.rejects.push_back({origin{options_.source_name, location_, line, {}}, std::move(reason)});
}

void csv_parser::take_header(const char* p, const char* next) {
  std::string_view raw(p, static_cast<std::size_t>(next - p));
  if (raw.find('\0') != std::string_view::npos)
    throw source_error(source_errc::no_header,
                       location_ + ":" + std::to_string(line_) + ": the header line contains a NUL byte");
  if (!is_valid_utf8(raw))
    throw source_error(source_errc::no_header, location_ + ":" + std::to_string(line_) +
                                                   ": the header line is not valid " + to_string(encoding_) +
                                                   " text; check the source's encoding setting");
  std::size_t n = fields_.size();
  while (n > 0 && trim_blanks(field(n - 1)).empty()) --n;  // Excel's trailing ";;;"
  for (std::size_t i = 0; i < n; ++i) result_.header.emplace_back(trim_blanks(field(i)));
  if (n == 0)
    throw source_error(source_errc::no_header,
                       location_ + ":" + std::to_string(line_) + ": the header line has no column names");
  width_ = n;
  header_done_ = true;
}

void csv_parser::handle_record(const char* p, const char* next) {
  bool blank = std::all_of(fields_.begin(), fields_.end(), [](const field_ref& f) { return f.size == 0; });
  if (blank) {
    ++result_.stats.blank_lines;
    return;
  }
  if (!header_done_) {
    if (options_.has_header) return take_header(p, next);
    std::size_t n = fields_.size();
    while (n > 0 && field(n - 1).empty()) --n;
    for (std::size_t i = 1; i <= n; ++i) result_.header.push_back(std::to_string(i));
    width_ = n;
    header_done_ = true;
  }
  ++result_.stats.rows;
  std::size_t n = fields_.size();
  bool extra_empty = true;
  for (std::size_t i = width_; i < n && extra_empty; ++i) extra_empty = field(i).empty();
  if (n < width_ || !extra_empty)
    return add_reject(line_, "row has " + std::to_string(n) + " fields, the header has " +
                                 std::to_string(width_) + " (delimiter " +
                                 describe_delimiter(result_.stats.delimiter) + ")");
  std::string_view raw(p, static_cast<std::size_t>(next - p));
  if (std::memchr(raw.data(), 0, raw.size()) != nullptr) {
    std::size_t i = 0;
    while (i + 1 < width_ && field(i).find('\0') == std::string_view::npos) ++i;
    return add_reject(line_, "column " + column_name(i) + " contains a NUL byte");
  }
  // Decoded cp1251 is UTF-8 by construction except for the marker of its one undefined byte.
  bool valid = encoding_ == text_encoding::cp1251
                   ? std::memchr(raw.data(), cp1251_undefined_marker, raw.size()) == nullptr
                   : is_valid_utf8(raw);
  if (!valid) {
    std::size_t i = 0;
    while (i + 1 < width_ && is_valid_utf8(field(i))) ++i;
    if (encoding_ == text_encoding::cp1251)
      return add_reject(line_,
                        "column " + column_name(i) + " contains byte 0x98, which cp1251 does not define");
    return add_reject(line_, "column " + column_name(i) +
                                 " is not valid UTF-8 (if the file is a 1C export, set encoding cp1251)");
  }
  views_.resize(width_);
  for (std::size_t i = 0; i < width_; ++i) views_[i] = field(i);
  ++result_.stats.records;
  on_row_(csv_row{line_, result_.header, views_});
}

csv_result csv_parser::run() {
  choose_encoding();
  while (buf_.empty() && refill()) {
  }
  if (buf_.empty()) throw source_error(source_errc::empty, location_ + " is empty");
  char delim = options_.delimiter != 0 ? options_.delimiter : detect_delimiter();
  result_.stats.delimiter = delim;
  delimiter_ = delim;
  cls_[static_cast<unsigned char>('"')] = c_quote;
  cls_[static_cast<unsigned char>(delim)] = c_delim;
  cls_[static_cast<unsigned char>('\r')] = c_cr;
  cls_[static_cast<unsigned char>('\n')] = c_lf;

  bool skip_line = false;  // recovering from an over-long row: drop text up to the next line break
  for (;;) {
    const char* p = buf_.data() + pos_;
    const char* end = buf_.data() + buf_.size();
    if (p == end) {
      if (!refill()) break;
      continue;
    }
    if (skip_line) {
      const char* nl = std::find_if(p, end, [](char c) { return c == '\n' || c == '\r'; });
      if (nl == end || (*nl == '\r' && nl + 1 == end && !eof_)) {
        pos_ = static_cast<std::size_t>(nl - buf_.data());
        if (!refill()) break;
        continue;
      }
      pos_ = static_cast<std::size_t>(nl + 1 + (*nl == '\r' && nl + 1 < end && nl[1] == '\n') - buf_.data());
      ++line_;
      skip_line = false;
      continue;
    }
    const char* next = nullptr;
    std::size_t breaks = 0;
    parse_status st = parse_record(p, end, next, breaks);
    if (st == parse_status::need_more) {
      if (static_cast<std::size_t>(end - p) >= options_.max_record_bytes) {
        if (!header_done_ && options_.has_header)
          throw source_error(source_errc::no_header,
                             location_ + ":" + std::to_string(line_) + ": the header line is longer than " +
                                 std::to_string(options_.max_record_bytes) + " bytes");
        ++result_.stats.rows;
        add_reject(line_, "row is longer than " + std::to_string(options_.max_record_bytes) +
                              " bytes (probably a quote that is never closed); skipped to the next line");
        line_ += count_line_breaks(p, end);
        pos_ = buf_.size();
        skip_line = true;
      }
      refill();
      continue;
    }
    if (st == parse_status::unterminated) {
      if (!header_done_ && options_.has_header)
        throw source_error(source_errc::no_header, location_ + ":" + std::to_string(line_) +
                                                       ": the header has a quote that is never closed");
      ++result_.stats.rows;
      add_reject(line_, "a quoted field opened in this row is never closed; the rest of the file (" +
                            std::to_string(count_line_breaks(p, end)) + " line breaks) was not read as rows");
      line_ += count_line_breaks(p, end);
      pos_ = buf_.size();
      break;
    }
    handle_record(p, next);
    line_ += breaks;
    pos_ = static_cast<std::size_t>(next - buf_.data());
  }
  result_.stats.lines = line_ - 1 + (terminated_ ? 0 : 1);
  if (!header_done_) throw source_error(source_errc::empty, location_ + " has no rows (only blank lines)");
  return std::move(result_);
}

csv_result run_parser(byte_source& in, const csv_options& options, const csv_row_handler& on_row) {
  if (options.delimiter != 0 && options.delimiter != ';' && options.delimiter != ',' &&
      options.delimiter != '\t' && options.delimiter != '|')
    throw source_error(source_errc::bad_format,
                       "unsupported CSV delimiter " + describe_delimiter(options.delimiter));
  csv_parser parser(in, options, on_row);
  return parser.run();
}

csv_row_handler to_records(const csv_options& options, const std::string& location,
                           const csv_record_handler& on_record) {
  return [&options, location, &on_record](const csv_row& row) {
    source_record rec;
    rec.where = origin{options.source_name, location, row.line, {}};
    rec.attributes.reserve(row.fields.size());
    for (std::size_t i = 0; i < row.fields.size(); ++i)
      rec.attributes.push_back(attribute{row.header[i], {std::string(row.fields[i])}});
    on_record(std::move(rec));
  };
}

}  // namespace

csv_result scan_csv(const csv_options& options, const csv_row_handler& on_row) {
  byte_source in = byte_source::open_file(options.path);
  return run_parser(in, options, on_row);
}

csv_result scan_csv_buffer(std::string_view data, const csv_options& options, const csv_row_handler& on_row) {
  byte_source in = byte_source::from_memory(data);
  return run_parser(in, options, on_row);
}

csv_result read_csv(const csv_options& options, const csv_record_handler& on_record) {
  return scan_csv(options, to_records(options, options.path, on_record));
}

csv_result read_csv_buffer(std::string_view data, const csv_options& options,
                           const csv_record_handler& on_record) {
  return scan_csv_buffer(data, options,
                         to_records(options, options.path.empty() ? "<memory>" : options.path, on_record));
}

}  // namespace b24sync::connectors
