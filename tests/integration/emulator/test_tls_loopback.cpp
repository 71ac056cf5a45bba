// Loopback tests of the emulator over TLS with a generated CA: verified handshake, the wrong CA refused,
// plain HTTP on the same port and require_https.
#include "emu_fixture.hpp"
#include "support/test_certs.hpp"

#include <doctest/doctest.h>

using namespace emu_test;
using b24sync::test::test_certs;
using b24sync::test::test_http_client;

namespace {

b24emu::server_options tls_options(const test_certs& certs) {
  auto o = default_options();
  o.tls_cert_file = certs.cert_file();
  o.tls_key_file = certs.key_file();
  return o;
}

b24sync::test::client_options tls_client(const running_server& s, const test_certs& certs, const char* name) {
  auto o = b24sync::test::options_from_url(s->base_url());
  o.ca_file = certs.ca_file();
  o.verify_host = name;
  return o;
}

}  // namespace

TEST_CASE("TLS: the client verifies the generated certificate for 127.0.0.1 and localhost") {
  test_certs certs;
  running_server s(tls_options(certs));
  CHECK(s->tls());
  CHECK(s->base_url().rfind("https://127.0.0.1:", 0) == 0);
  for (const char* name : {"127.0.0.1", "localhost"}) {
    test_http_client c(tls_client(s, certs, name));
    for (int i = 0; i < 2; ++i) {
      const auto r = c.post_json(std::string(hook) + "user.current", "{}");
      CHECK(r.status == 200);
      CHECK(json_of(r).at("result").at("ID") == "1");
    }
    CHECK(c.connections_opened() == 1);
  }
  test_http_client probe(tls_client(s, certs, "localhost"));
  CHECK(server_stat(probe, "tls_connections") == 3);
}

TEST_CASE("TLS: a client trusting another CA, or checking another name, is refused") {
  test_certs certs, stranger;
  running_server s(tls_options(certs));
  SUBCASE("another CA") {
    test_http_client c(tls_client(s, stranger, "localhost"));
    CHECK_THROWS_AS(c.get("/emu/time"), boost::system::system_error);
  }
  SUBCASE("another name") {
    test_http_client c(tls_client(s, certs, "portal.example.test"));
    CHECK_THROWS_AS(c.get("/emu/time"), boost::system::system_error);
  }
}

TEST_CASE("TLS: plain HTTP on the same port still works, and require_https refuses it for webhooks") {
  test_certs certs;
  running_server s(tls_options(certs));
  auto plain_opt = b24sync::test::options_from_url(s->base_url());
  plain_opt.tls = false;
  test_http_client plain(plain_opt);
  CHECK(plain.post_json(std::string(hook) + "user.current", "{}").status == 200);
  REQUIRE(plain.post_json("/emu/limits", R"({"require_https": true})").status == 200);
  const auto r = plain.post_json(std::string(hook) + "user.current", "{}");
  CHECK(json_of(r).at("error") == "INVALID_REQUEST");
  test_http_client secure(tls_client(s, certs, "127.0.0.1"));
  CHECK(secure.post_json(std::string(hook) + "user.current", "{}").status == 200);
}
