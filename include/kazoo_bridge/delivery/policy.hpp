#pragma once
/// The pure decisions of webhook delivery: retry schedule with jitter, Retry-After, outcome
/// classification and the disable rule. No I/O, no clock: callers pass the time in.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace kazoo_bridge::delivery {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// The Standard Webhooks example schedule (spec "Retry schedule"): attempt 1 at once, then after
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h: 10 attempts over about 75.6 h.
/// Element i is the wait before attempt i+1 (element 0, the first attempt, is always 0).
std::vector<seconds> default_retry_schedule();

/// The wait before the next attempt once `attempts_made` attempts have failed, or nullopt when
/// the schedule is exhausted (attempts_made >= schedule.size()). `unit` in [0, 1) picks the
/// jitter: the wait is scaled by 1 + jitter * (2 * unit - 1), so +-jitter (0.1 = +-10 %); the jitter
/// spreads retries of many events failed together (one outage) instead of a thundering herd.
std::optional<milliseconds> retry_delay(const std::vector<seconds>& schedule, std::int64_t attempts_made,
                                        double unit, double jitter = 0.1);

/// Parses a Retry-After value (RFC 9110 §10.2.3): delta-seconds or an HTTP-date (IMF-fixdate,
/// RFC 9110 §5.6.7; the obsolete RFC 850 and asctime forms too). A date in the past gives 0.
/// The result is capped at `cap` so a peer cannot park a delivery for a year. nullopt when the
/// value is malformed (then the schedule alone decides).
std::optional<milliseconds> parse_retry_after(std::string_view value, std::int64_t now_ms,
                                              milliseconds cap = std::chrono::hours(24));

/// Parses an HTTP-date (IMF-fixdate, RFC 850, asctime) into Unix milliseconds.
std::optional<std::int64_t> parse_http_date(std::string_view text);

/// What one attempt came to; the same words as hook_deliveries.outcome.
enum class outcome { delivered, retry, failed, gone };

/// "delivered", "retry", "failed" or "gone".
std::string_view to_string(outcome o);

/// Classifies an attempt. `status` is the HTTP status, nullopt when none arrived (timeout,
/// refused connection, TLS failure: retried). 2xx delivered; 410 gone (the subscriber asks us to
/// stop, REST Hooks convention used by Zapier); 408, 429 and 5xx retry; 3xx failed (redirects are
/// not followed: a moved target must be re-subscribed, and following one could reach a private
/// address after the check); other 4xx (and 1xx) failed.
outcome classify(std::optional<int> status);

/// The disable rule: a subscription that has had no success since `failing_since_ms` for at least
/// `disable_after` is disabled. False while healthy (no failing_since).
bool should_disable(std::optional<std::int64_t> failing_since_ms, std::int64_t now_ms,
                    milliseconds disable_after);

/// When the next attempt is due (Unix ms) after a retryable failure, or nullopt when the
/// schedule is exhausted: max(schedule wait with jitter, Retry-After) from `now_ms`.
std::optional<std::int64_t> next_attempt_at(const std::vector<seconds>& schedule,
                                            std::int64_t attempts_made, std::int64_t now_ms,
                                            std::optional<milliseconds> retry_after, double unit,
                                            double jitter = 0.1);

}  // namespace kazoo_bridge::delivery
