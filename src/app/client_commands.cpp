// `kazoo-bridge client add|list|remove|rotate-secret` (design.md "Executables", docs/oauth.md).
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/app/application.hpp>
#include <kazoo_bridge/app/cli.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/oauth/service.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>

#include "app/cli_support.hpp"

namespace kazoo_bridge::app {
namespace {

std::vector<std::string> lines_of(const std::string& joined) {
  std::vector<std::string> out;
  std::istringstream in(joined);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string only_id(const cli_args& a, const char* sub) {
  if (a.positional.size() != 2) {
    throw std::invalid_argument(std::string("usage: kazoo-bridge client ") + sub + " --config FILE CLIENT_ID");
  }
  return a.positional[1];
}

}  // namespace

int run_client(const cli_args& a, std::ostream& out) {
  if (a.positional.empty()) {
    std::cerr << "kazoo-bridge: client needs a sub-command: add, list, remove or rotate-secret (try --help)\n";
    return 2;
  }
  const std::string sub = a.positional[0];
  if (sub != "add" && sub != "list" && sub != "remove" && sub != "rotate-secret") {
    std::cerr << "kazoo-bridge: unknown client sub-command '" << sub << "' (add, list, remove, rotate-secret)\n";
    return 2;
  }
  if ((sub == "add" || sub == "list") && a.positional.size() > 1) {
    std::cerr << "kazoo-bridge: unexpected argument '" << a.positional[1] << "'\n";
    return 2;
  }
  std::string id;
  try {
    if (sub == "remove" || sub == "rotate-secret") id = only_id(a, sub.c_str());
  } catch (const std::invalid_argument& x) {
    std::cerr << "kazoo-bridge: " << x.what() << "\n";
    return 2;
  }

  auto cfg = load_config_or_throw(a, config_scope::storage_only);
  std::string reason;
  auto opened = store::database::open(storage_options(cfg), reason);
  if (!opened) throw std::runtime_error(reason.empty() ? opened.error().message() : reason);
  auto& db = **opened;
  store::oauth_store st(db);

  if (sub == "add") {
    auto name = a.get("name");
    auto uris = lines_of(a.get("redirect-uri").value_or(""));
    if (!name || uris.empty()) {
      std::cerr << "kazoo-bridge: client add needs --name NAME and at least one --redirect-uri URI\n";
      return 2;
    }
    std::string problem;
    auto c = oauth::register_client(st, *name, uris, a.has("public"), !a.has("no-pkce"), problem);
    if (!c) {
      if (!problem.empty()) {
        std::cerr << "kazoo-bridge: " << problem << "\n";
        return 2;
      }
      throw std::runtime_error("could not store the client: " + c.error().message());
    }
    out << "client_id     " << c->client_id << "\n";
    if (c->client_secret) {
      out << "client_secret " << *c->client_secret << "\n"
          << "\nThe secret is shown only this once; it is stored hashed. Lost it? "
             "kazoo-bridge client rotate-secret "
          << c->client_id << "\n";
    } else {
      out << "(public client: no secret; PKCE is required)\n";
    }
    return 0;
  }
  if (sub == "list") {
    auto clients = st.clients();
    if (!clients) throw std::runtime_error("could not read clients: " + clients.error().message());
    if (a.has("json")) {
      for (const auto& c : *clients) {
        out << nlohmann::json{{"client_id", c.client_id},
                              {"name", c.name},
                              {"public", c.is_public},
                              {"pkce_required", c.pkce_required},
                              {"redirect_uris", c.redirect_uris},
                              {"created_at", format_iso8601(c.created_at_ms)}}
                   .dump()
            << "\n";
      }
      return 0;
    }
    if (clients->empty()) {
      out << "no OAuth clients (add one: kazoo-bridge client add --name NAME --redirect-uri URI)\n";
      return 0;
    }
    out << std::left << std::setw(34) << "CLIENT_ID" << std::setw(13) << "TYPE" << std::setw(6) << "PKCE"
        << "NAME / REDIRECT URIS\n";
    for (const auto& c : *clients) {
      out << std::setw(34) << c.client_id << std::setw(13) << (c.is_public ? "public" : "confidential")
          << std::setw(6) << (c.pkce_required ? "yes" : "no") << c.name << "\n";
      for (const auto& u : c.redirect_uris) out << std::setw(53) << "" << u << "\n";
    }
    return 0;
  }
  if (sub == "remove") {
    auto removed = st.remove_client(id);
    if (!removed) throw std::runtime_error("could not remove the client: " + removed.error().message());
    if (!*removed) {
      std::cerr << "kazoo-bridge: no client " << id << "\n";
      return 1;
    }
    out << "removed client " << id << " (its codes and tokens are revoked)\n";
    return 0;
  }
  auto secret = oauth::rotate_client_secret(st, id);
  if (!secret) {
    if (secret.error() == errc::not_found) {
      std::cerr << "kazoo-bridge: no confidential client " << id << "\n";
      return 1;
    }
    throw std::runtime_error("could not store the new secret: " + secret.error().message());
  }
  out << "client_id     " << id << "\nclient_secret " << *secret
      << "\n\nThe old secret no longer works. The new one is shown only this once.\n";
  return 0;
}

}  // namespace kazoo_bridge::app
