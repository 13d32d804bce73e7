#pragma once
/// Umbrella header of the pure `calls` module.

#include <kazoo_bridge/calls/crossbar_rows.hpp>
#include <kazoo_bridge/calls/directory.hpp>
#include <kazoo_bridge/calls/frame.hpp>
#include <kazoo_bridge/calls/lifecycle.hpp>
#include <kazoo_bridge/calls/tracker.hpp>
