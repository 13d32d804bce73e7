#include "deliveries.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <sqlite3.h>

#include <array>
#include <cstdlib>
#include <iostream>
#include <unordered_map>
#include <utility>

namespace hook_ceiling {

namespace {

struct url_parts {
  std::string authority, path;
};

bool split_url(std::string_view url, url_parts& out) {
  if (!url.starts_with("http://")) return false;
  url.remove_prefix(7);
  const auto slash = url.find('/');
  out.authority = std::string(url.substr(0, slash));
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  return !out.authority.empty();
}

std::string text(sqlite3_stmt* st, int col) {
  const auto* p = sqlite3_column_text(st, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p),
                                                    static_cast<std::size_t>(sqlite3_column_bytes(st, col)));
}

}  // namespace

void die(const std::string& why) {
  std::cerr << "hook_ceiling: " << why << '\n';
  std::exit(2);
}

// base64 of the part after "whsec_"; EVP_DecodeBlock counts padding as zero bytes, so drop one per '='.
bool signing_key(std::string_view secret, std::string& key) {
  if (secret.starts_with("whsec_")) secret.remove_prefix(6);
  if (secret.empty() || secret.size() % 4 != 0) return false;
  key.assign(3 * (secret.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  if (n < 0) return false;
  auto len = static_cast<std::size_t>(n);
  for (std::size_t i = secret.size(); i > 0 && secret[i - 1] == '=' && len > 0; --i) --len;
  key.resize(len);
  return !key.empty();
}

signer::signer(EVP_MAC* mac) : ctx_(EVP_MAC_CTX_new(mac)) {
  char digest[] = "SHA256";
  const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                         OSSL_PARAM_construct_end()};
  if (!ctx_ || EVP_MAC_CTX_set_params(ctx_.get(), params.data()) != 1) die("HMAC-SHA256 unavailable");
}

std::size_t signer::sign(std::string_view key, std::string_view id, std::string_view ts, std::string_view body,
                         char* out) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  auto feed = [this](std::string_view part) {
    return EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  };
  // Signed content (Standard Webhooks "Signature scheme"): id "." timestamp "." body, the bytes sent.
  if (EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr) != 1 ||
      !feed(id) || !feed(".") || !feed(ts) || !feed(".") || !feed(body) ||
      EVP_MAC_final(ctx_.get(), mac.data(), &mac_len, mac.size()) != 1) {
    die("HMAC failed");
  }
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), mac.data(), static_cast<int>(mac_len));
  return static_cast<std::size_t>(n);
}

loaded load(const std::string& path, long limit) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    die("cannot open " + path + ": " + why);
  }
  sqlite3_stmt* st = nullptr;
  const char* sql =
      "SELECT h.target_url, h.secret, e.id, e.payload FROM outbox o "
      "JOIN hooks h ON h.id = substr(o.destination, 6) JOIN call_events e ON e.id = o.event_id "
      "WHERE o.destination LIKE 'hook:%' ORDER BY o.id LIMIT ?";
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) die(std::string("query: ") + sqlite3_errmsg(db));
  sqlite3_bind_int64(st, 1, limit);
  loaded out;
  std::unordered_map<std::string, std::string_view> body_of;  // event id -> its payload in out.bodies
  std::size_t skipped = 0, bad_secret = 0;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    url_parts u;
    if (!split_url(text(st, 0), u) || !u.path.starts_with("/ok/")) {
      ++skipped;  // only the healthy sink is measured
      continue;
    }
    row r;
    if (!signing_key(text(st, 1), r.key)) {
      ++bad_secret;
      continue;
    }
    r.id = text(st, 2);
    auto [it, fresh] = body_of.try_emplace(r.id);
    if (fresh) it->second = out.bodies.emplace_back(text(st, 3));
    r.body = it->second;
    r.head = "POST " + u.path + " HTTP/1.1\r\nHost: " + u.authority +
             "\r\nUser-Agent: hook_ceiling\r\nContent-Type: application/json\r\nwebhook-id: " + r.id +
             "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
    out.rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) die(std::string("query: ") + sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  if (skipped + bad_secret > 0) {
    std::cerr << "hook_ceiling: skipped " << skipped << " rows not aimed at /ok/, " << bad_secret
              << " with an unusable secret\n";
  }
  if (out.rows.empty()) die("no deliveries to an /ok/ path in " + path);
  return out;
}

}  // namespace hook_ceiling
