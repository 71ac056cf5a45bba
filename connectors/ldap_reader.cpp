// Live LDAP reader: libldap handle setup (v3, no referrals, timeouts, TLS), bind, RFC 2696 paging.
#include "connectors/ldap_reader.hpp"

#include <ldap.h>

#include <memory>
#include <string_view>
#include <utility>

#include "connectors/text_encoding.hpp"

namespace b24sync::connectors {
namespace {

struct ldap_closer {
  void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct message_freer {
  void operator()(LDAPMessage* m) const noexcept { ldap_msgfree(m); }
};
using ldap_ptr = std::unique_ptr<LDAP, ldap_closer>;
using message_ptr = std::unique_ptr<LDAPMessage, message_freer>;

// libldap's text for `rc` plus the server's diagnostic message, if it sent one.
std::string describe(LDAP* ld, int rc) {
  std::string text = ldap_err2string(rc);
  char* diag = nullptr;
  if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
    if (*diag) text += std::string(" (") + diag + ")";
    ldap_memfree(diag);
  }
  return text + " [LDAP code " + std::to_string(rc) + "]";
}

bool is_connect_error(int rc) noexcept {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT;
}

void set_option(LDAP* ld, int option, const void* value, const char* what) {
  int rc = ldap_set_option(ld, option, value);
  if (rc != LDAP_OPT_SUCCESS)
    throw source_error(source_errc::connect_failed,
                       std::string("cannot set LDAP option ") + what + ": " + ldap_err2string(rc));
}

ldap_ptr connect(const ldap_options& o) {
  LDAP* raw = nullptr;
  int rc = ldap_initialize(&raw, o.uri.c_str());
  ldap_ptr ld(raw);
  if (rc != LDAP_SUCCESS || !ld)
    throw source_error(source_errc::connect_failed,
                       "invalid LDAP URI '" + o.uri + "': " + ldap_err2string(rc));
  int version = LDAP_VERSION3;
  set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version");
  set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals");
  if (o.timeout.count() > 0) {
    timeval tv{static_cast<time_t>(o.timeout.count()), 0};
    set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &tv, "network timeout");
    set_option(ld.get(), LDAP_OPT_TIMEOUT, &tv, "operation timeout");
  }
  bool ldaps = std::string_view(o.uri).substr(0, 8) == "ldaps://";
  if (ldaps || o.starttls) {
    int require = o.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &require, "TLS certificate check");
    if (!o.ca_file.empty()) set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, o.ca_file.c_str(), "TLS CA file");
    int is_server = 0;
    set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &is_server, "TLS context");
  }
  if (o.starttls && !ldaps) {
    rc = ldap_start_tls_s(ld.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS)
      throw source_error(source_errc::connect_failed,
                         "StartTLS with " + o.uri + " failed: " + describe(ld.get(), rc));
  }
  berval cred{static_cast<ber_len_t>(o.password.size()), const_cast<char*>(o.password.data())};
  rc = ldap_sasl_bind_s(ld.get(), o.bind_dn.empty() ? nullptr : o.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred,
                        nullptr, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    std::string who = o.bind_dn.empty() ? std::string("anonymously") : "as '" + o.bind_dn + "'";
    if (is_connect_error(rc))
      throw source_error(source_errc::connect_failed,
                         "cannot reach " + o.uri + ": " + describe(ld.get(), rc));
    throw source_error(source_errc::auth_failed,
                       "LDAP bind to " + o.uri + " " + who + " rejected: " + describe(ld.get(), rc));
  }
  return ld;
}

int to_ldap_scope(ldap_scope s) noexcept {
  switch (s) {
    case ldap_scope::base:
      return LDAP_SCOPE_BASE;
    case ldap_scope::one:
      return LDAP_SCOPE_ONELEVEL;
    case ldap_scope::sub:
      return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

source_record convert_entry(LDAP* ld, LDAPMessage* entry, const ldap_options& o, ldap_stats& stats) {
  source_record rec;
  rec.where.source = o.source_name;
  rec.where.location = o.uri;
  if (char* dn = ldap_get_dn(ld, entry)) {
    rec.where.dn = dn;
    ldap_memfree(dn);
  }
  BerElement* ber = nullptr;
  for (char* name = ldap_first_attribute(ld, entry, &ber); name; name = ldap_next_attribute(ld, entry, ber)) {
    attribute a{name, {}};
    ldap_memfree(name);
    if (berval** vals = ldap_get_values_len(ld, entry, a.name.c_str())) {
      for (berval** v = vals; *v; ++v) {
        std::string_view text((*v)->bv_val ? (*v)->bv_val : "", (*v)->bv_len);
        if (is_valid_utf8(text) && text.find('\0') == std::string_view::npos) {
          a.values.emplace_back(text);
        } else {
          a.values.push_back(base64_encode(text));
          ++stats.binary_values;
        }
      }
      ldap_value_free_len(vals);
    }
    rec.attributes.push_back(std::move(a));
  }
  if (ber) ber_free(ber, 0);
  return rec;
}

}  // namespace

const char* to_string(ldap_scope scope) noexcept {
  switch (scope) {
    case ldap_scope::base:
      return "base";
    case ldap_scope::one:
      return "one";
    case ldap_scope::sub:
      return "sub";
  }
  return "sub";
}

std::optional<ldap_scope> parse_ldap_scope(std::string_view name) noexcept {
  if (iequals_ascii(name, "base")) return ldap_scope::base;
  if (iequals_ascii(name, "one") || iequals_ascii(name, "onelevel")) return ldap_scope::one;
  if (iequals_ascii(name, "sub") || iequals_ascii(name, "subtree")) return ldap_scope::sub;
  return std::nullopt;
}

ldap_result read_ldap(const ldap_options& o, const ldap_record_handler& on_record) {
  ldap_ptr ld = connect(o);
  ldap_result result;
  std::vector<char*> attrs;
  for (const auto& a : o.attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  char** attr_list = o.attributes.empty() ? nullptr : attrs.data();
  timeval tv{static_cast<time_t>(o.timeout.count()), 0};
  auto fail = [&](int rc) {
    source_errc code = is_connect_error(rc) ? source_errc::connect_failed : source_errc::search_failed;
    throw source_error(code, "LDAP search of '" + o.base + "' with filter '" + o.filter + "' on " + o.uri +
                                 " failed after " + std::to_string(result.stats.entries) +
                                 " entries: " + describe(ld.get(), rc));
  };

  berval cookie{0, nullptr};
  auto free_cookie = [&cookie] {
    if (cookie.bv_val) ber_memfree(cookie.bv_val);
    cookie = berval{0, nullptr};
  };
  struct cookie_guard {
    decltype(free_cookie)& f;
    ~cookie_guard() { f(); }
  } guard{free_cookie};

  do {
    LDAPControl* page = nullptr;
    if (o.page_size > 0) {
      int rc = ldap_create_page_control(ld.get(), o.page_size, &cookie, 0, &page);
      if (rc != LDAP_SUCCESS) fail(rc);
    }
    LDAPControl* server_controls[] = {page, nullptr};
    LDAPMessage* raw = nullptr;
    int rc = ldap_search_ext_s(ld.get(), o.base.c_str(), to_ldap_scope(o.scope), o.filter.c_str(), attr_list,
                               0, page ? server_controls : nullptr, nullptr,
                               o.timeout.count() > 0 ? &tv : nullptr, LDAP_NO_LIMIT, &raw);
    if (page) ldap_control_free(page);
    message_ptr res(raw);
    if (rc != LDAP_SUCCESS) fail(rc);
    ++result.stats.pages;
    for (LDAPMessage* e = ldap_first_entry(ld.get(), res.get()); e; e = ldap_next_entry(ld.get(), e)) {
      ++result.stats.entries;
      source_record rec = convert_entry(ld.get(), e, o, result.stats);
      ++result.stats.records;
      on_record(std::move(rec));
    }
    free_cookie();
    if (o.page_size <= 0) break;
    LDAPControl** controls = nullptr;
    int err = LDAP_SUCCESS;
    rc = ldap_parse_result(ld.get(), res.get(), &err, nullptr, nullptr, nullptr, &controls, 0);
    if (rc != LDAP_SUCCESS) fail(rc);
    if (err != LDAP_SUCCESS) {
      ldap_controls_free(controls);
      fail(err);
    }
    if (LDAPControl* response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr)) {
      ber_int_t estimate = 0;
      rc = ldap_parse_pageresponse_control(ld.get(), response, &estimate, &cookie);
      if (rc != LDAP_SUCCESS) {
        ldap_controls_free(controls);
        fail(rc);
      }
    }
    ldap_controls_free(controls);
  } while (cookie.bv_len > 0);
  return result;
}

}  // namespace b24sync::connectors
