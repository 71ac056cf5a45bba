// Phone numbers to E.164 ("+74951234567") without libphonenumber: a small table of national dialling
// rules for the regions b24sync's users live in. Pure; see phone.cpp for the table.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::config {

// Regions with national-format rules: RU, KZ, BY, UA, US, CA, DE, GB. Any other number is accepted
// in international form only ("+..." or "00...").
const std::vector<std::string>& phone_regions();
bool is_known_phone_region(std::string_view region);

// "+<8..15 digits>" or nullopt when the text is not a phone number of `default_region` nor an
// international one. Extensions ("доб. 123", "ext 5", "x5", "#5") are dropped.
std::optional<std::string> normalize_phone(std::string_view text, std::string_view default_region);

}  // namespace b24sync::config
