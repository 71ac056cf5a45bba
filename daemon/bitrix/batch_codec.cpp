// batch: command strings, the JSON body, chunking, and the mapping of answers back to commands.
#include "bitrix/batch_codec.hpp"

#include "bitrix/php_query.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

const json::value* lookup(const json::value* map, std::string_view id, std::size_t pos) {
  return find_batch_entry(map, id, pos);
}

std::string text(const json::value* v) {
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

}  // namespace

const json::value* find_batch_entry(const json::value* map, std::string_view id, std::size_t pos) {
  if (map == nullptr) return nullptr;
  if (const auto* o = map->if_object()) {
    if (const auto* v = o->if_contains(id)) return v;
    return o->if_contains(std::to_string(pos));
  }
  if (const auto* a = map->if_array()) return pos < a->size() ? &(*a)[pos] : nullptr;
  return nullptr;
}

bool is_valid_command_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '_'; });
}

void assign_command_ids(std::span<command> cmds, std::string_view prefix) {
  for (std::size_t i = 0; i < cmds.size(); ++i)
    if (cmds[i].id.empty()) cmds[i].id = std::string(prefix) + std::to_string(i);
}

std::string encode_command(const command& c) {
  if (c.method.empty() || c.method.find_first_of("?&=/ ") != std::string::npos)
    throw std::invalid_argument("batch: bad method name: '" + c.method + "'");
  std::string query = encode_php_query(c.params);
  return query.empty() ? c.method : c.method + "?" + query;
}

std::string build_batch_body(std::span<const command> cmds, bool halt) {
  if (cmds.size() > max_batch_commands)
    throw std::invalid_argument("batch: " + std::to_string(cmds.size()) + " commands, at most 50 allowed");
  std::set<std::string_view> seen;
  json::object cmd;
  for (const auto& c : cmds) {
    if (!is_valid_command_id(c.id)) throw std::invalid_argument("batch: invalid command id '" + c.id + "'");
    if (!seen.insert(c.id).second) throw std::invalid_argument("batch: duplicate command id '" + c.id + "'");
    cmd[c.id] = encode_command(c);
  }
  json::object body;
  body["halt"] = halt ? 1 : 0;
  body["cmd"] = std::move(cmd);
  return json::serialize(body);
}

std::vector<std::span<const command>> split_batches(std::span<const command> cmds, std::size_t batch_size) {
  batch_size = std::clamp<std::size_t>(batch_size, 1, max_batch_commands);
  std::vector<std::span<const command>> out;
  for (std::size_t at = 0; at < cmds.size(); at += batch_size)
    out.push_back(cmds.subspan(at, std::min(batch_size, cmds.size() - at)));
  return out;
}

bool is_idempotent_batch(std::span<const command> cmds) noexcept {
  return std::all_of(cmds.begin(), cmds.end(),
                     [](const command& c) { return is_idempotent_method(c.method); });
}

std::vector<command_outcome> fail_all(std::span<const command> sent, const diagnostics& failure) {
  std::vector<command_outcome> out;
  out.reserve(sent.size());
  for (const auto& c : sent) {
    command_outcome o;
    o.id = c.id;
    o.method = c.method;
    o.error = failure;
    o.error.idempotent = is_idempotent_method(c.method);
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

// Both overloads: `take(res)` turns the command's entry in the `result` map into its value.
template <class Take>
std::vector<command_outcome> map_batch_result(std::span<const command> sent, const json::value& batch_result,
                                              const std::optional<time_info>& top_time, Take take) {
  const auto* top = batch_result.if_object();
  const json::value* results = top ? top->if_contains("result") : nullptr;
  if (top == nullptr || results == nullptr) {
    diagnostics d;
    d.kind = fault_kind::malformed_envelope;
    d.detail = "batch result has no `result` map";
    return fail_all(sent, d);
  }
  const json::value* errors = top->if_contains("result_error");
  const json::value* totals = top->if_contains("result_total");
  const json::value* nexts = top->if_contains("result_next");
  const json::value* times = top->if_contains("result_time");

  std::vector<command_outcome> out;
  out.reserve(sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const command& c = sent[i];
    const json::value* err = lookup(errors, c.id, i);
    const json::value* res = lookup(results, c.id, i);
    const bool failed = err != nullptr && !err->is_null();
    // The result is constructed in place (not assigned): a moved value keeps its storage that way.
    command_outcome o{c.id, c.method, !failed && res != nullptr,
                      !failed && res != nullptr ? take(*res) : json::value(), {}, {}, {}, {}, {}};
    o.error.idempotent = is_idempotent_method(c.method);
    if (failed) {
      o.error.kind = fault_kind::portal_error;
      if (const auto* eo = err->if_object()) {
        o.error.error = text(eo->if_contains("error"));
        o.error.description = text(eo->if_contains("error_description"));
        o.error.argument = text(eo->if_contains("argument"));
      } else {
        o.error.error = text(err);
      }
      if (top_time) o.error.operating_reset_at = top_time->operating_reset_at;
    } else if (res != nullptr) {
      if (const auto* v = lookup(totals, c.id, i)) o.total = json_to_int(*v);
      if (const auto* v = lookup(nexts, c.id, i)) o.next = json_to_int(*v);
      if (const auto* v = lookup(times, c.id, i)) o.time = parse_time_info(*v);
    } else {
      o.error.kind = fault_kind::not_executed;
      o.error.detail = "command missing from the batch answer";
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

std::vector<command_outcome> parse_batch_result(std::span<const command> sent, const json::value& batch_result,
                                                const std::optional<time_info>& top_time) {
  return map_batch_result(sent, batch_result, top_time,
                          [](const json::value& v) { return json::value(v, json::storage_ptr()); });
}

std::vector<command_outcome> parse_batch_result(std::span<const command> sent, json::value&& batch_result,
                                                const std::optional<time_info>& top_time) {
  // `batch_result` is ours: its entries may be moved from. An entry that two commands map to (an id
  // that is also another command's position, or a repeated id) is copied for each instead, so the
  // second one does not find it emptied.
  const auto* top = batch_result.if_object();
  const json::value* results = top ? top->if_contains("result") : nullptr;
  std::vector<const json::value*> entries;
  entries.reserve(sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) entries.push_back(lookup(results, sent[i].id, i));
  return map_batch_result(sent, batch_result, top_time, [&entries](const json::value& v) {
    if (std::count(entries.begin(), entries.end(), &v) > 1) return json::value(v);  // (in v's storage)
    return json::value(std::move(const_cast<json::value&>(v)));
  });
}

}  // namespace b24sync::bitrix
