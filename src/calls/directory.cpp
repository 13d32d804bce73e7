#include <kazoo_bridge/calls/directory.hpp>

#include <algorithm>

namespace kazoo_bridge::calls {

const user_info* directory::find_user(const std::string& id) const {
  auto it = users.find(id);
  return it == users.end() ? nullptr : &it->second;
}

const user_info* directory::find_by_extension(const std::string& extension) const {
  if (extension.empty()) return nullptr;
  for (const auto& [id, u] : users) {
    if (u.extension == extension ||
        std::find(u.extensions.begin(), u.extensions.end(), extension) != u.extensions.end()) {
      return &u;
    }
  }
  return nullptr;
}

const user_info* directory::owner_of_device(const std::string& device_id) const {
  auto it = devices.find(device_id);
  return it == devices.end() ? nullptr : find_user(it->second.owner_id);
}

}  // namespace kazoo_bridge::calls
