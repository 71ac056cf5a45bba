// Request parameters the way CRestUtil::getRequestData builds them: query string + body, body wins.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace b24emu::detail {

// Percent-decoding; '+' becomes a space when plus_as_space (form encoding).
std::string url_decode(std::string_view s, bool plus_as_space = true);

// PHP parse_str(): "a=1&b[x]=2&c[]=3&c[]=4&FILTER[>ID]=5" into nested objects. PHP arrays are JSON
// objects keyed by strings ("0","1",...); later keys override earlier ones.
void parse_str(std::string_view query, boost::json::object& out);
boost::json::object parse_str(std::string_view query);

// Query string merged with the body: JSON when the content type is application/json (invalid or
// non-object JSON is ignored), otherwise the body is form-decoded. Body keys replace query keys.
boost::json::object request_params(std::string_view query, std::string_view content_type,
                                   std::string_view body);

}  // namespace b24emu::detail
