// Lookup helpers of the uniform source record.
#include "connectors/source_record.hpp"

#include <algorithm>

namespace b24sync::connectors {

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  auto lower = [](unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

const attribute* source_record::find(std::string_view name) const noexcept {
  for (const auto& a : attributes)
    if (iequals_ascii(a.name, name)) return &a;
  return nullptr;
}

std::string_view source_record::first(std::string_view name) const noexcept {
  const attribute* a = find(name);
  return (a && !a->values.empty()) ? std::string_view{a->values.front()} : std::string_view{};
}

const char* to_string(source_errc code) noexcept {
  switch (code) {
    case source_errc::not_found:
      return "not_found";
    case source_errc::unreadable:
      return "unreadable";
    case source_errc::empty:
      return "empty";
    case source_errc::no_header:
      return "no_header";
    case source_errc::bad_format:
      return "bad_format";
    case source_errc::connect_failed:
      return "connect_failed";
    case source_errc::auth_failed:
      return "auth_failed";
    case source_errc::search_failed:
      return "search_failed";
  }
  return "unknown";
}

}  // namespace b24sync::connectors
