// The synchronous test HTTP client (see test_http_client.hpp): Beast async operations driven to completion
// by a private io_context, so the tcp_stream deadline bounds every request.
#include "support/test_http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace b24sync::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string http_reply::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

class test_http_client::impl {
public:
  explicit impl(client_options o) : options_(std::move(o)), ssl_ctx_(ssl::context::tls_client) {
    if (options_.verify_host.empty()) options_.verify_host = options_.host;
    if (options_.tls) {
      if (options_.ca_file.empty()) ssl_ctx_.set_default_verify_paths();
      else ssl_ctx_.load_verify_file(options_.ca_file);
      if (options_.verify) {
        ssl_ctx_.set_verify_mode(ssl::verify_peer);
        ssl_ctx_.set_verify_callback(ssl::host_name_verification(options_.verify_host));
      } else {
        ssl_ctx_.set_verify_mode(ssl::verify_none);
      }
    }
  }

  http_reply request(std::string_view method, std::string_view target, std::string_view body,
                     const header_list& headers) {
    if (!connected()) connect();
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, options_.host + ":" + std::to_string(options_.port));
    req.set(http::field::user_agent, "b24sync-test-client");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    req.keep_alive(true);
    if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();

    http::response_parser<http::string_body> parser;
    parser.body_limit(1024ull * 1024 * 1024);
    lowest().expires_after(options_.timeout);
    error_code ec;
    if (secure_) {
      http::async_write(*secure_, req, [&](error_code e, std::size_t) { ec = e; });
      drive();
      if (!ec) http::async_read(*secure_, buffer_, parser, [&](error_code e, std::size_t) { ec = e; });
    } else {
      http::async_write(*plain_, req, [&](error_code e, std::size_t) { ec = e; });
      drive();
      if (!ec) http::async_read(*plain_, buffer_, parser, [&](error_code e, std::size_t) { ec = e; });
    }
    drive();
    if (ec) {
      close();
      throw boost::system::system_error(ec, std::string(method) + " " + std::string(target));
    }
    lowest().expires_never();
    const auto& res = parser.get();
    http_reply reply;
    reply.status = static_cast<int>(res.result_int());
    for (const auto& f : res) reply.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    reply.body = res.body();
    reply.keep_alive = res.keep_alive();
    if (!reply.keep_alive) close();
    return reply;
  }

  bool connected() const { return plain_.has_value() || secure_.has_value(); }
  std::size_t connections_opened() const { return opened_; }

  void close() {
    error_code ec;
    if (secure_) beast::get_lowest_layer(*secure_).socket().close(ec);
    if (plain_) plain_->socket().close(ec);
    secure_.reset();
    plain_.reset();
    buffer_.clear();
    drive();  // let cancelled handlers (if any) run before the streams are gone
  }

private:
  void drive() {
    ioc_.restart();
    ioc_.run();
  }

  beast::tcp_stream& lowest() { return secure_ ? beast::get_lowest_layer(*secure_) : *plain_; }

  void connect() {
    tcp::resolver resolver(ioc_);
    const auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port));
    beast::tcp_stream stream(ioc_);
    stream.expires_after(options_.timeout);
    error_code ec;
    stream.async_connect(endpoints, [&](error_code e, const tcp::endpoint&) { ec = e; });
    drive();
    if (ec) throw boost::system::system_error(ec, "connect to " + options_.host + ":" + std::to_string(options_.port));
    stream.socket().set_option(tcp::no_delay(true), ec);
    ++opened_;
    buffer_.clear();
    if (!options_.tls) {
      stream.expires_never();
      plain_.emplace(std::move(stream));
      return;
    }
    secure_.emplace(std::move(stream), ssl_ctx_);
    if (!is_ip_literal(options_.verify_host) &&
        SSL_set_tlsext_host_name(secure_->native_handle(), options_.verify_host.c_str()) != 1) {
      secure_.reset();
      throw std::runtime_error("cannot set SNI host name");
    }
    secure_->async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
    drive();
    if (ec) {
      close();
      throw boost::system::system_error(ec, "TLS handshake with " + options_.host);
    }
    beast::get_lowest_layer(*secure_).expires_never();
  }

  client_options options_;
  net::io_context ioc_{1};
  ssl::context ssl_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::size_t opened_ = 0;
};

test_http_client::test_http_client(client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
test_http_client::~test_http_client() = default;
test_http_client::test_http_client(test_http_client&&) noexcept = default;
test_http_client& test_http_client::operator=(test_http_client&&) noexcept = default;

http_reply test_http_client::request(std::string_view method, std::string_view target, std::string_view body,
                                     const header_list& headers) {
  return impl_->request(method, target, body, headers);
}
std::size_t test_http_client::connections_opened() const { return impl_->connections_opened(); }
bool test_http_client::connected() const { return impl_->connected(); }
void test_http_client::close() { impl_->close(); }

client_options options_from_url(std::string_view url) {
  client_options o;
  if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  } else if (url.substr(0, 8) == "https://") {
    url.remove_prefix(8);
    o.tls = true;
  } else {
    throw std::invalid_argument("not an http(s) URL: " + std::string(url));
  }
  url = url.substr(0, url.find('/'));
  std::string_view host = url, port;
  if (!url.empty() && url.front() == '[') {
    const auto close = url.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("bad IPv6 host in URL");
    host = url.substr(1, close - 1);
    if (close + 1 < url.size() && url[close + 1] == ':') port = url.substr(close + 2);
  } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
  }
  o.host = std::string(host);
  o.port = port.empty() ? (o.tls ? 443 : 80) : static_cast<std::uint16_t>(std::stoi(std::string(port)));
  return o;
}

}  // namespace b24sync::test
