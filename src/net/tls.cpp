#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/error.hpp>

#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {
namespace {

namespace ssl = asio::ssl;

// Mozilla "intermediate" TLS 1.2 list: forward secrecy and AEAD only (no CBC, no RSA key
// exchange). TLS 1.3 suites are configured separately by OpenSSL and are all AEAD.
constexpr const char* server_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

error_code last_ssl_error() {
  auto e = ::ERR_get_error();
  if (e == 0) return make_error_code(boost::system::errc::invalid_argument);
  return {static_cast<int>(e), asio::error::get_ssl_category()};
}

void require_tls12(ssl::context& ctx) {
  if (::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    throw boost::system::system_error(last_ssl_error(), "SSL_CTX_set_min_proto_version");
  }
}

std::shared_ptr<ssl::context> base_client_context() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  require_tls12(*ctx);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_client_tls_context(std::optional<std::string> ca_file) {
  auto ctx = base_client_context();
  ctx->set_default_verify_paths();
  if (ca_file) ctx->load_verify_file(*ca_file);
  return ctx;
}

std::shared_ptr<asio::ssl::context> make_client_tls_context_only(const std::string& ca_file) {
  auto ctx = base_client_context();
  ctx->load_verify_file(ca_file);
  return ctx;
}

std::shared_ptr<asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                            const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  require_tls12(*ctx);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  if (::SSL_CTX_set_cipher_list(ctx->native_handle(), server_tls12_ciphers) != 1) {
    throw boost::system::system_error(last_ssl_error(), "SSL_CTX_set_cipher_list");
  }
  ctx->use_certificate_chain_file(cert_file);
  ctx->use_private_key_file(key_file, ssl::context::pem);
  if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw boost::system::system_error(last_ssl_error(), "private key does not match certificate");
  }
  return ctx;
}

result<void> prepare_client_tls(SSL* ssl, const std::string& host) {
  url probe;
  probe.host = host;
  X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
  if (probe.host_is_ip()) {
    // RFC 6066 §3: literal addresses are not permitted in SNI; verify the IP SAN instead.
    if (::X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) return last_ssl_error();
    return {};
  }
  // SSL_set_tlsext_host_name is a macro with a C cast (-Wold-style-cast): call what it expands to
  // (style guide B.10).
  if (::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1) {
    return last_ssl_error();
  }
  // RFC 6125 §6.4.3: a wildcard matches one whole left-most label only.
  ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (::X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    return last_ssl_error();
  }
  return {};
}

}  // namespace kazoo_bridge::net
