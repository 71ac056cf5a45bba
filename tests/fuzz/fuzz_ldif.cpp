// libFuzzer target: the LDIF reader over in-memory bytes, plus the filter parser on the first line.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "connectors/ldif_reader.hpp"
#include "connectors/text_encoding.hpp"

using namespace b24sync::connectors;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t knobs = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  ldif_options o;
  static constexpr std::size_t chunks[] = {1 << 20, 1, 2, 13};
  o.chunk_size = chunks[knobs & 3];
  if (knobs & 4) o.object_classes.clear();
  o.max_entry_bytes = (knobs & 8) ? 128 : (64 << 20);
  if (knobs & 0x10) {  // the first line is a filter for the rest
    std::size_t nl = input.find('\n');
    o.filter = std::string(input.substr(0, nl));
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  }
  try {
    ldif_result r = read_ldif_buffer(input, o, [](source_record&& rec) {
      if (!is_valid_utf8(rec.where.dn)) __builtin_trap();
      for (const auto& a : rec.attributes) {
        if (a.values.empty()) __builtin_trap();
        for (const auto& v : a.values)
          if (!is_valid_utf8(v)) __builtin_trap();
      }
    });
    const auto& s = r.stats;
    if (s.records + s.rejected + s.filtered_out + s.skipped != s.entries) __builtin_trap();
  } catch (const source_error&) {
    // empty input or an unsupported version: expected
  } catch (const std::invalid_argument&) {
    // the filter did not parse: expected
  }
  return 0;
}
