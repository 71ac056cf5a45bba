// Unit tests of find_drift (`sync --plan`): a reviewed plan against one made from a fresh snapshot.
#include "sync/drift.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace b24sync::sync;

namespace {

user_op write(op_kind kind, std::string key, std::optional<std::int64_t> id, std::vector<field_change> changes) {
  user_op op;
  op.kind = kind;
  op.key = std::move(key);
  op.user_id = id;
  op.email = "anna@corp.ru";
  op.changes = std::move(changes);
  return op;
}

field_change change(std::string field, std::string before, std::string after) {
  return {std::move(field), std::move(before), after, after};
}

plan reviewed_plan() {
  plan p;
  p.snapshot_fingerprint = "aaaa";
  p.users.push_back(write(op_kind::create, "1", std::nullopt, {change("EMAIL", "", "new@corp.ru")}));
  p.users.push_back(write(op_kind::update, "7", 10, {change("WORK_POSITION", "Engineer", "Lead")}));
  p.unchanged.push_back({"8", 11, match_kind::identity_field});
  return p;
}

}  // namespace

TEST_CASE("drift: equal fingerprints short-cut to no drift") {
  const plan reviewed = reviewed_plan();
  plan fresh;  // even an empty fresh plan: the portal is known to be the same
  fresh.snapshot_fingerprint = "aaaa";
  CHECK(find_drift(reviewed, fresh).empty());
}

TEST_CASE("drift: the same writes with the same before values are no drift") {
  const plan reviewed = reviewed_plan();
  plan fresh = reviewed_plan();
  fresh.snapshot_fingerprint = "bbbb";  // someone else changed another user
  CHECK(find_drift(reviewed, fresh).empty());
}

TEST_CASE("drift: a reviewed update now unchanged (done by hand) is named") {
  const plan reviewed = reviewed_plan();
  plan fresh = reviewed_plan();
  fresh.snapshot_fingerprint = "bbbb";
  fresh.users.pop_back();
  fresh.unchanged.push_back({"7", 10, match_kind::identity_field});
  CHECK(find_drift(reviewed, fresh) ==
        std::vector<std::string>{"7 (user 10) <anna@corp.ru>: reviewed for update, now the plan says unchanged"});
}

TEST_CASE("drift: a changed before value, a vanished user and a create now matched are each named") {
  const plan reviewed = reviewed_plan();
  SUBCASE("before value") {
    plan fresh = reviewed_plan();
    fresh.snapshot_fingerprint = "bbbb";
    fresh.users[1].changes[0].before = "Manager";
    CHECK(find_drift(reviewed, fresh) ==
          std::vector<std::string>{"7 (user 10) <anna@corp.ru>: WORK_POSITION was \"Engineer\" when reviewed, "
                                   "now \"Manager\""});
  }
  SUBCASE("user gone") {
    plan fresh = reviewed_plan();
    fresh.snapshot_fingerprint = "bbbb";
    fresh.users.pop_back();
    CHECK(find_drift(reviewed, fresh) ==
          std::vector<std::string>{"7 (user 10) <anna@corp.ru>: reviewed for update, but the user is no longer on "
                                   "the portal as planned"});
  }
  SUBCASE("create now matched") {
    plan fresh = reviewed_plan();
    fresh.snapshot_fingerprint = "bbbb";
    fresh.users.erase(fresh.users.begin());
    CHECK(find_drift(reviewed, fresh) ==
          std::vector<std::string>{"1 <anna@corp.ru>: reviewed as a new user, but the portal now has a match for them"});
  }
}
