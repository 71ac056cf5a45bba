// The single-instance lock: the lock file and its PID, refusal in the same process (another open file
// description) and in a forked child, release on destruction, moves, errors.
#include "state/store.hpp"

#include "state_test_support.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

using namespace b24sync::state;
using b24sync::state::test::file_mode;
using b24sync::state::test::read_file;
using b24sync::state::test::temp_dir;
using b24sync::state::test::write_file;

namespace {

// Runs `body` in a forked child and returns its exit status (the child reports through it, and
// leaves with _exit so nothing of the test runner runs twice).
int in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int code = 99;  // an exception must not unwind into a second copy of the test runner
    try {
      code = body();
    } catch (const std::exception&) {
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Child exit codes.
constexpr int child_refused_and_named_parent = 10;
constexpr int child_refused_other_holder = 11;
constexpr int child_acquired = 12;
constexpr int child_threw = 13;

int child_try(const std::filesystem::path& state, pid_t parent) {
  try {
    std::string holder;
    auto lock = instance_lock::try_acquire(state, &holder);
    if (lock) return child_acquired;
    return holder == std::to_string(parent) ? child_refused_and_named_parent : child_refused_other_holder;
  } catch (const state_error&) {
    return child_threw;
  }
}

}  // namespace

TEST_CASE("instance_lock: acquiring writes our PID into <state>.lock, 0600, in new folders") {
  temp_dir d;
  const auto state = d.path() / "run" / "b24sync" / "state.db";
  auto lock = instance_lock::try_acquire(state);
  REQUIRE(lock);
  const auto lock_path = state.string() + ".lock";
  CHECK(read_file(lock_path) == std::to_string(::getpid()) + "\n");
  CHECK(file_mode(lock_path) == 0600);
  CHECK((file_mode(d.path() / "run") & 0077) == 0);
  CHECK_FALSE(std::filesystem::exists(state));  // the lock does not create the database
}

TEST_CASE("instance_lock: a second acquire in the same process fails and names us") {
  // flock belongs to the open file description, so a second open()+flock conflicts even here.
  temp_dir d;
  const auto state = d / "state.db";
  auto first = instance_lock::try_acquire(state);
  REQUIRE(first);
  std::string holder = "unchanged";
  auto second = instance_lock::try_acquire(state, &holder);
  CHECK_FALSE(second);
  CHECK(holder == std::to_string(::getpid()));
  CHECK_FALSE(instance_lock::try_acquire(state));  // holder may be null
}

TEST_CASE("instance_lock: a child process sees the lock held and who holds it") {
  temp_dir d;
  const auto state = d / "state.db";
  auto lock = instance_lock::try_acquire(state);
  REQUIRE(lock);
  const pid_t parent = ::getpid();
  CHECK(in_child([&] { return child_try(state, parent); }) == child_refused_and_named_parent);
}

TEST_CASE("instance_lock: released on destruction, for this process and for others") {
  temp_dir d;
  const auto state = d / "state.db";
  const pid_t parent = ::getpid();
  {
    auto lock = instance_lock::try_acquire(state);
    REQUIRE(lock);
    CHECK(in_child([&] { return child_try(state, parent); }) == child_refused_and_named_parent);
  }
  CHECK(in_child([&] { return child_try(state, parent); }) == child_acquired);
  auto again = instance_lock::try_acquire(state);
  CHECK(again);
  CHECK(std::filesystem::exists(state.string() + ".lock"));  // kept: deleting it would race
}

TEST_CASE("instance_lock: a lock held by a child is refused to the parent, with the child's PID") {
  temp_dir d;
  const auto state = d / "state.db";
  int ready[2];
  int finish[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(finish) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(finish[1]);
    int code = 1;
    try {
      auto lock = instance_lock::try_acquire(state);
      const char ok = lock ? 'y' : 'n';
      if (::write(ready[1], &ok, 1) == 1) {
        char c = 0;
        code = ::read(finish[0], &c, 1) == 1 ? 0 : 2;  // hold until the parent has looked
      }
    } catch (const std::exception&) {
      code = 3;
    }
    ::_exit(code);
  }
  // Only the child writes `ready` and reads `finish`: should it die early, the parent's read sees EOF
  // instead of waiting forever.
  ::close(ready[1]);
  ::close(finish[0]);
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  CHECK(ok == 'y');
  std::string holder;
  CHECK_FALSE(instance_lock::try_acquire(state, &holder));
  CHECK(holder == std::to_string(child));
  const char go = 'g';
  CHECK(::write(finish[1], &go, 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  ::close(ready[0]);
  ::close(finish[1]);
  // The child exited: the lock is free and the stale PID is replaced by ours.
  auto lock = instance_lock::try_acquire(state);
  REQUIRE(lock);
  CHECK(read_file(state.string() + ".lock") == std::to_string(::getpid()) + "\n");
}

TEST_CASE("instance_lock: a previous holder's longer PID text is replaced, not overwritten in part") {
  temp_dir d;
  const auto state = d / "state.db";
  write_file(state.string() + ".lock", "1234567890123\nleftover\n");
  auto lock = instance_lock::try_acquire(state);
  REQUIRE(lock);
  CHECK(read_file(state.string() + ".lock") == std::to_string(::getpid()) + "\n");
}

TEST_CASE("instance_lock: moving keeps the lock held, the moved-from object releases nothing") {
  temp_dir d;
  const auto state = d / "state.db";
  std::optional<instance_lock> outer;
  {
    auto lock = instance_lock::try_acquire(state);
    REQUIRE(lock);
    outer.emplace(std::move(*lock));
  }  // the moved-from lock is destroyed here
  CHECK_FALSE(instance_lock::try_acquire(state));
  auto other_state = d / "other.db";
  auto other = instance_lock::try_acquire(other_state);
  REQUIRE(other);
  *outer = std::move(*other);  // releases state.db's lock, now holds other.db's
  CHECK(instance_lock::try_acquire(state));
  CHECK_FALSE(instance_lock::try_acquire(other_state));
}

TEST_CASE("instance_lock: a lock file that cannot be created throws, naming the path") {
  temp_dir d;
  write_file(d / "file", "x");
  try {
    (void)instance_lock::try_acquire(d / "file" / "state.db");
    FAIL("no state_error");
  } catch (const state_error& e) {
    CHECK(std::string(e.what()).find((d / "file").string()) != std::string::npos);
  }
}
