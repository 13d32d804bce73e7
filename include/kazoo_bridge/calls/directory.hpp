#pragma once
/// The users and devices of one account, as the tracker needs them to name people (Crossbar §5.3).

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace kazoo_bridge::calls {

struct user_info {
  std::string id, name, extension;      ///< name = "first last"; extension = caller_id.internal.number
  std::vector<std::string> extensions;  ///< every number that rings the user (callflow numbers)
  std::string email;
  bool admin = false;                   ///< priv_level == "admin"
};
struct device_info {
  std::string id, name, owner_id;
};

/// Snapshot from Crossbar users+devices of one account; the kazoo module refreshes it.
struct directory {
  std::unordered_map<std::string, user_info> users;      ///< by user id
  std::unordered_map<std::string, device_info> devices;  ///< by device id

  const user_info* find_user(const std::string& id) const;
  const user_info* find_by_extension(const std::string& extension) const;
  /// owner of a device (authorizing_id of a device leg), or nullptr
  const user_info* owner_of_device(const std::string& device_id) const;
};

}  // namespace kazoo_bridge::calls
