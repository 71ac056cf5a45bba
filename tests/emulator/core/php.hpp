// PHP-flavoured value helpers: truthiness, intval, case folding, SQL LIKE, PHP array <-> JSON shapes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b24emu::detail {

// PHP truthiness: false, 0, 0.0, "", "0", null and empty arrays are false.
bool php_truthy(const boost::json::value& v);

// PHP intval(): leading integer of a string, 1/0 for non-empty/empty arrays, bools as 0/1.
std::int64_t php_intval(const boost::json::value& v);
std::int64_t php_intval(std::string_view s);

// Scalar as a string the way PHP would print it ("" for null/false, "1" for true); arrays give "Array".
std::string php_strval(const boost::json::value& v);

// PHP trim(): strips spaces, tabs and line breaks at both ends.
std::string php_trim(std::string_view s);

// Upper-cases ASCII and Cyrillic letters (UTF-8), like a *_ci collation would compare them.
std::string fold(std::string_view s);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);

// SQL LIKE on already folded strings: '%' any run, '_' one character (UTF-8 aware).
bool like_match(std::string_view folded_text, std::string_view folded_pattern);

// The values of a PHP array that may arrive as a JSON array or an object keyed "0","1",...
// A scalar gives a one-element list.
std::vector<boost::json::value> php_list(const boost::json::value& v);

// Case-insensitive top-level lookup (PHP code often upper-cases keys first). Null if absent.
const boost::json::value* get_ci(const boost::json::object& o, std::string_view key);

// Top-level keys upper-cased (later duplicates win, as with array_change_key_case).
boost::json::object upper_keys(const boost::json::object& o);

// A PHP associative array as JSON: [] when empty, a list when the keys are "0".."n-1" in order,
// else an object.
boost::json::value php_map(std::vector<std::pair<std::string, boost::json::value>> entries);

}  // namespace b24emu::detail
