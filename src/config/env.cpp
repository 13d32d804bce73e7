#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <system_error>
#include <variant>

#include "config/load_state.hpp"

extern char** environ;  // POSIX; not declared by any standard header

namespace kazoo_bridge::config {

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry{*e};
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string{entry.substr(0, eq)}, std::string{entry.substr(eq + 1)});
  }
  return env;
}

namespace detail {
namespace {

std::string lower(std::string_view s) {
  std::string out;
  for (char ch : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "got \"abc\"", or nothing for a secret: a typo'd value may still be the secret itself.
std::string got(const key_info& k, std::string_view value) {
  if (k.secret) return "";
  return ", got \"" + std::string{value} + "\"";
}

void set_integer(load_state& st, const key_info& k, const std::string& var, std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    st.out.problems.push_back({var, "expected an integer for " + k.path() + got(k, text)});
    st.failed_keys.insert(k.path());
    return;
  }
  if (ec == std::errc::result_out_of_range ||
      (k.type == key_type::duration_s && (v > std::numeric_limits<std::int64_t>::max() / 1000 ||
                                          v < std::numeric_limits<std::int64_t>::min() / 1000))) {
    st.out.problems.push_back({var, "value for " + k.path() + " is out of range" + got(k, text)});
    st.failed_keys.insert(k.path());
    return;
  }
  auto ref = k.field(st.out.cfg);
  if (auto* size = std::get_if<std::size_t*>(&ref)) {
    if (v < 0) {
      st.out.problems.push_back(
          {var, "value for " + k.path() + " must not be negative" + got(k, text)});
      st.failed_keys.insert(k.path());
      return;
    }
    **size = static_cast<std::size_t>(v);
  } else {
    *std::get<std::chrono::milliseconds*>(ref) =
        std::chrono::milliseconds{k.type == key_type::duration_s ? v * 1000 : v};
  }
  st.set_keys.insert(k.path());
  st.env_origin[k.path()] = var;
}

void apply_one(load_state& st, const key_info& k, const std::string& var, const std::string& text) {
  auto ref = k.field(st.out.cfg);
  switch (k.type) {
    case key_type::string:
      *std::get<std::string*>(ref) = text;
      break;
    case key_type::optional_string:
      // Empty means "unset", so an override can switch off a file's TLS or CA setting.
      if (text.empty()) {
        std::get<std::optional<std::string>*>(ref)->reset();
      } else {
        *std::get<std::optional<std::string>*>(ref) = text;
      }
      break;
    case key_type::boolean: {
      auto b = parse_env_bool(text);
      if (!b) {
        st.out.problems.push_back(
            {var, "expected true, false, 1 or 0 for " + k.path() + got(k, text)});
        st.failed_keys.insert(k.path());
        return;
      }
      *std::get<bool*>(ref) = *b;
      break;
    }
    case key_type::size:
    case key_type::duration_ms:
    case key_type::duration_s:
      set_integer(st, k, var, text);
      return;
    case key_type::string_list:
      *std::get<std::vector<std::string>*>(ref) = split_env_list(text);
      break;
  }
  st.set_keys.insert(k.path());
  st.env_origin[k.path()] = var;
}

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 5) + 1;
  for (const auto& c : candidates) {
    auto d = edit_distance(lower(word), lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::optional<bool> parse_env_bool(std::string_view text) {
  auto t = lower(text);
  if (t == "true" || t == "1") return true;
  if (t == "false" || t == "0") return false;
  return std::nullopt;
}

std::vector<std::string> split_env_list(std::string_view text) {
  std::vector<std::string> items;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

void apply_environment(load_state& st, const std::map<std::string, std::string>& env) {
  std::vector<std::string> known;
  for (const auto& k : keys()) known.push_back(k.env_var());
  known.emplace_back(env_config_file);

  // std::map iterates in name order, so problems come out in a stable order.
  for (const auto& [var, value] : env) {
    if (!var.starts_with(env_prefix) || var == env_config_file) continue;
    auto k = std::find_if(keys().begin(), keys().end(),
                          [&](const key_info& ki) { return ki.env_var() == var; });
    if (k == keys().end()) {
      // The value is not shown: a misspelt KAZOO_BRIDGE_KAZOO_APIKEY holds a secret.
      std::string msg = "unknown variable";
      if (auto s = did_you_mean(var, known)) msg += " (did you mean " + *s + "?)";
      st.out.problems.push_back({var, msg});
      continue;
    }
    apply_one(st, *k, var, value);
  }
}

}  // namespace detail
}  // namespace kazoo_bridge::config
