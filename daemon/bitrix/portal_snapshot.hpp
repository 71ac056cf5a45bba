// bitrix/portal_snapshot.hpp: the snapshot as plain data — what the pure diff engine reads — kept
// apart from snapshot.hpp so that code never includes the client or Asio.
#pragma once

#include "bitrix/snapshot_plan.hpp"
#include "bitrix/user_fields.hpp"

#include <cstdint>
#include <vector>

namespace b24sync::bitrix {

/// The portal's users and departments at one point in time.
struct snapshot {
  std::vector<portal_user> users;              ///< ascending by ID, ACTIVE=N included
  std::vector<portal_department> departments;  ///< ascending by ID
  snapshot_stats user_stats;                   ///< the user planner's counters (pages, gap queries...)
  snapshot_stats department_stats;
  std::uint64_t http_requests = 0;  ///< HTTP requests this fetch put on the wire (retries included)
  double portal_time = 0;           ///< the portal's clock when the fetch ended (Unix seconds)
};

}  // namespace b24sync::bitrix
