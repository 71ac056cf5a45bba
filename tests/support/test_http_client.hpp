// A small synchronous HTTP/1.1 (+ TLS) client for tests: keep-alive, a deadline on every request,
// status/headers/body back. Network failures throw boost::system::system_error with the Beast/Asio code,
// so a test can assert on what a fault looked like from the client's side. Beast stays in the .cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b24sync::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
  int status = 0;
  header_list headers;
  std::string body;
  bool keep_alive = false;                      // the server left the connection open
  std::string header(std::string_view name) const;  // first value, case-insensitive; "" if absent
};

struct client_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  bool tls = false;
  std::string ca_file;                          // PEM CA to trust; empty = the system store
  bool verify = true;                           // verify the chain and that the certificate names `verify_host`
  std::string verify_host;                      // empty = host; "localhost" or "127.0.0.1" for test_certs
  std::chrono::milliseconds timeout{10'000};    // per request: connect + handshake + write + read
};

class test_http_client {
public:
  explicit test_http_client(client_options options);
  ~test_http_client();
  test_http_client(const test_http_client&) = delete;
  test_http_client& operator=(const test_http_client&) = delete;
  test_http_client(test_http_client&&) noexcept;
  test_http_client& operator=(test_http_client&&) noexcept;

  // Sends one request on the kept-alive connection (connecting first if there is none). Throws
  // boost::system::system_error on connect/TLS/read/write failure or timeout (then the connection is dropped).
  http_reply request(std::string_view method, std::string_view target, std::string_view body = {},
                     const header_list& headers = {});
  http_reply get(std::string_view target) { return request("GET", target); }
  http_reply post_json(std::string_view target, std::string_view json) {
    return request("POST", target, json, {{"Content-Type", "application/json"}});
  }

  std::size_t connections_opened() const;       // TCP connections made so far: 1 after N requests = keep-alive
  bool connected() const;
  void close();

private:
  class impl;
  std::unique_ptr<impl> impl_;
};

// "http://127.0.0.1:8080" or "https://[::1]:443" -> client_options (host, port, tls). Throws on anything else.
client_options options_from_url(std::string_view base_url);

}  // namespace b24sync::test
