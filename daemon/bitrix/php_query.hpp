// PHP-style (http_build_query / parse_str) encoding of nested parameters for Bitrix24 query strings.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace b24sync::bitrix {

/** Encode `params` as `key=v&key[sub]=v&key[0]=v` the way PHP's parse_str reads it back.

    - Keys and values are percent-encoded byte-exact (UTF-8 passes through as %XX), everything but
      RFC 3986 unreserved characters is escaped; a space becomes %20, so a literal '+' survives.
    - Objects nest as `key[sub]`; arrays as `key[0]`, `key[1]`...
    - Strings are sent as-is. Integers and doubles in decimal (shortest round-trip form).
    - Booleans are sent as "Y" / "N" (never "true"/"false": the portal stores the string "false" as
      ACTIVE=Y, trap 4). Callers should pass "Y"/"N" strings for ACTIVE themselves; the mapping is a
      safety net.
    - null, an empty array and an empty object are sent as `key=` (an empty string), so the key is
      never dropped silently the way PHP drops it.
    - Pairs come out in the object's insertion order.

    Throws std::invalid_argument for a key PHP cannot carry: empty, containing '[' or ']', or a
    top-level key containing '.' or ' ' (parse_str rewrites those to '_'). */
std::string encode_php_query(const boost::json::object& params);

/** Encode a single value under an already-built key prefix (e.g. "FILTER[>ID]"), appending
    `&`-separated pairs to `out`. Same rules as encode_php_query; `key` is given unencoded. */
void append_php_query(std::string& out, std::string_view key, const boost::json::value& value);

/** The inverse, with parse_str semantics, for tests and the emulator:
    `a[b][]=1&a[b][]=2&c=x+y` -> {"a":{"b":["1","2"]},"c":"x y"}. All leaves come back as strings;
    an object whose keys are exactly "0".."n-1" in order becomes an array; `+` decodes to a space.
    Throws std::invalid_argument on a malformed percent escape. */
boost::json::object parse_php_query(std::string_view query);

}  // namespace b24sync::bitrix
