// UTF-8 text helpers shared by the config parser and the mapping: case maps (Latin + Cyrillic), trimming,
// e-mail syntax, edit distance for "did you mean" hints. Pure functions, no locale, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::config {

// Case conversion for ASCII, Latin-1 letters and the Cyrillic blocks used by Russian, Ukrainian,
// Belarusian and Kazakh (U+0400..U+04FF). Other code points and invalid UTF-8 bytes pass through.
std::string utf8_lower(std::string_view s);
std::string utf8_upper(std::string_view s);
// Each word's first letter upper-cased, the rest lower-cased; words are split at white space, '-' and
// '\'' ("анна-мария o'neil" -> "Анна-Мария O'Neil").
std::string utf8_title(std::string_view s);
// Number of code points (invalid bytes count as one each): Bitrix24 limits are in characters.
std::size_t utf8_length(std::string_view s);
// Removes leading and trailing white space (ASCII, NBSP U+00A0, BOM U+FEFF).
std::string trim(std::string_view s);
std::string_view trim_view(std::string_view s);  // the same, as a view into s
// Trims and replaces every run of inner white space with one ASCII space.
std::string collapse_spaces(std::string_view s);
// Replaces every occurrence of `from` (non-empty) with `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// Splits at every `sep` (non-empty); pieces are returned as they are, empty ones included.
std::vector<std::string> split(std::string_view s, std::string_view sep);
// ASCII case-insensitive comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

// addr-spec syntax as Bitrix24 accepts it: dot-atom local part (ASCII), a domain of at least two labels
// (letters, digits, '-', or UTF-8 for internationalised names), at most 254 bytes in total.
bool is_valid_email(std::string_view s);

// Edit distance with adjacent transpositions (by bytes), used for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate (case-insensitive) within 1 edit for words of up to 3 bytes, else
// max(2, len/3) edits; empty when none is that close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);
// ` (did you mean "x"?)` or empty.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace b24sync::config
