// sync/plan.cpp: the plan's enums as the words reports and the plan JSON use, and back.
#include "sync/plan.hpp"

#include <array>
#include <utility>

namespace b24sync::sync {
namespace {

// One table per enum: to_string and *_from_string read the same words, so they cannot drift apart.
constexpr std::array<std::pair<op_kind, std::string_view>, 6> op_kinds{{
    {op_kind::create, "create"},
    {op_kind::update, "update"},
    {op_kind::reactivate, "reactivate"},
    {op_kind::deactivate, "deactivate"},
    {op_kind::unchanged, "unchanged"},
    {op_kind::skip, "skip"},
}};

constexpr std::array<std::pair<skip_reason, std::string_view>, 9> skip_reasons{{
    {skip_reason::none, "none"},
    {skip_reason::protected_user, "protected"},
    {skip_reason::webhook_user, "webhook_user"},
    {skip_reason::not_managed, "not_managed"},
    {skip_reason::conflict, "conflict"},
    {skip_reason::rejected_row, "rejected_row"},
    {skip_reason::policy, "policy"},
    {skip_reason::unknown_department, "unknown_department"},
    {skip_reason::inactive_new, "inactive_new"},
}};

constexpr std::array<std::pair<match_kind, std::string_view>, 4> match_kinds{{
    {match_kind::none, "none"},
    {match_kind::identity_field, "identity_field"},
    {match_kind::state, "state"},
    {match_kind::email, "email"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) noexcept {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view s) noexcept {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(op_kind k) noexcept { return name_of(op_kinds, k); }
std::string_view to_string(skip_reason r) noexcept { return name_of(skip_reasons, r); }
std::string_view to_string(match_kind m) noexcept { return name_of(match_kinds, m); }

std::optional<op_kind> op_kind_from_string(std::string_view s) noexcept { return value_of(op_kinds, s); }
std::optional<skip_reason> skip_reason_from_string(std::string_view s) noexcept {
  return value_of(skip_reasons, s);
}
std::optional<match_kind> match_kind_from_string(std::string_view s) noexcept {
  return value_of(match_kinds, s);
}

}  // namespace b24sync::sync
