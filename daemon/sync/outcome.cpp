// sync/outcome.cpp: per-operation outcomes of an executed plan — names and tallies.
#include "sync/outcome.hpp"

namespace b24sync::sync {

// report helper: op_status names (used in run reports) and the applied/failed tallies.
std::string_view to_string(op_status s) noexcept {
  switch (s) {
    case op_status::not_run: return "not_run";
    case op_status::done: return "done";
    case op_status::recovered: return "recovered";
    case op_status::failed: return "failed";
  }
  return "unknown";
}

std::size_t run_result::failed() const noexcept {
  std::size_t n = 0;
  for (const auto* list : {&departments, &users}) {
    for (const auto& o : *list) n += o.status == op_status::failed ? 1 : 0;
  }
  return n;
}

std::size_t run_result::applied() const noexcept {
  std::size_t n = 0;
  for (const auto* list : {&departments, &users}) {
    for (const auto& o : *list) n += (o.status == op_status::done || o.status == op_status::recovered) ? 1 : 0;
  }
  return n;
}

}  // namespace b24sync::sync
