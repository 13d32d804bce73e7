#pragma once
// Private to the config module: the state load_file()/load_string() build up, shared by the TOML
// pass (load.cpp) and the environment pass (env.cpp).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <kazoo_bridge/config/config.hpp>
#include <kazoo_bridge/config/keys.hpp>

namespace kazoo_bridge::config::detail {

struct load_state {
  load_result out;
  std::set<std::string> set_keys;                 ///< key paths given a value (file or env)
  std::set<std::string> failed_keys;              ///< key paths whose given value was rejected
  std::map<std::string, std::string> env_origin;  ///< key path -> variable that set it
};

/// Applies every KAZOO_BRIDGE_* variable of `env` over st.out.cfg (design.md "Configuration").
void apply_environment(load_state& st, const std::map<std::string, std::string>& env);

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

/// "true"/"false" for a value parsed from an environment variable; nullopt if it is neither.
std::optional<bool> parse_env_bool(std::string_view text);

/// Items of a comma-separated list, trimmed, empty items dropped.
std::vector<std::string> split_env_list(std::string_view text);

}  // namespace kazoo_bridge::config::detail
