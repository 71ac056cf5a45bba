// sync/departments.hpp (internal to the engine): the snapshot's department tree, path resolution
// (from the root or just below it) and the departments a plan creates, parents first. Pure.
#pragma once

#include "bitrix/user_fields.hpp"
#include "config/mapping.hpp"
#include "config/text.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace b24sync::sync::detail {

using bitrix::portal_department;
using config::field_value;

inline std::int64_t id_of(const portal_department& d) noexcept { return static_cast<std::int64_t>(d.id); }
inline std::string in_quotes(std::string_view s) { return "\"" + std::string{s} + "\""; }

/// A department path as reports show it: levels joined with " / ".
inline std::string path_text(std::span<const std::string_view> levels) {
  std::string s;
  for (std::size_t i = 0; i < levels.size(); ++i) (s += i ? " / " : "") += levels[i];
  return s;
}

// Departments: the snapshot's tree, path resolution (root-relative or from the root), and the
// departments the plan creates.

struct path_result {
  enum class state { found, create, unknown } st = state::unknown;
  std::int64_t id = 0;        // found
  std::size_t pending = 0;    // create: index into department_resolver::pending_
};

class department_resolver {
 public:
  explicit department_resolver(const std::vector<portal_department>& deps) {
    index_.reserve(deps.size());
    for (const auto& d : deps) index_.emplace(id_of(d), &d);
    for (const auto& d : deps) {
      const bool has_parent = d.parent && index_.contains(static_cast<std::int64_t>(*d.parent));
      const std::int64_t parent = has_parent ? static_cast<std::int64_t>(*d.parent) : 0;
      children_[parent].push_back({config::utf8_lower(config::collapse_spaces(d.name)), id_of(d)});
      if (!has_parent) roots_.push_back(id_of(d));
    }
    for (auto& [parent, list] : children_) std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.second < b.second;  // lowest ID first: ambiguity resolves to it
    });
    std::sort(roots_.begin(), roots_.end());
  }

  /// Full " / "-joined path of an existing department, from the root.
  const std::string& path_of(std::int64_t id) {
    auto it = paths_.find(id);
    if (it != paths_.end()) return it->second;
    std::vector<std::string_view> names;
    std::int64_t at = id;
    for (std::size_t guard = 0; guard <= index_.size(); ++guard) {  // a cycle in bad data ends here
      auto d = index_.find(at);
      if (d == index_.end()) break;
      names.push_back(d->second->name);
      if (!d->second->parent) break;
      at = static_cast<std::int64_t>(*d->second->parent);
    }
    std::string out;
    for (auto n = names.rbegin(); n != names.rend(); ++n) out += (out.empty() ? "" : " / ") + std::string{*n};
    return paths_.emplace(id, out.empty() ? "#" + std::to_string(id) : out).first->second;
  }

  /// Resolves one desired path (cached). With `create_missing`, missing levels become pending creates.
  path_result resolve(std::span<const std::string_view> levels, bool create_missing) {
    std::size_t h = create_missing ? 1 : 0;
    for (const auto& l : levels) h = (h ^ level_hash(l)) * 1099511628211ULL;
    auto& bucket = cache_[h];
    for (const auto& [key, create, r] : bucket)
      if (create == create_missing && std::equal(key.begin(), key.end(), levels.begin(), levels.end())) return r;
    config::department_path p{{levels.begin(), levels.end()}};
    path_result r = resolve_uncached(p, create_missing);
    bucket.push_back({std::move(p.levels), create_missing, r});
    return r;
  }

  /// Number of departments discovered missing so far (pending creates, discovery order).
  std::size_t pending_count() const noexcept { return pending_.size(); }

  /// Keeps the pending creates some op uses (and their parents), puts them in their final order
  /// (parents first, then by path) and returns old index -> new index (`unused` for dropped ones).
  std::vector<std::size_t> finalize(std::vector<bool> keep) {
    keep.resize(pending_.size(), false);
    for (std::size_t i = pending_.size(); i-- > 0;)  // a parent is always discovered before its child
      if (keep[i] && pending_[i].parent_pending) keep[*pending_[i].parent_pending] = true;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < pending_.size(); ++i)
      if (keep[i]) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(pending_[a].sort_key, pending_[a].display) < std::tie(pending_[b].sort_key, pending_[b].display);
    });
    std::vector<std::size_t> remap(pending_.size(), unused);
    for (std::size_t i = 0; i < order.size(); ++i) remap[order[i]] = i;
    std::vector<pending> sorted;
    sorted.reserve(order.size());
    for (std::size_t i : order) {
      sorted.push_back(pending_[i]);
      if (sorted.back().parent_pending) sorted.back().parent_pending = remap[*sorted.back().parent_pending];
    }
    final_ = std::move(sorted);
    return remap;
  }
  static constexpr std::size_t unused = static_cast<std::size_t>(-1);

  std::vector<department_op> ops() const {
    std::vector<department_op> out;
    out.reserve(final_.size());
    for (const auto& p : final_) out.push_back({p.display, p.name, p.parent_id, p.parent_pending});
    return out;
  }
  const std::string& pending_path(std::size_t i) const { return pending_[i].display; }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  // A cache key for one level, called once per level of every person's path: every byte counts
  // (names that differ only in the middle, "Магазин №0001 Москва" ... "№1999", must not share a
  // bucket), read 8 bytes at a time.
  static std::size_t level_hash(std::string_view l) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ l.size();
    std::size_t i = 0;
    for (; i + 8 <= l.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, l.data() + i, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    if (i < l.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, l.data() + i, l.size() - i);
      h = (h ^ w) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    return static_cast<std::size_t>(h);
  }
  struct pending {
    std::string display;                   // " / "-joined, existing levels in the portal's spelling
    std::string name;
    std::vector<std::string> sort_key;     // canonical levels from the root: a parent is a prefix
    std::optional<std::int64_t> parent_id;
    std::optional<std::size_t> parent_pending;
  };
  struct cache_entry {
    std::vector<std::string> levels;
    bool create_missing = false;
    path_result result;
  };

  // The child of `parent` (0 = top level) named `canon`, lowest ID on ambiguity (with a warning).
  std::optional<std::int64_t> child(std::int64_t parent, const std::string& canon, const config::department_path& p) {
    auto it = children_.find(parent);
    if (it == children_.end()) return std::nullopt;
    std::optional<std::int64_t> found;
    std::vector<std::int64_t> all;
    for (const auto& [name, id] : it->second)
      if (name == canon) {
        if (!found) found = id;
        all.push_back(id);
      }
    if (all.size() > 1) {
      std::string ids;
      for (auto id : all) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
      std::string w = "department path " + in_quotes(config::to_string(field_value{config::department_list{p}})) +
                      ": " + std::to_string(all.size()) + " departments are named " + in_quotes(canon) +
                      " (IDs " + ids + "); using " + std::to_string(*found);
      if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(std::move(w));
    }
    return found;
  }

  // Walks as deep as the portal's tree goes. Returns the deepest department found (0 = none) and
  // how many levels it consumed.
  std::pair<std::int64_t, std::size_t> walk(std::int64_t start, std::size_t from,
                                            const std::vector<std::string>& canon,
                                            const config::department_path& p) {
    std::int64_t at = start;
    std::size_t i = from;
    for (; i < canon.size(); ++i) {
      auto c = child(at, canon[i], p);
      if (!c) break;
      at = *c;
    }
    return {at, i};
  }

  path_result resolve_uncached(const config::department_path& p, bool create_missing) {
    std::vector<std::string> canon;
    canon.reserve(p.levels.size());
    for (const auto& l : p.levels) canon.push_back(config::utf8_lower(config::collapse_spaces(l)));
    if (canon.empty()) return {};
    // From the top (the first level names the root), else just below the (lowest-ID) root.
    const auto top = walk(0, 0, canon, p);
    if (top.second == canon.size()) return {path_result::state::found, top.first, 0};
    const std::int64_t root = roots_.empty() ? 0 : roots_.front();
    std::pair<std::int64_t, std::size_t> below{root, 0};
    if (root != 0) {
      below = walk(root, 0, canon, p);
      if (below.second == canon.size()) return {path_result::state::found, below.first, 0};
    }
    if (!create_missing) return {};
    // Missing levels hang under the deeper partial match (the root when nothing matched; the top
    // level only when the portal has no department at all).
    const bool from_top = top.second > 0 && top.second >= below.second;
    const std::int64_t anchor = from_top ? top.first : below.first;
    const std::size_t from = from_top ? top.second : below.second;
    // Create levels from[from..]; the first hangs under `anchor` (0: top level, only on an empty tree).
    std::optional<std::size_t> parent_pending;
    std::string key = std::to_string(anchor);
    std::string display = anchor != 0 ? path_of(anchor) : std::string{};
    std::vector<std::string> sort_key;
    if (anchor != 0) {
      for (std::int64_t at = anchor;;) {  // canonical names from the root down to the anchor
        auto d = index_.find(at);
        if (d == index_.end()) break;
        sort_key.insert(sort_key.begin(), config::utf8_lower(config::collapse_spaces(d->second->name)));
        if (!d->second->parent || sort_key.size() > index_.size()) break;
        at = static_cast<std::int64_t>(*d->second->parent);
      }
    }
    std::size_t last = 0;
    for (std::size_t i = from; i < canon.size(); ++i) {
      key += "/" + canon[i];
      display += (display.empty() ? "" : " / ") + p.levels[i];
      sort_key.push_back(canon[i]);
      auto it = pending_by_key_.find(key);
      if (it == pending_by_key_.end()) {
        pending np{display, p.levels[i], sort_key, std::nullopt, parent_pending};
        if (!parent_pending && anchor != 0) np.parent_id = anchor;
        pending_.push_back(std::move(np));
        it = pending_by_key_.emplace(key, pending_.size() - 1).first;
      }
      last = it->second;
      parent_pending = last;
    }
    return {path_result::state::create, 0, last};
  }

  std::unordered_map<std::int64_t, const portal_department*> index_;
  std::unordered_map<std::int64_t, std::vector<std::pair<std::string, std::int64_t>>> children_;
  std::vector<std::int64_t> roots_;
  std::unordered_map<std::int64_t, std::string> paths_;
  std::unordered_map<std::size_t, std::vector<cache_entry>> cache_;
  std::vector<pending> pending_;  // discovery order
  std::vector<pending> final_;    // after finalize()
  std::unordered_map<std::string, std::size_t> pending_by_key_;
  std::vector<std::string> warnings_;
};

/// One desired UF_DEPARTMENT value, resolved.
struct resolved_departments {
  std::vector<std::int64_t> ids;              // existing, desired order, unique
  std::vector<std::size_t> pending;           // to create (department_ops indexes), unique
  std::vector<std::string> unknown;           // paths neither found nor creatable
};

}  // namespace b24sync::sync::detail
