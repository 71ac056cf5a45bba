// libFuzzer target: the CSV reader over in-memory bytes, options picked by the first byte.
// The knobs choose encoding, delimiter, header, and tiny chunk sizes so chunk boundaries land everywhere.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/csv_reader.hpp"

using namespace b24sync::connectors;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t knobs = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  csv_options o;
  static constexpr text_encoding encodings[] = {text_encoding::auto_detect, text_encoding::utf8,
                                                text_encoding::cp1251, text_encoding::auto_detect};
  static constexpr char delimiters[] = {0, ';', ',', '\t'};
  o.encoding = encodings[knobs & 3];
  o.delimiter = delimiters[(knobs >> 2) & 3];
  o.has_header = (knobs & 0x10) == 0;
  static constexpr std::size_t chunks[] = {1 << 20, 1, 3, 17};
  o.chunk_size = chunks[(knobs >> 5) & 3];
  o.max_record_bytes = (knobs & 0x80) ? 64 : (16 << 20);
  try {
    std::size_t fields = 0;
    csv_result r = read_csv_buffer(input, o, [&](source_record&& rec) {
      fields += rec.attributes.size();
      for (const auto& a : rec.attributes)
        if (a.values.size() != 1 || !is_valid_utf8(a.values[0]))
          __builtin_trap();  // contract: one UTF-8 value
    });
    if (r.stats.records + r.stats.rejected != r.stats.rows) __builtin_trap();
    if (fields != r.stats.records * r.header.size()) __builtin_trap();
  } catch (const source_error&) {
    // a whole-file error (empty, no header, BOM vs. cp1251) is an expected outcome
  }
  return 0;
}
