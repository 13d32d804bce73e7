// hook_ceiling's inputs, apart from the network loop: the deliveries a daemon run made (read from a
// copy of its database) and the Standard Webhooks signature, with SQLite and OpenSSL only.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hook_ceiling {

/// Prints "hook_ceiling: <why>" to stderr and exits with status 2.
[[noreturn]] void die(const std::string& why);

/// Decodes a hook secret into its HMAC key: base64 of the part after "whsec_" (Standard Webhooks).
bool signing_key(std::string_view secret, std::string& key);

struct mac_free {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

/// One HMAC-SHA256 context per connection, re-keyed per request (EVP_MAC_init with the row's key): no
/// allocation per signature and no concatenated "id.ts.body" copy (the parts are fed in turn).
class signer {
 public:
  /// `mac` is EVP_MAC_fetch(nullptr, "HMAC", nullptr), shared; exits if SHA-256 is unavailable.
  explicit signer(EVP_MAC* mac);

  /// base64(HMAC-SHA256(key, id "." ts "." body)) into `out` (at least 45 bytes); returns its length.
  std::size_t sign(std::string_view key, std::string_view id, std::string_view ts, std::string_view body,
                   char* out);

 private:
  std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx_;
};

/// One delivery to replay.
struct row {
  std::string head;  // request line + fixed headers, each ending in CRLF; no timestamp/signature yet
  std::string id, key;
  std::string_view body;  // into loaded::bodies
};

/// Every hook subscribed to an event gets the same payload: one copy per event, not per outbox row
/// (1,000 hooks x 200 events would otherwise hold 200,000 copies of ~2.3 KB).
struct loaded {
  std::deque<std::string> bodies;  // a deque: growing or moving it never moves the strings rows point into
  std::vector<row> rows;
};

/// The first `limit` hook deliveries (outbox order) of the database at `path`, opened read-only, keeping
/// only those aimed at an /ok/ path. Exits if the database is unusable or no row is left.
loaded load(const std::string& path, long limit);

}  // namespace hook_ceiling
