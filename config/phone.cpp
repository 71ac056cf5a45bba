// E.164 normalisation with per-region national rules (trunk prefix, national number lengths).
#include "config/phone.hpp"

#include <algorithm>

#include "config/text.hpp"

namespace b24sync::config {
namespace {

// One dialling plan. National numbers are written with the trunk prefix ("8" in RU/KZ/BY, "0" in
// UA/DE/GB, "1" in NANP) and have `min_nsn`..`max_nsn` digits after the country code.
struct dialling_plan {
  std::string_view region;
  std::string_view country_code;
  std::string_view trunk;        // national prefix dropped before adding the country code
  std::string_view extra_trunk;  // a second accepted prefix ("0" in BY, "80" in UA's old plan)
  std::size_t min_nsn;
  std::size_t max_nsn;
  std::string_view leading;  // digits a national number may start with (resolves "8..." vs trunk 8)
};

// NSN = national significant number. Sources: ITU-T E.164 national numbering plans.
constexpr dialling_plan plans[] = {
    {"RU", "7", "8", "", 10, 10, "346789"},    {"KZ", "7", "8", "", 10, 10, "346789"},
    {"BY", "375", "80", "0", 9, 9, "12345"},   {"UA", "380", "0", "80", 9, 9, "3456789"},
    {"US", "1", "1", "", 10, 10, "23456789"},  {"CA", "1", "1", "", 10, 10, "23456789"},
    {"DE", "49", "0", "", 6, 13, "123456789"}, {"GB", "44", "0", "", 9, 10, "1235789"},
};

const dialling_plan* find_plan(std::string_view region) {
  for (const auto& p : plans)
    if (iequals(p.region, region)) return &p;
  return nullptr;
}

// Validates a full international digit string against the plan of its country code, if we know it.
bool plausible_international(const std::string& digits) {
  if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') return false;
  for (const auto& p : plans) {
    if (digits.rfind(p.country_code, 0) != 0) continue;
    std::size_t nsn = digits.size() - p.country_code.size();
    if (nsn < p.min_nsn || nsn > p.max_nsn) return false;
    return p.leading.find(digits[p.country_code.size()]) != std::string_view::npos;
  }
  return true;
}

// Cuts an extension marker and what follows: "доб", "ext", "x", "#", "вн" (ASCII case-insensitive).
std::string_view strip_extension(std::string_view s) {
  static const std::string_view markers[] = {"доб", "вн.", "ext", "x", "#", ",", ";"};
  std::size_t cut = s.size();
  // Lower-casing keeps byte offsets: Latin and Cyrillic case pairs have equal UTF-8 lengths.
  std::string lower = utf8_lower(s);
  for (auto m : markers) {
    std::size_t pos = lower.find(m);
    // Only after some digits: a leading "x" is not an extension.
    if (pos != std::string::npos && pos > 0 &&
        std::any_of(s.begin(), s.begin() + static_cast<long>(pos),
                    [](char c) { return c >= '0' && c <= '9'; }))
      cut = std::min(cut, pos);
  }
  return s.substr(0, cut);
}

}  // namespace

const std::vector<std::string>& phone_regions() {
  static const std::vector<std::string> regions = [] {
    std::vector<std::string> r;
    for (const auto& p : plans) r.emplace_back(p.region);
    return r;
  }();
  return regions;
}

bool is_known_phone_region(std::string_view region) {
  return find_plan(region) != nullptr;
}

std::optional<std::string> normalize_phone(std::string_view text, std::string_view default_region) {
  // "+49 (0)30 ..." writes the trunk prefix that is dropped after the country code.
  std::string t = trim(replace_all(strip_extension(trim(text)), "(0)", ""));
  if (t.empty()) return std::nullopt;
  bool plus = t.front() == '+';
  std::string digits;
  for (std::size_t i = plus ? 1 : 0; i < t.size(); ++i) {
    char c = t[i];
    if (c >= '0' && c <= '9')
      digits += c;
    else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.' && c != '/')
      return std::nullopt;  // letters or a second '+': not a phone number
  }
  if (digits.size() > 17) return std::nullopt;
  if (plus) {
    if (!plausible_international(digits)) return std::nullopt;
    return "+" + digits;
  }
  if (digits.rfind("00", 0) == 0) {
    digits.erase(0, 2);
    if (!plausible_international(digits)) return std::nullopt;
    return "+" + digits;
  }
  const dialling_plan* plan = find_plan(default_region);
  if (!plan) return std::nullopt;
  // "8 10 <international>" is the old Soviet-plan international prefix, still typed in RU/KZ/BY.
  if (plan->trunk == "8" || plan->trunk == "80") {
    if (digits.rfind("810", 0) == 0 && digits.size() > 11) {
      digits.erase(0, 3);
      if (!plausible_international(digits)) return std::nullopt;
      return "+" + digits;
    }
  }
  auto with_cc = [&](std::string_view nsn) -> std::optional<std::string> {
    if (nsn.size() < plan->min_nsn || nsn.size() > plan->max_nsn || nsn.front() == '0') return std::nullopt;
    std::string full = std::string{plan->country_code} + std::string{nsn};
    if (!plausible_international(full)) return std::nullopt;
    return "+" + full;
  };
  std::string_view d = digits;
  std::size_t cc = plan->country_code.size();
  // Already international without '+': country code followed by a full national number.
  if (d.rfind(plan->country_code, 0) == 0 && d.size() - cc >= plan->min_nsn && d.size() - cc <= plan->max_nsn)
    if (auto r = with_cc(d.substr(cc))) return r;
  for (std::string_view trunk : {plan->trunk, plan->extra_trunk}) {
    if (!trunk.empty() && d.rfind(trunk, 0) == 0)
      if (auto r = with_cc(d.substr(trunk.size()))) return r;
  }
  // Bare national significant number (RU/KZ 10 digits, BY 9, ...).
  return with_cc(d);
}

}  // namespace b24sync::config
