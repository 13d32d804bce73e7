// Loading the simulator fixture and scenario files (format: tools/kazoo-sim/scenarios/README.md).

#include <kazoo_sim/scenario.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kazoo_sim {
namespace {

// json converts from almost anything, so the error alternative is built explicitly.
kazoo_bridge::result<nlohmann::json> json_error() {
  return {boost::system::in_place_error, make_error_code(kazoo_bridge::errc::bad_payload)};
}

kazoo_bridge::result<nlohmann::json> read_json(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return json_error();
  std::ostringstream buf;
  buf << in.rdbuf();
  auto doc = nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return json_error();
  return doc;
}

std::string str(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

user user_from(const nlohmann::json& u) {
  user out;
  out.id = str(u, "id");
  out.username = str(u, "username");
  out.password = str(u, "password");
  out.first_name = str(u, "first_name");
  out.last_name = str(u, "last_name");
  out.email = str(u, "email");
  out.priv_level = str(u, "priv_level");
  out.presence_id = str(u, "presence_id");
  // The extension is what the user's phone shows as internal caller id (caller_id.internal.number).
  if (auto cid = u.find("caller_id"); cid != u.end() && cid->is_object()) {
    if (auto in = cid->find("internal"); in != cid->end() && in->is_object()) out.extension = str(*in, "number");
  }
  out.acdc_agent = u.value("acdc_agent", false);
  return out;
}

device device_from(const nlohmann::json& d) {
  device out;
  out.id = str(d, "id");
  out.name = str(d, "name");
  out.owner_id = str(d, "owner_id");
  if (auto sip = d.find("sip"); sip != d.end() && sip->is_object()) out.sip_username = str(*sip, "username");
  return out;
}

}  // namespace

const user* account::find_user(std::string_view username) const {
  auto it = std::find_if(users.begin(), users.end(), [&](const user& u) { return u.username == username; });
  return it == users.end() ? nullptr : &*it;
}

const user* account::find_user_by_id(std::string_view user_id) const {
  auto it = std::find_if(users.begin(), users.end(), [&](const user& u) { return u.id == user_id; });
  return it == users.end() ? nullptr : &*it;
}

const device* account::first_device_of(std::string_view user_id) const {
  auto it = std::find_if(devices.begin(), devices.end(), [&](const device& d) { return d.owner_id == user_id; });
  return it == devices.end() ? nullptr : &*it;
}

const account* fixture::find_account(std::string_view id) const {
  auto it = std::find_if(accounts.begin(), accounts.end(), [&](const account& a) { return a.id == id; });
  return it == accounts.end() ? nullptr : &*it;
}

const account* fixture::find_account_by_name(std::string_view name) const {
  auto it = std::find_if(accounts.begin(), accounts.end(), [&](const account& a) { return a.name == name; });
  return it == accounts.end() ? nullptr : &*it;
}

const account* fixture::find_account_by_api_key(std::string_view key) const {
  auto it = std::find_if(accounts.begin(), accounts.end(), [&](const account& a) { return a.api_key == key; });
  return it == accounts.end() ? nullptr : &*it;
}

kazoo_bridge::result<fixture> load_fixture(const std::filesystem::path& file) {
  auto doc = read_json(file);
  if (!doc) return doc.error();
  auto accounts = doc->find("accounts");
  if (accounts == doc->end() || !accounts->is_array()) return kazoo_bridge::errc::bad_payload;
  fixture f;
  for (const auto& a : *accounts) {
    if (!a.is_object()) return kazoo_bridge::errc::bad_payload;
    account acc;
    acc.id = str(a, "id");
    acc.name = str(a, "name");
    acc.realm = str(a, "realm");
    acc.api_key = str(a, "api_key");
    if (acc.id.empty() || acc.realm.empty()) return kazoo_bridge::errc::bad_payload;
    for (const auto& u : a.value("users", nlohmann::json::array())) acc.users.push_back(user_from(u));
    for (const auto& d : a.value("devices", nlohmann::json::array())) acc.devices.push_back(device_from(d));
    for (const auto& n : a.value("numbers", nlohmann::json::array())) {
      if (n.is_string()) acc.numbers.push_back(n.get<std::string>());
    }
    f.accounts.push_back(std::move(acc));
  }
  return f;
}

kazoo_bridge::result<scenario> load_scenario(const std::filesystem::path& file) {
  auto doc = read_json(file);
  if (!doc) return doc.error();
  scenario s;
  s.name = str(*doc, "name");
  s.description = str(*doc, "description");
  auto legs = doc->find("legs");
  auto events = doc->find("events");
  if (s.name.empty() || legs == doc->end() || !legs->is_object() || events == doc->end() || !events->is_array()) {
    return kazoo_bridge::errc::bad_payload;
  }
  for (const auto& e : *events) {
    if (!e.is_object() || !e.contains("leg") || !e["leg"].is_string() || !e.contains("name") ||
        !e["name"].is_string() || !e.contains("at_ms") || !e["at_ms"].is_number_integer() ||
        !legs->contains(e["leg"].get<std::string>())) {
      return kazoo_bridge::errc::bad_payload;
    }
  }
  s.doc = std::move(*doc);
  return s;
}

kazoo_bridge::result<std::vector<scenario>> load_scenarios(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return kazoo_bridge::errc::not_found;
  std::vector<scenario> out;
  for (const auto& f : files) {
    auto s = load_scenario(f);
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  std::sort(out.begin(), out.end(), [](const scenario& a, const scenario& b) { return a.name < b.name; });
  return out;
}

}  // namespace kazoo_sim
