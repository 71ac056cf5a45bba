// bitrix/batch_stream.cpp: a SAX handler for batch answers: user.get entries become rows, the rest a DOM.
#include "bitrix/batch_stream.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

bool is_blank(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// What a container (or scalar) in the answer is, from where it sits.
enum class role : std::uint8_t {
  dom,          // built into the DOM
  top,          // the answer object (DOM)
  top_result,   // its `result` object (DOM): the batch's maps
  results_map,  // the batch's `result` map (DOM, except streamed entries)
  entry,        // a streamed user.get entry: its elements are rows; a placeholder `[]` in the DOM
  row,          // one user row, read by user_row_reader
  field,        // an array/object value of a row field, built as a small DOM of its own
  skipped,      // an element of an entry that is not a row, and everything inside it
};

struct frame {
  role what;
  bool is_array;
  std::size_t index = 0;  // arrays: elements begun so far
};

// The user.get commands of the batch, as find_batch_entry would look them up.
struct designation {
  std::set<std::string, std::less<>> keys;  // ids, and positions as numeric keys
  std::vector<bool> positions;              // by index, for a `result` map sent as a JSON array

  explicit designation(std::span<const command> sent) : positions(sent.size(), false) {
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (sent[i].method != method::user_get) continue;
      keys.insert(sent[i].id);
      keys.insert(std::to_string(i));
      positions[i] = true;
    }
  }
};

class batch_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  batch_handler(json::storage_ptr sp, std::span<const command> sent)
      : sp_(std::move(sp)), dom_(sp_), field_(sp_), wanted_(sent) {
    stack_.reserve(16);
  }

  json::value take_document() { return dom_.release(); }
  std::vector<streamed_page> take_pages() { return std::move(pages_); }

  bool on_document_begin(json::error_code&) {
    dom_.reset(sp_);
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    begin_container(false);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    begin_container(true);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    end_container(n);
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    end_container(n);
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (!key_in_parts_) key_.clear();
    key_in_parts_ = true;
    key_.append(s.data(), s.size());
    if (auto* st = stack_for_current()) st->push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (key_in_parts_) {
      key_.append(s.data(), s.size());
    } else {
      key_.assign(s.data(), s.size());
    }
    key_in_parts_ = false;
    if (auto* st = stack_for_current()) st->push_key(s);
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    const role r = scalar_role();
    if (r == role::row) {
      if (!str_in_parts_) str_.clear();
      str_in_parts_ = true;
      str_.append(s.data(), s.size());
    } else if (auto* st = stack_for(r)) {
      st->push_chars(s);
    }
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      if (str_in_parts_) {
        str_.append(s.data(), s.size());
        reader_->on_string(key_, str_);
      } else {
        reader_->on_string(key_, std::string_view(s.data(), s.size()));
      }
    } else if (auto* st = stack_for(r)) {
      st->push_string(s);
    }
    str_in_parts_ = false;
    return true;
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      reader_->on_int64(key_, i);
    } else if (auto* st = stack_for(r)) {
      st->push_int64(i);
    }
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      reader_->on_uint64(key_, u);
    } else if (auto* st = stack_for(r)) {
      st->push_uint64(u);
    }
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      reader_->on_double(key_, d);
    } else if (auto* st = stack_for(r)) {
      st->push_double(d);
    }
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      reader_->on_bool(key_, b);
    } else if (auto* st = stack_for(r)) {
      st->push_bool(b);
    }
    return true;
  }
  bool on_null(json::error_code&) {
    const role r = begin_scalar();
    if (r == role::row) {
      reader_->on_null(key_);
    } else if (auto* st = stack_for(r)) {
      st->push_null();
    }
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // The role of a value starting now inside the innermost container (before counting it).
  [[nodiscard]] role child_role(bool container, bool is_array) const {
    if (stack_.empty()) return container && !is_array ? role::top : role::dom;
    const frame& p = stack_.back();
    switch (p.what) {
      case role::top:
        return container && !is_array && !p.is_array && key_ == "result" ? role::top_result : role::dom;
      case role::top_result:
        return container && !p.is_array && key_ == "result" ? role::results_map : role::dom;
      case role::results_map:
        if (!container) return role::dom;
        if (p.is_array) return p.index < wanted_.positions.size() && wanted_.positions[p.index] ? role::entry : role::dom;
        return wanted_.keys.contains(key_) ? role::entry : role::dom;
      case role::entry:
        return container && !is_array ? role::row : role::skipped;
      case role::row:
        return role::field;  // a scalar is read right away; a container is built first
      case role::field:
        return role::field;
      case role::skipped:
        return role::skipped;
      case role::dom:
        return role::dom;
    }
    return role::dom;
  }

  [[nodiscard]] role scalar_role() const {
    const role r = child_role(false, false);
    if (r == role::field && stack_.back().what == role::row) return role::row;
    return r;
  }

  // A scalar value starts: count it in its array and say where it goes.
  role begin_scalar() {
    const role r = scalar_role();
    if (!stack_.empty()) {
      frame& p = stack_.back();
      if (p.what == role::entry) pages_.back().page.not_a_list = true;  // a scalar where a row should be
      if (p.is_array) ++p.index;
    }
    return r;
  }

  // The value stack a value of role `r` is built in, if any.
  json::value_stack* stack_for(role r) {
    switch (r) {
      case role::dom:
      case role::top:
      case role::top_result:
      case role::results_map:
        return &dom_;
      case role::field:
        return &field_;
      default:
        return nullptr;
    }
  }

  // The value stack the keys of the innermost object go to, if any.
  json::value_stack* stack_for_current() {
    if (stack_.empty()) return nullptr;
    const role r = stack_.back().what;
    return r == role::entry ? nullptr : stack_for(r);
  }

  void begin_container(bool is_array) {
    const role r = child_role(true, is_array);
    if (!stack_.empty()) {
      frame& p = stack_.back();
      if (r == role::entry) {
        start_page(p);
      } else if (r == role::row) {
        auto& rows = pages_.back().page.rows;
        rows.emplace_back();
        reader_.emplace(rows.back());
      } else if (r == role::skipped && p.what == role::entry) {
        pages_.back().page.not_a_list = true;
      } else if (r == role::field && p.what == role::row) {
        field_key_ = key_;
        field_.reset(sp_);
      }
      if (p.is_array) ++p.index;
    }
    if (r == role::results_map) pages_.clear();  // a repeated `result` map replaces the earlier one
    stack_.push_back(frame{r, is_array});
  }

  void start_page(const frame& map) {
    streamed_page sp;
    if (map.is_array) {
      sp.position = map.index;
    } else {
      sp.key = key_;
      // A key given twice: the DOM keeps the last value, and so do we.
      std::erase_if(pages_, [&](const streamed_page& p) { return p.key == key_; });
    }
    sp.page.rows.reserve(50);  // the portal's page size
    pages_.push_back(std::move(sp));
  }

  void end_container(std::size_t n) {
    const frame f = stack_.back();
    stack_.pop_back();
    switch (f.what) {
      case role::dom:
      case role::top:
      case role::top_result:
      case role::results_map:
        if (f.is_array) {
          dom_.push_array(n);
        } else {
          dom_.push_object(n);
        }
        break;
      case role::entry:
        dom_.push_array(0);  // the placeholder parse_streamed_batch_result finds the rows by
        break;
      case role::row: {
        auto& page = pages_.back().page;
        const std::error_code ec = reader_->finish();
        reader_.reset();
        if (ec || page.row_error) {  // rows after a failed one are dropped, as user_from_json's caller stops there
          if (!page.row_error) page.row_error = ec;
          page.rows.pop_back();
        }
        break;
      }
      case role::field:
        if (f.is_array) {
          field_.push_array(n);
        } else {
          field_.push_object(n);
        }
        if (stack_.back().what == role::row) reader_->on_value(field_key_, field_.release());
        break;
      case role::skipped:
        break;
    }
  }

  json::storage_ptr sp_;
  json::value_stack dom_;
  json::value_stack field_;
  designation wanted_;
  std::vector<frame> stack_;
  std::string key_;        // the innermost object's current key, joined from its parts
  std::string str_;        // a row's string value, joined from its parts
  std::string field_key_;  // the row key whose array/object value is being built
  bool key_in_parts_ = false;
  bool str_in_parts_ = false;
  std::vector<streamed_page> pages_;
  std::optional<user_row_reader> reader_;
};

}  // namespace

streamed_batch parse_batch_streaming(int http_status, std::string_view body, bool idempotent_request,
                                     std::span<const command> sent) {
  streamed_batch out;
  if (is_blank(body)) {
    out.env = envelope_from_parsed(http_status, body, idempotent_request, {}, {});
    return out;
  }
  // One bump-pointer arena per answer, as parse_envelope uses: the DOM part is small now, but it holds
  // department pages and every command's maps.
  json::basic_parser<batch_handler> parser(json::parse_options(), json::make_shared_resource<json::monotonic_resource>(),
                                           sent);
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = json::error::extra_data;  // what json::parse reports
  json::value doc = ec ? json::value() : parser.handler().take_document();
  out.env = envelope_from_parsed(http_status, body, idempotent_request, std::move(doc), ec);
  if (out.env) out.pages = parser.handler().take_pages();
  return out;
}

std::vector<command_outcome> parse_streamed_batch_result(std::span<const command> sent, response&& res,
                                                         std::vector<streamed_page>&& pages) {
  // Where each streamed entry sits in the final DOM: the same lookup then tells which command it answers.
  const auto* top = res.result.if_object();
  const json::value* results = top ? top->if_contains("result") : nullptr;
  std::vector<const json::value*> slot_of_page(pages.size(), nullptr);
  if (results != nullptr) {
    for (std::size_t k = 0; k < pages.size(); ++k) {
      if (const auto* a = results->if_array()) {
        if (pages[k].key.empty() && pages[k].position < a->size()) slot_of_page[k] = &(*a)[pages[k].position];
      } else if (const auto* o = results->if_object()) {
        slot_of_page[k] = o->if_contains(pages[k].key);
      }
    }
  }
  std::vector<const json::value*> slot_of_command(sent.size(), nullptr);
  for (std::size_t i = 0; i < sent.size(); ++i) slot_of_command[i] = find_batch_entry(results, sent[i].id, i);

  auto outcomes = parse_batch_result(sent, std::move(res.result), res.time);
  std::vector<std::size_t> page_of(sent.size(), pages.size());  // pages.size(): none
  std::vector<std::size_t> uses(pages.size(), 0);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (!outcomes[i].ok || sent[i].method != method::user_get || slot_of_command[i] == nullptr) continue;
    for (std::size_t k = 0; k < pages.size(); ++k) {
      if (slot_of_page[k] != slot_of_command[i]) continue;
      page_of[i] = k;
      ++uses[k];
      break;
    }
  }
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const std::size_t k = page_of[i];
    if (k == pages.size()) continue;
    // Two commands on one entry (a repeated id): all but the last get a copy.
    if (--uses[k] > 0) {
      outcomes[i].users = std::make_shared<user_page>(pages[k].page);
    } else {
      outcomes[i].users = std::make_shared<user_page>(std::move(pages[k].page));
    }
  }
  return outcomes;
}

}  // namespace b24sync::bitrix
