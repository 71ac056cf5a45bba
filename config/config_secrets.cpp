// Secrets: *_file reads (CREDENTIALS_DIRECTORY, permission warnings), inline/${ENV} values, webhook
// splitting.
#include <fstream>
#include <iterator>

#include "config/detail/sections.hpp"
#include "config/text.hpp"

namespace b24sync::config::detail {
namespace {

constexpr std::size_t max_secret_size = 64 * 1024;

bool is_code_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

secret read_secret_file(const reader& r, const YAML::Node& at, std::string_view path,
                        const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty()) r.fail(at, path, "empty file name");
  // A name that came from ${VAR} is shown as written: the variable might hold the secret itself by mistake.
  std::string raw = at.IsScalar() ? at.Scalar() : name;
  bool from_env = raw.find("${") != std::string::npos;
  fs::path file{name};
  if (file.is_relative()) {
    if (auto creds = r.getenv("CREDENTIALS_DIRECTORY"); creds && !creds->empty())
      file = fs::path{*creds} / file;
    else
      file = fs::path{r.resolve(name)};
  }
  const std::string shown = from_env ? "named by " + raw : file.string();
  std::error_code ec;
  fs::file_status st = fs::status(file, ec);
  if (ec || !fs::exists(st)) r.fail(at, path, "cannot read secret file " + shown + ": no such file");
  if (!fs::is_regular_file(st)) r.fail(at, path, "secret file " + shown + " is not a regular file");
  std::ifstream in(file, std::ios::binary);
  if (!in) r.fail(at, path, "cannot read secret file " + shown + ": permission denied");
  std::string value;
  value.resize(max_secret_size + 1);
  in.read(value.data(), static_cast<std::streamsize>(value.size()));
  value.resize(static_cast<std::size_t>(in.gcount()));
  if (value.size() > max_secret_size) r.fail(at, path, "secret file " + shown + " is larger than 64 KiB");
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (trim(value).empty()) r.fail(at, path, "secret file " + shown + " is empty");
  fs::perms p = st.permissions();
  if ((p & (fs::perms::group_read | fs::perms::others_read)) != fs::perms::none)
    r.warn(r.location(at.Mark()) + ": " + std::string{path} + ": secret file " + shown +
           " is readable by group or others; chmod 600 it (or use systemd LoadCredential=)");
  return secret{std::move(value)};
}

secret read_secret(const reader& r, const map_view& m, std::string_view key) {
  std::string file_key = std::string{key} + "_file";
  auto inline_node = m.get(key);
  auto file_node = m.get(file_key);
  if (inline_node && file_node)
    r.fail(*file_node, m.path_of(file_key),
           "give either " + std::string{key} + " or " + file_key + ", not both");
  if (file_node)
    return read_secret_file(r, *file_node, m.path_of(file_key), r.str(*file_node, m.path_of(file_key)));
  if (!inline_node) return {};
  std::string raw = r.raw_str(*inline_node, m.path_of(key));
  if (raw.find("${") == std::string::npos)
    r.warn(r.location(inline_node->Mark()) + ": " + m.path_of(key) +
           ": secret written in the config file in clear; use " + file_key + " or ${VARIABLE}");
  secret s{r.expand(*inline_node, m.path_of(key), raw)};
  if (s.empty()) r.fail(*inline_node, m.path_of(key), "empty secret");
  return s;
}

webhook_config split_webhook(const reader& r, const YAML::Node& at, std::string_view path,
                             const secret& value, const std::string& portal_url) {
  // Messages below never include `value`: they describe the expected shape only.
  const std::string shape = " (expected https://<portal>/rest/<user id>/<code>/; the value is not shown)";
  std::string_view v = value.reveal();
  while (!v.empty() && (v.back() == ' ' || v.back() == '\n' || v.back() == '\r' || v.back() == '\t'))
    v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  webhook_config w;
  std::string_view rest;
  if (v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0) {
    std::size_t host_start = v.find("//") + 2;
    std::size_t rest_pos = v.find("/rest/", host_start);
    std::size_t slash = v.find('/', host_start);
    if (rest_pos == std::string_view::npos || slash == host_start)
      r.fail(at, path, "not a webhook URL" + shape);
    w.portal_url = std::string{v.substr(0, rest_pos)};
    rest = v.substr(rest_pos + 6);
  } else {
    if (portal_url.empty()) r.fail(at, path, "a webhook without its URL needs portal.url" + shape);
    w.portal_url = portal_url;
    rest = v;
  }
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) r.fail(at, path, "no user id in the webhook" + shape);
  std::string_view id = rest.substr(0, slash);
  std::string_view code = rest.substr(slash + 1);
  if (!code.empty() && code.back() == '/') code.remove_suffix(1);
  for (char c : id)
    if (c < '0' || c > '9') r.fail(at, path, "the webhook's user id is not a number" + shape);
  if (id.size() > 12) r.fail(at, path, "the webhook's user id is too long" + shape);
  if (code.empty()) r.fail(at, path, "no code in the webhook" + shape);
  for (char c : code)
    if (!is_code_char(c)) r.fail(at, path, "the webhook code has unexpected characters" + shape);
  w.user_id = std::stoll(std::string{id});
  if (w.user_id <= 0) r.fail(at, path, "the webhook's user id must be positive" + shape);
  w.code = secret{std::string{code}};
  return w;
}

}  // namespace b24sync::config::detail
