#include <kazoo_bridge/kazoo/directory_refresher.hpp>

#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

namespace kazoo_bridge::kazoo {
namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

calls::directory make_directory(const std::vector<nlohmann::json>& users, const std::vector<nlohmann::json>& devices) {
  calls::directory d;
  for (const auto& u : users) {
    calls::user_info info;
    info.id = str(u, "id");
    if (info.id.empty()) continue;
    auto first = str(u, "first_name"), last = str(u, "last_name");
    info.name = first.empty() ? last : last.empty() ? first : first + " " + last;
    if (info.name.empty()) info.name = str(u, "username");
    info.email = str(u, "email");
    info.admin = str(u, "priv_level") == "admin";
    auto presence = str(u, "presence_id");
    info.extension = presence.substr(0, presence.find('@'));
    if (!info.extension.empty()) info.extensions.push_back(info.extension);
    d.users.emplace(info.id, std::move(info));
  }
  for (const auto& dev : devices) {
    calls::device_info info;
    info.id = str(dev, "id");
    if (info.id.empty()) continue;
    info.name = str(dev, "name");
    info.owner_id = str(dev, "owner_id");
    d.devices.emplace(info.id, std::move(info));
  }
  return d;
}

directory_refresher::directory_refresher(asio::any_io_executor ex, crossbar_client& crossbar, token_source& tokens,
                                         std::chrono::milliseconds interval, std::shared_ptr<spdlog::logger> log)
    : crossbar_(crossbar), tokens_(tokens), interval_(interval), log_(std::move(log)), timer_(ex) {}

void directory_refresher::set_accounts(std::vector<std::string> accounts) {
  // Called once subscribed; the reconciliation that follows refreshes every account first
  // (blackhole_client::before_reconcile). So only restart the interval for the new set: fetching here
  // too loaded every user and device twice per (re)connect.
  accounts_ = std::move(accounts);
  reschedule_ = true;
  timer_.cancel();
}

awaitable<void> directory_refresher::run() {
  while (!stopping_) {
    timer_.expires_after(accounts_.empty() ? std::chrono::hours(24) : interval_);
    co_await timer_.async_wait(use_nothrow);
    if (stopping_) break;
    if (std::exchange(reschedule_, false)) continue;
    auto accounts = accounts_;  // set_accounts() may replace the list while we are suspended
    for (const auto& account : accounts) co_await refresh(account);
  }
}

void directory_refresher::stop() {
  stopping_ = true;
  timer_.cancel();
}

awaitable<void> directory_refresher::refresh(std::string account_id) {
  auto tok = co_await tokens_.current();
  if (!tok) co_return;
  // Arguments are named locals: GCC 12 mishandles temporaries inside co_await expressions.
  auto users_path = fmt::format("/accounts/{}/users", account_id);
  auto devices_path = fmt::format("/accounts/{}/devices", account_id);
  auto users = co_await crossbar_.get_all(users_path, tok->token);
  auto devices = co_await crossbar_.get_all(devices_path, tok->token);
  if (!users || !devices) {
    auto ec = !users ? users.error() : devices.error();
    if (ec == errc::auth_expired) tokens_.invalidate();
    log_->warn("kazoo directory refresh failed account={} error={}", account_id, ec.message());
    co_return;
  }
  auto d = std::make_shared<const calls::directory>(make_directory(*users, *devices));
  log_->info("kazoo directory account={} users={} devices={}", account_id, d->users.size(), d->devices.size());
  if (on_update) on_update(account_id, std::move(d));
}

}  // namespace kazoo_bridge::kazoo
