#pragma once
/// systemd's notification protocol (sd_notify(3)), spoken directly over $NOTIFY_SOCKET so that we need no
/// libsystemd: READY=1 once the HTTP port listens, WATCHDOG=1 pings when WatchdogSec is set, STOPPING=1.

#include <chrono>
#include <optional>
#include <string_view>

namespace kazoo_bridge::app {

/// Sends one datagram to $NOTIFY_SOCKET (an abstract socket when it starts with '@'). No-op and false
/// when not run by systemd with Type=notify.
bool sd_notify(std::string_view state);

/// The watchdog interval systemd expects pings at (WATCHDOG_USEC, honouring WATCHDOG_PID), if any.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace kazoo_bridge::app
