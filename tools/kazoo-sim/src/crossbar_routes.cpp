// The /v2 Crossbar subset (reference/kazoo.md §5). Every route answers with the §5.1 envelope.
#include <algorithm>
#include <charconv>
#include <boost/asio/steady_timer.hpp>

#include <kazoo_bridge/common/time.hpp>

#include "api_server.hpp"
#include "envelope.hpp"
#include "text_util.hpp"

namespace kazoo_sim {
namespace {

using kazoo_bridge::awaitable;
using kazoo_bridge::use_nothrow;
using nlohmann::json;

/// crossbar.maximum_range: 31 days + 1 hour (§5.6)
constexpr std::int64_t max_cdr_range_s = 2682000;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(url_decode(path.substr(start, slash - start), false));
    start = slash + 1;
  }
  return out;
}

const json* raw_account(const json& doc, const std::string& id) {
  if (!doc.contains("accounts")) return nullptr;
  for (const auto& a : doc["accounts"]) {
    if (a.value("id", "") == id) return &a;
  }
  return nullptr;
}

const json* raw_item(const json* account, const char* list, const std::string& id) {
  if (account == nullptr || !account->contains(list)) return nullptr;
  for (const auto& x : (*account)[list]) {
    if (x.value("id", "") == id) return &x;
  }
  return nullptr;
}

json user_row(const user& u) {
  return json{{"id", u.id},
              {"username", u.username},
              {"email", u.email},
              {"first_name", u.first_name},
              {"last_name", u.last_name},
              {"priv_level", u.priv_level},
              {"feature_level", ""},
              {"presence_id", u.presence_id},
              {"timezone", "America/Los_Angeles"},
              {"call_recording", json::object()},
              {"service", json::object()},
              {"flags", json::array()},
              {"features", json::array({"caller_id"})}};
}

json user_doc(const user& u, const json* raw) {
  json d = user_row(u);
  d["enabled"] = true;
  d["caller_id"] = json{{"internal", {{"number", u.extension}, {"name", u.first_name + " " + u.last_name}}}};
  if (raw != nullptr) {
    for (const auto& [k, v] : raw->items()) {
      if (k != "password") d[k] = v;  // never hand out the fixture's clear-text password
    }
  }
  return d;
}

json device_row(const device& d) {
  return json{{"id", d.id},
              {"name", d.name},
              {"username", d.sip_username},
              {"mac_address", ""},
              {"owner_id", d.owner_id},
              {"enabled", true},
              {"device_type", "sip_device"},
              {"mobile", json::object()},
              {"call_recording", json::object()},
              {"flags", json::array()}};
}

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// cb_quickcall number_filter default: strip " ,.-()" (§5.4)
std::string filter_number(const std::string& n) {
  std::string out;
  for (char c : n) {
    if (c != ' ' && c != ',' && c != '.' && c != '-' && c != '(' && c != ')') out.push_back(c);
  }
  return out;
}

// Click-to-call contacts are E.164-normalised (knm_converters, NANP default).
std::string to_e164(const std::string& n) {
  std::string digits;
  for (char c : n) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (!n.empty() && n[0] == '+') return "+" + digits;
  if (digits.size() == 10) return "+1" + digits;
  if (digits.size() == 11 && digits[0] == '1') return "+" + digits;
  return digits.empty() ? std::string() : "+" + digits;
}

}  // namespace

awaitable<http_response> api_server::handle_v2(const http_request& req, std::string path,
                                               std::map<std::string, std::string> query) {
  envelope_meta m;
  m.node = node_;
  auto rid = req.find("X-Request-ID");
  m.request_id = rid != req.end() ? std::string(rid->value()) : random_hex(rng_, 32);
  const auto now_ms = kazoo_bridge::now_unix_ms();
  auto seg = split_path(path);  // seg[0] == "v2"
  auto verb = req.method();
  auto body = json::parse(req.body().empty() ? std::string("{}") : req.body(), nullptr, false);
  json data = body.is_object() && body.contains("data") && body["data"].is_object() ? body["data"]
                                                                                    : json::object();
  auto error = [&](http::status st, const std::string& msg, json d) {
    return crossbar_error(req, m, st, msg, std::move(d));
  };
  auto not_found = [&](const std::string& id) {
    return error(http::status::not_found, "bad_identifier",
                 json{{"message", "bad identifier"}, {"cause", id}});
  };
  auto invalid_credentials = [&] {
    return error(http::status::unauthorized, "invalid_credentials",
                 json{{"message", "invalid credentials"}});
  };
  if (!body.is_object() && !req.body().empty()) {
    co_return error(http::status::bad_request, "invalid request",
                    json{{"message", "invalid request"}});
  }

  // ---- authentication endpoints (§5.2)
  if (seg.size() == 2 && seg[1] == "api_auth") {
    if (verb != http::verb::put) {
      co_return error(http::status::method_not_allowed, "invalid_method", json{{"message", "invalid method"}});
    }
    auto key = data.value("api_key", "");
    for (const auto& a : ctx_.fx->accounts) {
      if (!key.empty() && a.api_key == key) {
        m.auth_token = ctx_.tokens->issue(a.id, "", "cb_api_auth", now_ms / 1000);
        co_return crossbar_success(
            req, m,
            json{{"account_id", a.id}, {"account_name", a.name}, {"apps", json::array()},
                 {"language", "en-us"}, {"is_reseller", false}, {"is_master_account", false},
                 {"reseller_id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}},
            http::status::created);
      }
    }
    // Unknown key: 404 bad identifier (cb_api_auth looks the key up in a view). The key itself is
    // a secret and is not echoed.
    co_return error(http::status::not_found, "bad_identifier", json{{"message", "bad identifier"}});
  }
  if (seg.size() == 2 && seg[1] == "user_auth") {
    if (verb != http::verb::put) {
      co_return error(http::status::method_not_allowed, "invalid_method", json{{"message", "invalid method"}});
    }
    auto credentials = data.value("credentials", "");
    if (credentials.empty()) {
      co_return error(http::status::bad_request, "validation error",
                      json{{"credentials", {{"required", {{"message", "Field is required but missing"}}}}}});
    }
    const account* acct = nullptr;
    std::string field, value;
    for (const char* k : {"account_name", "account_realm", "phone_number"}) {
      if (data.contains(k) && data[k].is_string()) {
        field = k;
        value = data[k].get<std::string>();
        break;
      }
    }
    if (field.empty()) {
      co_return error(http::status::bad_request, "validation error",
                      json{{"account_name", {{"required", {{"message", "Field is required but missing"}}}}}});
    }
    for (const auto& a : ctx_.fx->accounts) {
      bool hit = false;
      if (field == "account_name") hit = a.name == value;
      if (field == "account_realm") hit = a.realm == value;
      if (field == "phone_number") {
        hit = std::find(a.numbers.begin(), a.numbers.end(), value) != a.numbers.end();
      }
      if (hit) acct = &a;
    }
    if (acct == nullptr) {
      co_return error(http::status::bad_request, "validation error",
                      json{{field, {{"not_found", {{"message", "The provided account could not be found"},
                                                   {"cause", value}}}}}});
    }
    auto method = data.value("method", "md5");
    for (const auto& u : acct->users) {
      std::string plain = u.username + ":" + u.password;  // usernames are lower-case (§5.2)
      auto expected = method == "sha" ? sha1_hex(plain) : md5_hex(plain);
      if (expected == credentials) {
        m.auth_token = ctx_.tokens->issue(acct->id, u.id, "cb_user_auth", now_ms / 1000);
        co_return crossbar_success(
            req, m,
            json{{"account_id", acct->id}, {"owner_id", u.id}, {"account_name", acct->name},
                 {"apps", json::array()}, {"language", "en-us"}, {"is_reseller", false},
                 {"is_master_account", false}, {"reseller_id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
                 {"ui_config", {{"api", {{"kazoo_websocket", {{"url", ctx_.ws_url}}}}}}}},
            http::status::created);
      }
    }
    co_return invalid_credentials();
  }

  // ---- everything else needs a token: X-Auth-Token, Authorization: Bearer, or ?auth_token=
  std::string token;
  if (auto it = req.find("X-Auth-Token"); it != req.end()) token = std::string(it->value());
  if (auto it = req.find(http::field::authorization); token.empty() && it != req.end()) {
    std::string v(it->value());
    if (v.rfind("Bearer ", 0) == 0) token = v.substr(7);
  }
  if (token.empty() && query.count("auth_token")) token = query["auth_token"];
  const token_info* info = token.empty() ? nullptr : ctx_.tokens->validate(token, now_ms / 1000);

  if (seg.size() == 2 && seg[1] == "token_auth" && verb == http::verb::get) {
    if (info == nullptr) co_return invalid_credentials();
    m.auth_token = token;
    co_return crossbar_success(req, m,
                               json{{"account_id", info->account_id},
                                    {"owner_id", info->owner_id},
                                    {"method", info->method},
                                    {"exp", info->exp_s}});
  }
  if (seg.size() == 2 && seg[1] == "websockets" && verb == http::verb::get) {
    json calls = json::array();
    for (auto ev : call_event_names) calls.push_back("call." + std::string(ev) + ".{CALL_ID}");
    co_return crossbar_success(req, m, json{{"call", calls}});
  }
  if (seg.size() < 3 || seg[1] != "accounts") co_return not_found(path);
  if (info == nullptr) co_return invalid_credentials();
  m.auth_token = token;
  const auto& account_id = seg[2];
  // cb_simple_authz: only the token's account (or descendants; the fixture has none).
  if (account_id != info->account_id) {
    co_return error(http::status::forbidden, "forbidden", json{{"message", "forbidden"}});
  }
  const account* acct = ctx_.fx->find_account(account_id);
  if (acct == nullptr) co_return not_found(account_id);
  const auto* raw_acct = raw_account(ctx_.fixture_doc, account_id);
  std::vector<std::string> rest(seg.begin() + 3, seg.end());
  auto find_user = [&](const std::string& id) -> const user* {
    for (const auto& u : acct->users) {
      if (u.id == id) return &u;
    }
    return nullptr;
  };
  auto find_device = [&](const std::string& id) -> const device* {
    for (const auto& d : acct->devices) {
      if (d.id == id) return &d;
    }
    return nullptr;
  };
  auto listing = [&](json rows) {
    auto n = rows.size();
    return crossbar_success(req, m, std::move(rows), http::status::ok, json{{"page_size", n}});
  };

  // ---- quickcall (§5.4): GET = fire and forget (202), POST = wait for the originate result
  bool is_quickcall = rest.size() == 4 && rest[2] == "quickcall" &&
                      (rest[0] == "users" || rest[0] == "devices");
  if (is_quickcall && (verb == http::verb::get || verb == http::verb::post)) {
    std::vector<const device*> endpoints;
    const user* owner = nullptr;
    if (rest[0] == "users") {
      owner = find_user(rest[1]);
      if (owner == nullptr) co_return not_found(rest[1]);
      for (const auto& d : acct->devices) {
        if (d.owner_id == owner->id) endpoints.push_back(&d);
      }
    } else {
      const auto* d = find_device(rest[1]);
      if (d == nullptr) co_return not_found(rest[1]);
      endpoints.push_back(d);
      owner = find_user(d->owner_id);
    }
    if (endpoints.empty() || owner == nullptr) {
      co_return error(http::status::internal_server_error, "unspecified_fault",
                      json{{"message", "unspecified_fault"}});
    }
    // Injected refusal (/sim/fault kind quickcall): the Crossbar error each status stands for (§5.1, §5.4).
    if (quickcall_fault_status_ != 0) {
      auto st = static_cast<http::status>(quickcall_fault_status_);
      switch (quickcall_fault_status_) {
        case 403: co_return error(st, "forbidden", json{{"message", "forbidden"}});
        case 429: co_return error(st, "too_many_requests", json{{"message", "too many requests"}});
        case 500:
          co_return error(st, "quickcall initiation failed",
                          json{{"message", "quickcall initiation failed"}, {"error_message", "DESTINATION_OUT_OF_ORDER"}});
        case 503: co_return error(st, "datastore_fault", json{{"message", "datastore_fault"}});
        default: co_return error(st, "error", json{{"message", "injected fault"}});
      }
    }
    // timeout must be more than 3 s (cb_quickcall validation, §5.4).
    std::int64_t timeout_s = 30;
    if (query.count("timeout")) {
      auto v = to_int(query["timeout"]);
      if (!v || *v <= 3) {
        co_return error(http::status::bad_request, "validation error",
                        json{{"timeout", {{"minimum", {{"message", "timeout must be an integer greater than 3"}}}}}});
      }
      timeout_s = *v;
    }
    // auto_answer (default true) only applies when exactly one endpoint rings (§5.4).
    const bool auto_answer = !(query.count("auto_answer") && query["auto_answer"] == "false") && endpoints.size() == 1;
    auto number = filter_number(rest[3]);
    play_request r;
    r.scenario = "quickcall";
    r.account_id = account_id;
    r.vars = {{"number", number}, {"auto_answer", auto_answer ? "true" : "false"}};
    r.as_user = owner->username;
    if (query.count("speed")) r.speed = std::max(0.001, std::atof(query["speed"].c_str()));
    auto played = ctx_.p->play(r);
    if (!played) {
      co_return error(http::status::internal_server_error, "quickcall initiation failed",
                      json{{"message", "quickcall initiation failed"}, {"error_message", "NO_SCENARIO"}});
    }
    json eps = json::array();
    for (const auto* d : endpoints) {
      eps.push_back(json{{"Endpoint-Type", "device"}, {"Invite-Format", "username"},
                         {"To-User", d->sip_username}, {"To-Realm", acct->realm}});
    }
    json originate = {{"Application-Name", "transfer"},
                      {"Application-Data", {{"Route", number}}},
                      {"Endpoints", eps},
                      {"Outbound-Call-ID", played->call_ids.empty() ? "" : played->call_ids.front()},
                      {"Outbound-Caller-ID-Name", "Device QuickCall"},
                      {"Outbound-Caller-ID-Number", number},
                      {"Timeout", timeout_s},
                      {"Ignore-Early-Media", true},
                      {"Media", "process"},
                      {"Msg-ID", random_hex(rng_, 32)}};
    if (verb == http::verb::post && played->first_answer_unix_ms > 0) {
      asio::steady_timer t(acceptor_.get_executor());
      auto wait = std::min<std::int64_t>(played->first_answer_unix_ms - kazoo_bridge::now_unix_ms(), 30000);
      t.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(wait, 0)));
      co_await t.async_wait(use_nothrow);
    }
    co_return crossbar_success(req, m, originate, http::status::accepted);
  }

  // ---- click-to-call connect (§5.5)
  if (rest.size() == 3 && rest[0] == "clicktocall" && rest[2] == "connect" &&
      (verb == http::verb::get || verb == http::verb::post)) {
    auto contact = query.count("contact") ? query["contact"] : data.value("contact", "");
    contact = to_e164(contact);
    if (contact.empty()) {
      co_return error(http::status::bad_request, "validation error",
                      json{{"contact", {{"required", {{"message", "Field is required but missing"}}}}}});
    }
    play_request r;
    r.scenario = "click_to_call";
    r.account_id = account_id;
    r.vars = {{"number", contact}, {"c2c_id", rest[1]}};
    if (query.count("speed")) r.speed = std::max(0.001, std::atof(query["speed"].c_str()));
    auto played = ctx_.p->play(r);
    if (!played) co_return not_found(rest[1]);
    co_return crossbar_success(
        req, m,
        json{{"Application-Name", "transfer"},
             {"Application-Data", {{"Route", contact}}},
             {"Outbound-Call-ID", played->call_ids.empty() ? "" : played->call_ids.front()},
             {"Loopback-Request-URI", contact + "@" + acct->realm},
             {"Msg-ID", random_hex(rng_, 32)}},
        http::status::accepted);
  }

  if (verb != http::verb::get) {
    co_return error(http::status::method_not_allowed, "invalid_method", json{{"message", "invalid method"}});
  }

  if (rest.empty()) {
    co_return crossbar_success(req, m, json{{"id", acct->id}, {"name", acct->name}, {"realm", acct->realm}});
  }
  if (rest.size() == 1 && rest[0] == "users") {
    json rows = json::array();
    for (const auto& u : acct->users) rows.push_back(user_row(u));
    co_return listing(std::move(rows));
  }
  if (rest.size() == 2 && rest[0] == "users") {
    const auto* u = find_user(rest[1]);
    if (u == nullptr) co_return not_found(rest[1]);
    co_return crossbar_success(req, m, user_doc(*u, raw_item(raw_acct, "users", u->id)));
  }
  if (rest.size() == 3 && rest[0] == "users" && rest[2] == "devices") {
    if (find_user(rest[1]) == nullptr) co_return not_found(rest[1]);
    json rows = json::array();
    for (const auto& d : acct->devices) {
      if (d.owner_id == rest[1]) rows.push_back(device_row(d));
    }
    co_return listing(std::move(rows));
  }
  if (rest.size() == 1 && rest[0] == "devices") {
    json rows = json::array();
    for (const auto& d : acct->devices) rows.push_back(device_row(d));
    co_return listing(std::move(rows));
  }
  if (rest.size() == 2 && rest[0] == "devices") {
    const auto* d = find_device(rest[1]);
    if (d == nullptr) co_return not_found(rest[1]);
    auto doc = device_row(*d);
    doc["sip"] = json{{"username", d->sip_username}, {"realm", acct->realm}};
    co_return crossbar_success(req, m, doc);
  }
  if (rest.size() == 1 && rest[0] == "channels") {
    co_return crossbar_success(req, m, ctx_.calls->channels(account_id));
  }
  bool user_cdrs = rest.size() == 3 && rest[0] == "users" && rest[2] == "cdrs";
  if ((rest.size() == 1 && rest[0] == "cdrs") || user_cdrs) {
    cdr_query q;
    if (user_cdrs) q.owner_id = rest[1];
    auto now_g = kazoo_bridge::unix_to_gregorian_s(now_ms / 1000);
    q.created_to_g = now_g;
    if (query.count("created_to")) {
      auto v = to_int(query["created_to"]);
      if (!v) {
        co_return error(http::status::bad_request, "validation error",
                        json{{"created_to", {{"type", {{"message", "created_to must be an integer"}}}}}});
      }
      q.created_to_g = *v;
    }
    q.created_from_g = q.created_to_g - max_cdr_range_s;
    if (query.count("created_from")) {
      auto v = to_int(query["created_from"]);
      if (!v) {
        co_return error(http::status::bad_request, "validation error",
                        json{{"created_from", {{"type", {{"message", "created_from must be an integer"}}}}}});
      }
      q.created_from_g = *v;
    }
    auto range_error = [&](const std::string& msg) {
      return error(http::status::bad_request, "validation error",
                   json{{"created_from", {{"date_range", {{"message", msg}, {"cause", q.created_from_g}}}}}});
    };
    if (q.created_to_g < q.created_from_g) {
      co_return range_error("created_to " + std::to_string(q.created_to_g) + " is prior to created_from " +
                            std::to_string(q.created_from_g));
    }
    if (q.created_to_g - q.created_from_g > max_cdr_range_s) {
      co_return range_error("created_to " + std::to_string(q.created_to_g) + " is more than " +
                            std::to_string(max_cdr_range_s) + " seconds from created_from " +
                            std::to_string(q.created_from_g));
    }
    q.ascending = query.count("ascending") && query["ascending"] == "true";
    if (query.count("page_size")) {
      auto v = to_int(query["page_size"]);
      if (!v || *v < 1) {
        co_return error(http::status::bad_request, "validation error",
                        json{{"page_size", {{"minimum", {{"message", "page_size must be a positive integer"}}}}}});
      }
      q.page_size = static_cast<std::size_t>(*v);
    }
    if (query.count("paginate") && query["paginate"] == "false") q.page_size = SIZE_MAX / 2;
    if (query.count("start_key")) q.start_key = query["start_key"];
    auto page = ctx_.calls->cdrs(account_id, q);
    json extra = {{"page_size", page.rows.size()}};
    if (!q.start_key.empty()) extra["start_key"] = q.start_key;
    if (!page.next_start_key.empty()) extra["next_start_key"] = page.next_start_key;
    co_return crossbar_success(req, m, json(std::move(page.rows)), http::status::ok, extra);
  }
  co_return not_found(path);
}

}  // namespace kazoo_sim
