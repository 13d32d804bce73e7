#pragma once
// Shared by the command implementations: where the config file is, and loading it with a scope.

#include <optional>
#include <string>

#include <kazoo_bridge/app/cli.hpp>
#include <kazoo_bridge/config/config.hpp>

namespace kazoo_bridge::app {

/// --config, else $KAZOO_BRIDGE_CONFIG, else /etc/kazoo-bridge/kazoo-bridge.toml.
std::string config_path(const cli_args& a);

/// What a command needs of the configuration. Read-only commands (calls, events, migrate) only need
/// [storage]: an operator runs them from a shell without the daemon's secret environment (the API key
/// usually lives in the systemd EnvironmentFile), so problems elsewhere do not stop them.
enum class config_scope { full, storage_only };

std::string problem_line(const std::string& path, const config::problem& p);

/// Loads and validates; on problems prints each one ("key.path: message") to stderr and throws.
config::config load_config_or_throw(const cli_args& a, config_scope scope);

}  // namespace kazoo_bridge::app
