#pragma once
/// The store module in one include: rows, errors, the database and the group committer.

#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/error.hpp>
#include <kazoo_bridge/store/rows.hpp>
