// CSV reader: RFC 4180 plus real-world exports (1C:ZUP cp1251 ';', HRIS UTF-8 BOM ','), streaming.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/source_record.hpp"
#include "connectors/text_encoding.hpp"

namespace b24sync::connectors {

struct csv_options {
  std::string path;         // file to read (ignored by the *_buffer functions)
  std::string source_name;  // the source's name from the config, copied to origins
  text_encoding encoding = text_encoding::auto_detect;  // output is always UTF-8
  char delimiter = 0;                                   // ';', ',' or '\t'; 0 = detect from the header line
  bool has_header = true;            // false: columns are named "1", "2", ... after the first row's width
  std::size_t chunk_size = 1 << 20;  // bytes read per refill (tests use tiny ones)
  std::size_t max_record_bytes = 16 << 20;  // a longer row is rejected (usually an unclosed quote)
};

struct csv_stats {
  std::size_t rows = 0;         // data rows seen (yielded + rejected), blank lines excluded
  std::size_t records = 0;      // rows handed to the callback
  std::size_t rejected = 0;     // rows reported as rejects
  std::size_t blank_lines = 0;  // empty lines and rows of only empty cells (";;;"), skipped
  std::size_t lines = 0;        // physical lines in the file
  std::size_t bytes = 0;        // bytes read from the file
  text_encoding encoding = text_encoding::auto_detect;  // the encoding used (never auto_detect after a read)
  bool had_bom = false;
  char delimiter = 0;  // the delimiter used
};

struct csv_result {
  std::vector<std::string> header;  // column names (UTF-8, surrounding blanks trimmed)
  std::vector<reject> rejects;      // every unusable row, in file order
  csv_stats stats;
};

// One parsed row, valid only during the callback: views into the reader's buffer.
struct csv_row {
  std::size_t line = 0;                      // 1-based line where the row starts
  std::span<const std::string> header;       // column names
  std::span<const std::string_view> fields;  // exactly header.size() UTF-8 values
};

using csv_record_handler = std::function<void(source_record&&)>;
using csv_row_handler = std::function<void(const csv_row&)>;

// Reads options.path and calls on_record for every good row; bad rows end up in result.rejects.
// Throws source_error when the file is unusable as a whole (missing, unreadable, empty, no header).
// Exceptions thrown by the callback propagate.
csv_result read_csv(const csv_options& options, const csv_record_handler& on_record);
// The same over bytes in memory (origins say location "<memory>" unless options.path is set).
csv_result read_csv_buffer(std::string_view data, const csv_options& options,
                           const csv_record_handler& on_record);

// The fast path: no per-row allocation, fields are views. Same rejects, stats and errors as read_csv.
csv_result scan_csv(const csv_options& options, const csv_row_handler& on_row);
csv_result scan_csv_buffer(std::string_view data, const csv_options& options, const csv_row_handler& on_row);

}  // namespace b24sync::connectors
