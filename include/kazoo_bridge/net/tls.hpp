#pragma once
/// TLS context factories and the per-connection client set-up (SNI + host name verification).
/// One client context serves the whole process (style guide B.6).

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::net {

/// Client context: TLS 1.2+, verify_peer, the system trust store plus `ca_file` (PEM) if given.
/// Throws boost::system::system_error when ca_file cannot be loaded (a startup error).
std::shared_ptr<asio::ssl::context> make_client_tls_context(std::optional<std::string> ca_file = {});

/// Client context that trusts ONLY `ca_file` (tests, private CAs): no system trust store.
std::shared_ptr<asio::ssl::context> make_client_tls_context_only(const std::string& ca_file);

/// Server context: TLS 1.2+, TLS 1.2 limited to ECDHE + AEAD suites (TLS 1.3 suites are all AEAD),
/// certificate chain + private key from PEM files. Throws boost::system::system_error on a missing
/// or unreadable file or a key that does not match the certificate (startup error).
std::shared_ptr<asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                            const std::string& key_file);

/// Per-connection client set-up, before the handshake: SNI with the host name (not for IP
/// literals, RFC 6066 §3) and verification of the peer certificate against `host` (DNS name, or
/// IP address SAN for literals). Errors: the OpenSSL error as an error_code.
result<void> prepare_client_tls(SSL* ssl, const std::string& host);

}  // namespace kazoo_bridge::net
