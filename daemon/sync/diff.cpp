// sync/diff.cpp: the diff engine — desired people + portal snapshot -> a deterministic plan. Pure:
// department resolution, matching (identity field, state, e-mail), canonical field comparison,
// outcomes and their order. See daemon/sync/README.md "## Engine" for the rules.
#include "sync/diff.hpp"

#include "common/huge_pages.hpp"
#include "config/date.hpp"
#include "config/text.hpp"
#include "sync/canonical.hpp"
#include "sync/departments.hpp"
#include "sync/fingerprint.hpp"
#include "sync/prefetch.hpp"
#include "sync/view_index.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace b24sync::sync {
namespace {

using bitrix::portal_department;
using bitrix::portal_user;
using config::desired_person;
using config::field_value;
using detail::portal_slot;

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

using detail::id_of;
std::int64_t id_of(const portal_user& u) noexcept { return static_cast<std::int64_t>(u.id); }
using detail::in_quotes;
using detail::department_resolver;
using detail::path_result;
using detail::resolved_departments;
using detail::view_index;
using detail::prefetch_record;
using detail::prefetch_heap;

// ---------------------------------------------------------------------------------------------
// Fields: how each mapped field is compared and sent.

enum class value_kind { text, email, phone, date, department, list };

// The portal_slots of portal_user's text block, in user_text order.
static_assert(static_cast<std::size_t>(portal_slot::phone_inner) == bitrix::user_text_count - 1 &&
              static_cast<std::size_t>(bitrix::user_text::phone_inner) == bitrix::user_text_count - 1 &&
              static_cast<std::size_t>(portal_slot::email) == 0 &&
              static_cast<std::size_t>(bitrix::user_text::email) == 0);
constexpr bool is_user_text(portal_slot s) noexcept { return s <= portal_slot::phone_inner; }

struct field_spec {
  std::string name;
  config::field_name_id name_id = 0;  // name, interned (field_map.hpp)
  value_kind kind = value_kind::text;
  portal_slot slot = portal_slot::other;
  std::string region = "RU";    // phone
  bool phone = false;           // list: items are phone numbers
  bool create_missing = false;  // department
};

field_spec spec_for(const config::field_rule* rule, std::string name) {
  field_spec s;
  s.name_id = config::intern_field_name(name);
  s.slot = detail::slot_of(name);
  if (rule != nullptr) {
    s.region = rule->region;
    s.create_missing = rule->create_missing;
  }
  const auto tr = rule ? rule->transform : config::transform_kind::none;
  s.phone = tr == config::transform_kind::phone;
  if (tr == config::transform_kind::department || name == bitrix::field::uf_department)
    s.kind = value_kind::department;
  else if (rule && rule->multiple)
    s.kind = value_kind::list;
  else if (tr == config::transform_kind::phone)
    s.kind = value_kind::phone;
  else if (tr == config::transform_kind::date || name == bitrix::field::personal_birthday)
    s.kind = value_kind::date;
  else if (name == bitrix::field::email)
    s.kind = value_kind::email;
  s.name = std::move(name);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The engine proper.

struct person_match {
  std::uint32_t user = none;       // index into portal users
  match_kind by = match_kind::none;
  bool conflict = false;           // skip as a conflict; the reason is in engine::conflicts_
};

class engine {
 public:
  explicit engine(const diff_input& in)
      : in_(in), cfg_(*in.cfg), people_(in.desired->people), users_(in.portal->users),
        depts_(in.portal->departments) {}

  plan run() {
    build_specs();
    index_users();
    order_people();
    match_people();
    plan out;
    out.portal_url = in_.portal_url;
    out.created_at = in_.created_at;
    constexpr std::size_t record_ahead = 8, heap_ahead = 4;  // people (and their users) in flight
    const std::size_t count = person_order_.size();
    for (std::size_t k = 0; k < count; ++k) {
      if (k + record_ahead < count) {
        const std::uint32_t q = person_order_[k + record_ahead];
        prefetch_record(people_[q]);
        if (matches_[q].user != none) prefetch_record(users_[matches_[q].user]);
      }
      if (k + heap_ahead < count) {
        const std::uint32_t q = person_order_[k + heap_ahead];
        prefetch_heap(people_[q]);
        if (matches_[q].user != none) prefetch_heap(users_[matches_[q].user]);
      }
      const std::uint32_t pi = person_order_[k];
      // A claimed user is digested with its first claimant, the others by portal_ops(): each once.
      if (const std::uint32_t u = matches_[pi].user; u != none && claim_[u] == pi) digest_.add_user(users_[u]);
      person_op(pi);
    }
    portal_ops();
    out.snapshot_fingerprint = digest_.finish(users_.size(), in_.portal->departments);
    number_departments();
    assemble(out);
    return out;
  }

 private:
  // --- set-up ------------------------------------------------------------------------------
  void build_specs() {
    for (const auto& r : cfg_.mapping.fields) {
      if (std::any_of(specs_.begin(), specs_.end(), [&](const field_spec& s) { return s.name == r.field; }))
        continue;
      specs_.push_back(spec_for(&r, r.field));
    }
    const std::string& idf = cfg_.mapping.identity_field;
    if (std::none_of(specs_.begin(), specs_.end(), [&](const field_spec& s) { return s.name == idf; }))
      specs_.push_back(spec_for(nullptr, idf));
    identity_slot_ = detail::slot_of(idf);
    by_name_.resize(specs_.size());
    for (std::size_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
    std::sort(by_name_.begin(), by_name_.end(), [&](auto a, auto b) { return specs_[a].name < specs_[b].name; });
    identity_is_uf_ = idf.starts_with(bitrix::field::uf_usr_prefix);
  }

  std::string_view identity_of(std::uint32_t u) {
    std::string scratch;
    std::string_view v = detail::portal_text(users_[u], identity_slot_, cfg_.mapping.identity_field, scratch);
    if (!scratch.empty() && v.data() == scratch.data()) {  // rendered (a number): keep it alive
      owned_.push_back(std::string{detail::trim_view(v)});
      return owned_.back();
    }
    return detail::trim_view(v);
  }

  void index_users() {
    const std::size_t n = users_.size();
    if (n >= none) throw std::length_error("make_plan: too many portal users");
    // The engine's tables hold an entry per user or person: fresh memory, in huge pages if possible.
    common::reserve_huge(by_id_, n);
    by_id_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) by_id_[i] = i;
    if (!std::is_sorted(by_id_.begin(), by_id_.end(),
                        [&](auto a, auto b) { return users_[a].id < users_[b].id; }))
      std::sort(by_id_.begin(), by_id_.end(), [&](auto a, auto b) { return users_[a].id < users_[b].id; });
    common::reserve_huge(identity_, n);
    identity_.resize(n);
    // One pass over the users (the largest input, 10^6 of them) for their identity values and
    // e-mails; then the index is filled with its slots loaded ahead. (Their other fields are read,
    // and digested for the snapshot fingerprint, by the passes over the people and portal_ops().)
    common::reserve_huge(email_hash_, n);
    email_hash_.resize(n);
    std::string scratch;
    constexpr std::size_t heap_ahead = 4;  // users whose strings are in flight
    for (std::size_t k = 0; k < n; ++k) {
      if (k + heap_ahead < n) {  // what this pass reads of them
        const portal_user& next = users_[by_id_[k + heap_ahead]];
        __builtin_prefetch(next.texts.data());
        __builtin_prefetch(next.uf.begin().get_ptr());
      }
      const std::uint32_t i = by_id_[k];
      identity_[i] = identity_of(i);
      email_hash_[i] = view_index::hash(detail::lower_view(detail::trim_view(users_[i].email()), scratch));
    }
    constexpr std::size_t ahead = 8;  // inserts in flight (see view_index::prefetch)
    std::array<std::size_t, ahead> hashes{};  // of the users k .. k + ahead - 1
    for (std::size_t k = 0; k < std::min(ahead, n); ++k) hashes[k] = view_index::hash(identity_[by_id_[k]]);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t h = hashes[k % ahead];
      if (k + ahead < n) {
        hashes[k % ahead] = view_index::hash(identity_[by_id_[k + ahead]]);
        identity_index_.prefetch(hashes[k % ahead]);
      }
      const std::uint32_t i = by_id_[k];
      if (!identity_[i].empty()) identity_index_.insert(identity_[i], i, h);
    }
    common::reserve_huge(claim_, n);
    claim_.assign(n, none);
    touched_.assign(n, false);
    for (auto id : cfg_.policy.protected_ids) protected_ids_.push_back(id);
    std::sort(protected_ids_.begin(), protected_ids_.end());
  }

  /// The e-mail index, over just the portal users whose e-mail some person looks for: built once,
  /// after a first matching pass has collected those e-mails (wanted_emails_). A run where everyone
  /// is found by the HR key (the steady state) never builds it, and a run with a few new hires
  /// finds their e-mails' users through email_hash_ without touching the other users' strings.
  void build_email_index() {
    view_index wanted(wanted_emails_.size());
    for (std::string_view w : wanted_emails_) wanted.insert(w, 0);
    std::vector<std::pair<std::uint32_t, std::string_view>> hits;  // ascending user index
    for (std::uint32_t u = 0; u < users_.size(); ++u) {
      if (!wanted.may_contain(email_hash_[u])) continue;  // most users: their strings stay untouched
      std::string scratch;
      std::string_view e = detail::lower_view(detail::trim_view(users_[u].email()), scratch);
      bool is_wanted = false;
      wanted.find(e, email_hash_[u], [&](std::uint32_t) { is_wanted = true; });
      if (e.empty() || !is_wanted) continue;
      if (!scratch.empty() && e.data() == scratch.data()) {
        owned_.push_back(std::move(scratch));
        e = owned_.back();
      }
      hits.emplace_back(u, e);
    }
    email_index_.emplace(hits.size());
    for (const auto& [u, e] : hits) email_index_->insert(e, u, email_hash_[u]);
  }

  std::optional<std::uint32_t> user_by_id(std::int64_t id) const {
    auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id,
                               [&](std::uint32_t u, std::int64_t v) { return id_of(users_[u]) < v; });
    if (it == by_id_.end() || id_of(users_[*it]) != id) return std::nullopt;
    return *it;
  }

  void order_people() {
    common::reserve_huge(person_order_, people_.size());
    person_order_.resize(people_.size());
    for (std::uint32_t i = 0; i < people_.size(); ++i) person_order_[i] = i;
    if (!std::is_sorted(person_order_.begin(), person_order_.end(),
                        [&](auto a, auto b) { return people_[a].key < people_[b].key; }))
      std::stable_sort(person_order_.begin(), person_order_.end(),
                       [&](auto a, auto b) { return people_[a].key < people_[b].key; });
  }

  // --- matching ------------------------------------------------------------------------------
  static std::string user_list(const std::vector<std::uint32_t>& found, const std::vector<portal_user>& users) {
    std::string s;
    for (std::size_t i = 0; i < found.size(); ++i)
      s += (i == 0 ? "" : i + 1 == found.size() ? " and " : ", ") + std::to_string(id_of(users[found[i]]));
    return s;
  }

  /// The person's match; on a conflict, `m.conflict` is set and `why` says what clashed.
  person_match match_one(const desired_person& p, std::string& why) {
    person_match m;
    for (auto key : cfg_.mapping.match) {
      std::vector<std::uint32_t>& found = found_;  // reused: no allocation per person
      found.clear();
      if (key == config::match_key::employee_id) {
        identity_index_.find(p.key, key_hash_, [&](std::uint32_t u) { found.push_back(u); });
        if (found.size() > 1) {
          std::sort(found.begin(), found.end(), [&](auto a, auto b) { return users_[a].id < users_[b].id; });
          for (auto u : found) touched_[u] = true;
          m.conflict = true;
          why = "HR key " + in_quotes(p.key) + " is in " + cfg_.mapping.identity_field + " of portal users " +
                       user_list(found, users_) + "; none is touched";
          return m;
        }
        if (found.size() == 1) return {found.front(), match_kind::identity_field, {}};
        if (auto it = in_.identities.key_to_user.find(p.key); it != in_.identities.key_to_user.end())
          if (auto u = user_by_id(it->second)) return {*u, match_kind::state, {}};
      } else {
        auto e = p.fields.find(email_id_);
        if (e == p.fields.end() || e->kind() != config::field_kind::text) continue;
        const std::string_view email = e->text();
        if (email.empty()) continue;
        std::string scratch;
        std::string_view want = detail::lower_view(detail::trim_view(email), scratch);
        if (!email_index_) {  // the first pass: the look-up waits for build_email_index()
          if (!scratch.empty() && want.data() == scratch.data()) {
            owned_.push_back(std::move(scratch));
            want = owned_.back();
          }
          wanted_emails_.push_back(want);
          email_pending_ = true;
          return m;
        }
        email_index_->find(want, [&](std::uint32_t u) { found.push_back(u); });
        if (found.size() > 1) {
          std::sort(found.begin(), found.end(), [&](auto a, auto b) { return users_[a].id < users_[b].id; });
          for (auto u : found) touched_[u] = true;
          m.conflict = true;
          why = "e-mail " + std::string{want} + " belongs to portal users " + user_list(found, users_) +
                       "; none is touched";
          return m;
        }
        if (found.size() == 1) {
          const std::uint32_t u = found.front();
          // A UF_USR_* identity naming someone else: the address was reused, not this person's account.
          if (identity_is_uf_ && !identity_[u].empty() && identity_[u] != p.key) {
            touched_[u] = true;
            m.conflict = true;
            why = "e-mail " + std::string{want} + " belongs to portal user " + std::to_string(id_of(users_[u])) +
                         ", which carries HR key " + in_quotes(identity_[u]) + " in " + cfg_.mapping.identity_field;
            return m;
          }
          return {u, match_kind::email, {}};
        }
      }
    }
    return m;
  }

  void match_people() {
    common::reserve_huge(matches_, people_.size());
    matches_.resize(people_.size());
    // First pass, in key order: every match that needs no e-mail look-up; the others wait for the
    // e-mail index of just the addresses they look for, then are matched again in key order.
    std::vector<std::uint32_t> waiting;
    constexpr std::size_t ahead = 8;  // look-ups in flight (see view_index::prefetch)
    const std::size_t count = person_order_.size();
    std::array<std::size_t, ahead> hashes{};  // of the people k .. k + ahead - 1's keys
    for (std::size_t k = 0; k < std::min(ahead, count); ++k) hashes[k] = view_index::hash(people_[person_order_[k]].key);
    for (std::size_t k = 0; k < count; ++k) {
      key_hash_ = hashes[k % ahead];
      if (k + ahead < count) {
        hashes[k % ahead] = view_index::hash(people_[person_order_[k + ahead]].key);
        identity_index_.prefetch(hashes[k % ahead]);
      }
      if (k + ahead / 2 < count) identity_index_.prefetch_key(hashes[(k + ahead / 2) % ahead]);
      const std::uint32_t p = person_order_[k];
      std::string why;
      email_pending_ = false;
      matches_[p] = match_one(people_[p], why);
      if (email_pending_) waiting.push_back(p);
      else if (matches_[p].conflict) conflicts_.emplace(p, std::move(why));
    }
    if (!waiting.empty()) {
      build_email_index();
      for (std::uint32_t p : waiting) {  // the earlier match keys found nothing, with no side effect
        key_hash_ = view_index::hash(people_[p].key);
        std::string why;
        matches_[p] = match_one(people_[p], why);
        if (matches_[p].conflict) conflicts_.emplace(p, std::move(why));
      }
    }
    for (std::uint32_t p : person_order_) {
      const std::uint32_t u = matches_[p].user;
      if (u == none) continue;
      if (claim_[u] == none) {
        claim_[u] = p;
      } else {
        extra_claims_[u].push_back(p);
      }
    }
    // Two (or more) people on one portal user: each is a conflict naming the others.
    for (auto& [u, extra] : extra_claims_) {
      std::vector<std::uint32_t> all{claim_[u]};
      all.insert(all.end(), extra.begin(), extra.end());
      for (std::uint32_t p : all) {
        std::string others;
        for (std::uint32_t q : all)
          if (q != p) others += (others.empty() ? "" : ", ") + in_quotes(people_[q].key);
        matches_[p].conflict = true;
        conflicts_[p] = "portal user " + std::to_string(id_of(users_[u])) + " is also matched by key " + others;
      }
      touched_[u] = true;
    }
  }

  // --- departments ---------------------------------------------------------------------------
  /// The person's departments, resolved (a reference to a buffer reused for the next person).
  const resolved_departments& departments_of(const desired_person& p) {
    resolved_departments& r = depts_buffer_;
    r.ids.clear();
    r.pending.clear();
    r.unknown.clear();
    for (const auto& s : specs_) {
      if (s.kind != value_kind::department) continue;
      auto it = p.fields.find(s.name_id);
      if (it == p.fields.end()) continue;
      resolve_value(*it, s, r);
    }
    return r;
  }

  void resolve_value(const config::field_ref& v, const field_spec& s, resolved_departments& r) {
    auto add_path = [&](std::span<const std::string_view> path) {
      path_result res = depts_.resolve(path, s.create_missing);
      switch (res.st) {
        case path_result::state::found:
          if (std::find(r.ids.begin(), r.ids.end(), res.id) == r.ids.end()) r.ids.push_back(res.id);
          break;
        case path_result::state::create:
          if (std::find(r.pending.begin(), r.pending.end(), res.pending) == r.pending.end())
            r.pending.push_back(res.pending);
          break;
        case path_result::state::unknown:
          r.unknown.push_back(detail::path_text(path));
          break;
      }
    };
    std::vector<std::string_view>& levels = levels_;  // reused: no allocation per person
    if (v.kind() == config::field_kind::departments) {
      for (auto c = v.paths(); c.next(levels);) add_path(levels);
      return;
    }
    // A literal built by hand: each item (or the text, unless blank) is a one-level path.
    levels.clear();
    v.list(levels);
    const bool text = v.kind() == config::field_kind::text;
    for (const std::string_view& item : levels)
      if (!text || !detail::trim_view(item).empty()) add_path({&item, 1});
  }

  std::string department_text(const resolved_departments& r) {
    std::string s;
    for (auto id : r.ids) s += (s.empty() ? "" : "; ") + depts_.path_of(id);
    for (auto i : r.pending) s += (s.empty() ? "" : "; ") + depts_.pending_path(i);
    return s;
  }

  wire_value department_wire(const resolved_departments& r) const {
    std::vector<std::string> w;
    for (auto id : r.ids) w.push_back(std::to_string(id));
    for (auto i : r.pending) w.push_back(placeholder + std::to_string(i));
    return w;
  }

  // --- field comparison ----------------------------------------------------------------------
  /// Appends a field_change when the desired value differs from the portal's (or always, for a
  /// create: `u` == nullptr, empty values left out).
  void diff_field(const field_spec& s, const config::field_ref& want, const portal_user* u,
                  const resolved_departments& depts, std::vector<field_change>& out) {
    std::string scratch;
    switch (s.kind) {
      case value_kind::department: {
        if (u == nullptr) {
          if (depts.ids.empty() && depts.pending.empty()) return;
          out.push_back({s.name, {}, department_text(depts), department_wire(depts)});
          return;
        }
        // Reused buffers: no allocation per person once they have grown.
        std::vector<std::int64_t>& want_ids = want_ids_;
        want_ids.assign(depts.ids.begin(), depts.ids.end());
        std::sort(want_ids.begin(), want_ids.end());
        std::vector<std::int64_t>& have = have_ids_;
        have.clear();
        for (auto d : u->departments) have.push_back(static_cast<std::int64_t>(d));
        if (!std::is_sorted(have.begin(), have.end())) std::sort(have.begin(), have.end());
        have.erase(std::unique(have.begin(), have.end()), have.end());
        if (depts.pending.empty() && want_ids == have) return;
        std::string before;
        for (auto id : have) before += (before.empty() ? "" : "; ") + depts_.path_of(id);
        out.push_back({s.name, std::move(before), department_text(depts), department_wire(depts)});
        return;
      }
      case value_kind::list: {
        std::vector<std::string> want_list;
        if (want.kind() == config::field_kind::list || want.kind() == config::field_kind::text) {
          std::vector<std::string_view> items;
          want.list(items);
          want_list.assign(items.begin(), items.end());
        } else if (want.kind() == config::field_kind::date) {
          want_list = {config::to_string(want)};
        }
        if (u == nullptr) {
          if (want_list.empty()) return;
          out.push_back({s.name, {}, detail::join(want_list, ", "), want_list});
          return;
        }
        std::vector<std::string> have = detail::portal_list(*u, s.slot, s.name);
        auto canon = [&](std::vector<std::string> v) {
          for (auto& x : v)
            x = s.name == bitrix::field::email ? detail::canonical_email(x)
                : s.phone                       ? detail::canonical_phone(x, s.region)
                                                : detail::canonical_text(x);
          std::sort(v.begin(), v.end());
          return v;
        };
        if (have == want_list) return;
        std::vector<std::string> have_c = canon(have);
        if (have_c == canon(want_list)) return;
        for (auto& h : have) h = detail::canonical_text(h);
        out.push_back({s.name, detail::join(have, ", "), detail::join(want_list, ", "), want_list});
        return;
      }
      case value_kind::date: {
        const std::optional<std::chrono::year_month_day> d =
            want.kind() == config::field_kind::date ? std::optional{want.date()} : std::nullopt;
        std::optional<std::chrono::year_month_day> have;
        if (u != nullptr) {
          have = detail::portal_date(*u, s.slot, s.name);
          if (d && have && *have == *d) return;  // the common case, before any text is formatted
        }
        const std::string after = d ? config::to_iso(*d) : config::to_string(want);
        if (u == nullptr) {
          if (!after.empty()) out.push_back({s.name, {}, after, after});
          return;
        }
        std::string before = have ? config::to_iso(*have)
                                  : detail::canonical_text(detail::portal_text(*u, s.slot, s.name, scratch));
        if (!d && before == detail::canonical_text(after)) return;  // kept text vs text, or both empty
        out.push_back({s.name, std::move(before), after, after});
        return;
      }
      case value_kind::text:
      case value_kind::email:
      case value_kind::phone: {
        std::string after_storage;
        std::string_view after = want.text();
        if (want.kind() != config::field_kind::text) {
          after_storage = config::to_string(want);
          after = after_storage;
        }
        auto change = [&](std::string before) {
          out.push_back({s.name, std::move(before), std::string{after}, std::string{after}});
        };
        if (u == nullptr) {
          if (!after.empty()) change({});
          return;
        }
        std::string_view have = is_user_text(s.slot) ? user_texts_[static_cast<std::size_t>(s.slot)]
                                                     : detail::portal_text(*u, s.slot, s.name, scratch);
        if (s.kind == value_kind::email) {
          if (detail::same_email(after, have)) return;
          change(detail::canonical_email(have));
        } else if (s.kind == value_kind::phone) {
          if (detail::same_phone(after, have, s.region)) return;
          change(detail::canonical_phone(have, s.region));
        } else {
          if (detail::same_text(after, have)) return;
          change(detail::canonical_text(have));
        }
        return;
      }
    }
  }

  /// Every differing mapped field of `p` against `u` (nullptr: a create, every non-empty field), in
  /// mapping order, then the identity field, then any field the mapping does not list (by name).
  std::vector<field_change> diff_person(const desired_person& p, const portal_user* u,
                                        const resolved_departments& depts) {
    // One merge walk over the person's fields (a map sorted by name) and the specs sorted by name:
    // no per-field tree look-up. Changes are tagged with their spec's mapping position, then ordered.
    std::vector<field_change> out;
    tags_.clear();
    if (u != nullptr) {  // the user's text fields, decoded once for all of the person's fields
      std::size_t k = 0;
      u->texts.each([&](std::string_view t) { user_texts_[k++] = t; });
    }
    auto diff_tagged = [&](const field_spec& spec, const config::field_ref& v, std::size_t tag) {
      const std::size_t before = out.size();
      diff_field(spec, v, u, depts, out);
      if (out.size() > before) tags_.push_back(tag);
    };
    std::size_t extra = specs_.size();  // fields no rule lists (hand-built input) come last, by name
    auto diff_extra = [&](const config::field_ref& value) {
      field_spec spec = spec_for(nullptr, std::string{value.name()});
      if (value.kind() == config::field_kind::list) spec.kind = value_kind::list;
      if (value.kind() == config::field_kind::date) spec.kind = value_kind::date;
      diff_tagged(spec, value, extra++);
    };
    auto it = p.fields.begin();
    std::size_t j = 0;
    while (it != p.fields.end() && j < by_name_.size()) {
      const config::field_ref f = *it;
      const field_spec& spec = specs_[by_name_[j]];
      const int c = f.name_id() == spec.name_id ? 0 : f.name().compare(spec.name);
      if (c == 0) {
        diff_tagged(spec, f, by_name_[j]);
        ++it;
        ++j;
      } else if (c < 0) {
        diff_extra(f);
        ++it;
      } else {
        ++j;
      }
    }
    for (; it != p.fields.end(); ++it) diff_extra(*it);
    if (out.size() > 1 && !std::is_sorted(tags_.begin(), tags_.end())) {
      std::vector<std::size_t> idx(out.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return tags_[a] < tags_[b]; });
      std::vector<field_change> sorted;
      sorted.reserve(out.size());
      for (std::size_t i : idx) sorted.push_back(std::move(out[i]));
      out = std::move(sorted);
    }
    return out;
  }

  // --- outcomes ------------------------------------------------------------------------------
  /// Listed in policy.protected by the portal user's ID or e-mail, or by the person's desired e-mail.
  bool is_protected(const portal_user* u, const desired_person* p) const {
    if (u && std::binary_search(protected_ids_.begin(), protected_ids_.end(), id_of(*u))) return true;
    const auto& emails = cfg_.policy.protected_emails;
    if (emails.empty()) return false;
    auto listed = [&](std::string_view e) {
      if (e.empty()) return false;
      const std::string c = detail::canonical_email(e);
      return std::find(emails.begin(), emails.end(), c) != emails.end();
    };
    return (u && listed(u->email())) || (p && listed(desired_text(*p, bitrix::field::email)));
  }

  bool is_webhook(const portal_user& u) const { return in_.webhook_user && *in_.webhook_user == id_of(u); }

  static std::string desired_text(const desired_person& p, std::string_view field) {
    auto it = p.fields.find(field);
    return it == p.fields.end() ? std::string{} : config::to_string(*it);
  }

  static std::string display_name(std::string_view first, std::string_view last) {
    std::string s{detail::trim_view(first)};
    if (!detail::trim_view(last).empty()) s += (s.empty() ? "" : " ") + std::string{detail::trim_view(last)};
    return s;
  }

  user_op person_base(const desired_person& p, op_kind kind, const person_match& m) const {
    user_op op;
    op.kind = kind;
    op.key = p.key;
    if (m.user != none) op.user_id = id_of(users_[m.user]);
    op.matched_by = m.by;
    op.email = desired_text(p, bitrix::field::email);
    op.name = display_name(desired_text(p, bitrix::field::name), desired_text(p, bitrix::field::last_name));
    op.origins = p.origins.to_vector();
    return op;
  }

  void skip_person(const desired_person& p, const person_match& m, skip_reason why, std::string reason) {
    user_op op = person_base(p, op_kind::skip, m);
    op.skip = why;
    op.reason = std::move(reason);
    push(std::move(op));
  }

  /// False (and the person skipped, a reject added) when a department path is unknown.
  bool departments_known(const desired_person& p, const person_match& m, const resolved_departments& d) {
    if (d.unknown.empty()) return true;
    std::string list;
    for (const auto& u : d.unknown) list += (list.empty() ? "" : ", ") + in_quotes(u);
    const std::string reason = (d.unknown.size() == 1 ? "unknown department " : "unknown departments ") + list;
    connectors::reject r;
    if (!p.origins.empty()) r.where = p.origins.front();
    r.reason = "key " + p.key + ": " + reason;
    rejects_.push_back(std::move(r));
    skip_person(p, m, skip_reason::unknown_department,
                reason + " (not on the portal; departments.create_missing is off)");
    return false;
  }

  void person_op(std::uint32_t pi) {
    const desired_person& p = people_[pi];
    const person_match& m = matches_[pi];
    if (m.conflict) {
      skip_person(p, m, skip_reason::conflict, conflicts_.at(pi));
      return;
    }
    if (m.user == none) {
      if (!p.active) {
        skip_person(p, m, skip_reason::inactive_new, "terminated in the source (" + p.inactive_reason +
                                                         ") and not on the portal: nothing to create");
        return;
      }
      if (is_protected(nullptr, &p)) {
        skip_person(p, m, skip_reason::protected_user, "e-mail listed in policy.protected");
        return;
      }
      if (!cfg_.policy.create) {
        skip_person(p, m, skip_reason::policy, "not on the portal and policy.create is false");
        return;
      }
      const resolved_departments& d = departments_of(p);
      if (!departments_known(p, m, d)) return;
      user_op op = person_base(p, op_kind::create, m);
      op.changes = diff_person(p, nullptr, d);
      op.needs_departments = d.pending;
      push(std::move(op));
      return;
    }
    const portal_user& u = users_[m.user];
    if (is_webhook(u)) {
      skip_person(p, m, skip_reason::webhook_user, "the webhook's own user is never edited");
      return;
    }
    if (is_protected(&u, &p)) {
      skip_person(p, m, skip_reason::protected_user, "listed in policy.protected");
      return;
    }
    if (!p.active) {
      if (!u.active) {
        push_unchanged(pi);
      } else if (cfg_.policy.on_terminated == config::leaver_action::deactivate) {
        user_op op = person_base(p, op_kind::deactivate, m);
        op.changes.push_back({std::string{bitrix::field::active}, "Y", "N", std::string{"N"}});
        op.reason = "terminated: " + p.inactive_reason;
        push(std::move(op));
      } else {
        skip_person(p, m, skip_reason::policy,
                    "terminated in the source (" + p.inactive_reason + ") and policy.on_terminated is ignore");
      }
      return;
    }
    const resolved_departments& d = departments_of(p);
    if (!departments_known(p, m, d)) return;
    std::vector<field_change> changes = diff_person(p, &u, d);
    if (!u.active) {
      if (!cfg_.policy.reactivate) {
        skip_person(p, m, skip_reason::policy, "dismissed on the portal and policy.reactivate is false");
        return;
      }
      user_op op = person_base(p, op_kind::reactivate, m);
      op.changes.push_back({std::string{bitrix::field::active}, "N", "Y", std::string{"Y"}});
      if (cfg_.policy.update) {
        op.needs_departments = d.pending;
        for (auto& c : changes) op.changes.push_back(std::move(c));
      }
      op.reason = "active in the source, dismissed on the portal";
      push(std::move(op));
      return;
    }
    if (changes.empty()) {
      push_unchanged(pi);
      return;
    }
    if (!cfg_.policy.update) {
      skip_person(p, m, skip_reason::policy,
                  std::to_string(changes.size()) + " field(s) differ and policy.update is false");
      return;
    }
    user_op op = person_base(p, op_kind::update, m);
    op.changes = std::move(changes);
    op.needs_departments = d.pending;
    push(std::move(op));
  }

  // Unchanged people are the bulk of a plan: listed while their records are still in cache, in key
  // order as person_op() is called (the capacity of one entry per person costs no RAM until used).
  void push_unchanged(std::uint32_t pi) {
    if (unchanged_.capacity() == 0) common::reserve_huge(unchanged_, people_.size());
    unchanged_.push_back({people_[pi].key, id_of(users_[matches_[pi].user]), matches_[pi].by});
  }

  /// Portal users no person claimed: missing ones managed by b24sync, and why others are left alone.
  void portal_ops() {
    std::vector<std::int64_t> rejected_ids;
    for (const auto& key : in_.desired->rejected_keys)
      if (auto it = in_.identities.key_to_user.find(key); it != in_.identities.key_to_user.end())
        rejected_ids.push_back(it->second);
    std::sort(rejected_ids.begin(), rejected_ids.end());
    std::vector<std::string> sorted_keys;  // the contract says sorted; a hand-built input may not be
    const std::vector<std::string>* rkp = &in_.desired->rejected_keys;
    if (!std::is_sorted(rkp->begin(), rkp->end())) {
      sorted_keys = *rkp;
      std::sort(sorted_keys.begin(), sorted_keys.end());
      rkp = &sorted_keys;
    }
    const auto& rk = *rkp;
    const bool deactivate_missing = cfg_.policy.on_missing == config::leaver_action::deactivate;
    for (std::uint32_t u : by_id_) {
      const portal_user& pu = users_[u];
      const bool claimed = claim_[u] != none;
      if (!claimed) digest_.add_user(pu);
      const bool managed = claimed || in_.identities.managed.contains(id_of(pu)) ||
                           (identity_is_uf_ && !identity_[u].empty());
      if (managed && pu.active) ++managed_active_;
      if (claimed || touched_[u] || !pu.active || !deactivate_missing) continue;
      user_op op;
      op.kind = op_kind::skip;
      op.user_id = id_of(pu);
      op.email = std::string{pu.email()};
      op.name = display_name(pu.name(), pu.last_name());
      const std::string_view idv = identity_[u];
      if (is_webhook(pu)) {
        op.skip = skip_reason::webhook_user;
        op.reason = "the webhook's own user is never deactivated";
      } else if (is_protected(&pu, nullptr)) {
        op.skip = skip_reason::protected_user;
        op.reason = "listed in policy.protected";
      } else if (!managed) {
        op.skip = skip_reason::not_managed;
        op.reason = "not in any source and not managed by b24sync";
      } else if ((!idv.empty() && std::binary_search(rk.begin(), rk.end(), idv)) ||
                 std::binary_search(rejected_ids.begin(), rejected_ids.end(), id_of(pu))) {
        op.skip = skip_reason::rejected_row;
        op.reason = "the source rows of this person were rejected: not deactivated";
      } else if (const std::size_t n = in_.desired->unattributed_rejects; n > 0) {
        op.skip = skip_reason::rejected_row;
        op.reason = std::to_string(n) + (n == 1 ? " source row" : " source rows") +
                    " could not be read and this person may be among them: not deactivated until the source "
                    "reads cleanly";
      } else {
        op.kind = op_kind::deactivate;
        op.reason = "missing from all sources";
        op.changes.push_back({std::string{bitrix::field::active}, "Y", "N", std::string{"N"}});
      }
      push(std::move(op));
    }
  }

  // Ops go to one bucket per kind. Portal-user ops (empty key) are pushed after all person ops;
  // assemble() puts them first within their kind, so "by key, then user ID" holds without sorting.
  void push(user_op op) {
    auto& b = op.key.empty() ? keyless_[static_cast<std::size_t>(op.kind)] : buckets_[static_cast<std::size_t>(op.kind)];
    b.push_back(std::move(op));
  }

  /// Orders the departments the emitted ops need and rewrites their "$dept:<n>" placeholders from
  /// discovery order to the final department_ops indexes.
  void number_departments() {
    if (depts_.pending_count() == 0) return;
    std::vector<bool> used(depts_.pending_count(), false);
    auto each_op = [&](auto&& f) {
      for (auto& b : buckets_)
        for (auto& op : b) f(op);
      for (auto& b : keyless_)
        for (auto& op : b) f(op);
    };
    each_op([&](user_op& op) {
      for (auto i : op.needs_departments) used[i] = true;
    });
    const std::vector<std::size_t> remap = depts_.finalize(std::move(used));
    each_op([&](user_op& op) {
      if (op.needs_departments.empty()) return;
      for (auto& i : op.needs_departments) i = remap[i];
      for (auto& c : op.changes) {
        auto* list = std::get_if<std::vector<std::string>>(&c.value);
        if (list == nullptr) continue;
        for (auto& v : *list)
          if (v.starts_with(placeholder)) v = placeholder + std::to_string(remap[std::stoul(v.substr(placeholder.size()))]);
      }
    });
  }

  void assemble(plan& out) {
    out.departments = depts_.ops();
    out.unchanged = std::move(unchanged_);
    std::size_t total = 0;
    for (std::size_t k = 0; k < kinds; ++k) total += buckets_[k].size() + keyless_[k].size();
    out.users.reserve(total);
    for (std::size_t k = 0; k < kinds; ++k) {
      for (auto& op : keyless_[k]) out.users.push_back(std::move(op));
      for (auto& op : buckets_[k]) out.users.push_back(std::move(op));
      std::vector<user_op>{}.swap(buckets_[k]);
      std::vector<user_op>{}.swap(keyless_[k]);
    }
    // People arrive in key order and portal-only ops (no key) in ID order, so this only sorts
    // hand-built input (say, two people with one key).
    auto order = [](const user_op& a, const user_op& b) {
      return std::tie(a.kind, a.key, a.user_id) < std::tie(b.kind, b.key, b.user_id);
    };
    if (!std::is_sorted(out.users.begin(), out.users.end(), order))
      std::stable_sort(out.users.begin(), out.users.end(), order);
    plan_counts& c = out.counts;
    c.unchanged = out.unchanged.size();
    for (const auto& op : out.users) {
      switch (op.kind) {
        case op_kind::create: ++c.create; break;
        case op_kind::update: ++c.update; break;
        case op_kind::reactivate: ++c.reactivate; break;
        case op_kind::deactivate: ++c.deactivate; break;
        case op_kind::unchanged: ++c.unchanged; break;
        case op_kind::skip: ++c.skip; break;
      }
      if (op.kind != op_kind::skip && op.kind != op_kind::unchanged) c.field_changes += op.changes.size();
    }
    c.departments = out.departments.size();
    c.source_people = people_.size();
    c.source_rejects = in_.desired->rejects.size() + rejects_.size();
    c.portal_users = users_.size();
    c.managed_users = managed_active_;
    out.rejects = in_.desired->rejects;
    out.rejects.insert(out.rejects.end(), std::make_move_iterator(rejects_.begin()),
                       std::make_move_iterator(rejects_.end()));
    std::stable_sort(out.rejects.begin(), out.rejects.end(), [](const auto& a, const auto& b) {
      return std::tie(a.where.location, a.where.line) < std::tie(b.where.location, b.where.line);
    });
    out.warnings = in_.warnings;
    for (auto& w : depts_.warnings()) out.warnings.push_back(std::move(w));
  }

  static constexpr std::size_t kinds = 6;
  static inline const std::string placeholder{department_placeholder_prefix};  // + department_ops index

  const diff_input& in_;
  const config::config& cfg_;
  const std::vector<desired_person>& people_;
  const std::vector<portal_user>& users_;
  department_resolver depts_;
  std::vector<field_spec> specs_;              // mapping order, then the identity field
  std::vector<std::size_t> by_name_;           // specs_ indexes sorted by field name
  std::vector<std::size_t> tags_;              // diff_person's change -> spec position buffer
  std::vector<std::uint32_t> found_;           // match_one's buffer
  const config::field_name_id email_id_ = config::intern_field_name(bitrix::field::email);
  portal_slot identity_slot_ = portal_slot::uf;
  bool identity_is_uf_ = true;

  std::vector<std::uint32_t> by_id_;           // user indexes in ID order
  std::vector<std::string_view> identity_;     // each user's identity value, trimmed
  detail::snapshot_digest digest_;             // snapshot_fingerprint(), fed by the person pass and portal_ops()
  std::deque<std::string> owned_;              // rendered identity values, lower-cased e-mails
  view_index identity_index_{users_.size()};
  std::vector<std::size_t> email_hash_;        // each user's lower-cased e-mail, hashed (index_users)
  std::vector<std::string_view> wanted_emails_;  // e-mails the first matching pass looked for
  bool email_pending_ = false;                 // match_one stopped at an e-mail look-up
  std::size_t key_hash_ = 0;                   // view_index::hash of the key match_one looks up
  std::optional<view_index> email_index_;      // see build_email_index()
  std::vector<std::int64_t> protected_ids_;

  std::vector<std::uint32_t> person_order_;    // people indexes by key
  std::vector<person_match> matches_;          // by person index
  std::unordered_map<std::uint32_t, std::string> conflicts_;  // person index -> why it is a conflict
  std::vector<unchanged_user> unchanged_;      // in key order (person_order_), moved into the plan
  std::vector<std::uint32_t> claim_;           // user -> first person matched to it
  std::map<std::uint32_t, std::vector<std::uint32_t>> extra_claims_;  // user -> further people
  std::vector<bool> touched_;                  // claimed by a conflict: neither edited nor deactivated
  std::size_t managed_active_ = 0;

  std::vector<std::int64_t> want_ids_, have_ids_;  // diff_field's department buffers
  resolved_departments depts_buffer_;               // departments_of's result, reused
  std::array<std::string_view, bitrix::user_text_count> user_texts_{};  // diff_person's user, decoded
  std::vector<std::string_view> levels_;            // resolve_value's path, reused

  std::array<std::vector<user_op>, kinds> buckets_;
  std::array<std::vector<user_op>, kinds> keyless_;
  std::vector<connectors::reject> rejects_;
};

}  // namespace

plan make_plan(const diff_input& in) {
  if (in.cfg == nullptr || in.desired == nullptr || in.portal == nullptr)
    throw std::invalid_argument("make_plan: cfg, desired and portal are required");
  engine e{in};
  return e.run();
}


}  // namespace b24sync::sync
