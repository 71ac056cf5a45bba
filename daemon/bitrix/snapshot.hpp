// bitrix/snapshot.hpp: fetching every portal user (dismissed ones too) and the department tree in the
// fewest batch requests, driven by the pure planners of snapshot_plan.hpp.
#pragma once

#include "bitrix/client.hpp"
#include "bitrix/portal_snapshot.hpp"
#include "bitrix/snapshot_plan.hpp"
#include "bitrix/user_fields.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace b24sync::bitrix {


/// Thrown when a snapshot cannot be completed. what() carries no secrets.
class snapshot_error : public std::system_error {
 public:
  snapshot_error(std::error_code ec, diagnostics diag, error_class kind, const std::string& what)
      : std::system_error(ec, what), diag_(std::move(diag)), kind_(kind) {}
  [[nodiscard]] const diagnostics& diag() const noexcept { return diag_; }
  [[nodiscard]] error_class kind() const noexcept { return kind_; }

 private:
  diagnostics diag_;
  error_class kind_;
};

/** Reads all users (user.get with ADMIN_MODE, ID order, overlapping exact-offset pages, gap queries
    for users added or removed while paging) and all departments. The first request carries the first
    page of both lists and department pages fill the free slots of user requests, so the whole fetch
    usually takes ceil((users − 50) / 2450) + 1 requests (≤ ceil(users / 2500) + 2). Throws snapshot_error when the portal refuses for good, a
    page is inconsistent, or transient failures persist beyond the client's retries. */
net::awaitable<snapshot> async_fetch_snapshot(client& c, snapshot_config cfg = {});

}  // namespace b24sync::bitrix
