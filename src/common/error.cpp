#include <kazoo_bridge/common/error.hpp>

#include <string>

namespace kazoo_bridge {
namespace {

// boost::system::error_category has a non-virtual destructor by design (categories are static
// singletons never deleted through a base pointer), which -Wnon-virtual-dtor reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "kazoo_bridge"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_payload: return "malformed payload";
      case errc::bad_config: return "invalid configuration";
      case errc::auth_failed: return "authentication failed";
      case errc::auth_expired: return "authentication expired";
      case errc::forbidden: return "forbidden";
      case errc::not_found: return "not found";
      case errc::rate_limited: return "rate limited";
      case errc::peer_error: return "peer rejected the request";
      case errc::unavailable: return "peer unavailable";
      case errc::timeout: return "timed out";
      case errc::too_large: return "message too large";
      case errc::closed: return "closed";
      case errc::protocol_error: return "protocol error";
      case errc::endpoint_gone: return "endpoint gone";
      case errc::database_error: return "database error";
    }
    return "unknown kazoo_bridge error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace kazoo_bridge
