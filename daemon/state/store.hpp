// state/store.hpp: the SQLite state store (WAL): runs, the operation journal, identities (HR key <->
// portal user ID) and the OAuth refresh token; plus the single-instance lock next to it.
// Synchronous and small: every call is one short transaction. Not thread-safe; one store per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace b24sync::state {

/// The store cannot be opened, migrated or written. what() names the file and SQLite's message.
class state_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Current schema version (PRAGMA user_version); open() migrates older files forward.
inline constexpr int schema_version = 1;

enum class run_mode { plan, sync, daemon };
enum class run_outcome { running, ok, changes, guard_tripped, partial_failure, failed, interrupted };

struct run_record {
  std::int64_t id = 0;
  std::string started_at;   ///< ISO-8601 UTC
  std::string finished_at;  ///< "" while running (or after a crash)
  run_mode mode = run_mode::sync;
  run_outcome outcome = run_outcome::running;
  int exit_code = 0;
  std::size_t source_rows = 0;    ///< data rows read across sources
  std::size_t source_people = 0;  ///< desired people after mapping (the min_source_ratio baseline)
  std::size_t rejects = 0;
  std::size_t created = 0, updated = 0, reactivated = 0, deactivated = 0, failed = 0;
  std::string message;  ///< one line: guard reason, fatal error (no secrets)
};

enum class journal_state {
  intent,     ///< recorded before sending
  done,       ///< confirmed by the portal
  failed,     ///< permanent failure (error code kept)
  ambiguous,  ///< sent, no answer; resolved by looking before any resend
  resolved,   ///< an ambiguous/intent entry settled by a later look at the portal
};

struct journal_entry {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string op;                        ///< "create", "update", "reactivate", "deactivate", "department"
  std::string key;                       ///< HR key (or department path)
  std::optional<std::int64_t> user_id;   ///< target, or the ID the portal gave a create
  std::string email;                     ///< for resolving an ambiguous create by e-mail
  std::string payload;                   ///< the fields sent, JSON (no secrets)
  journal_state state = journal_state::intent;
  std::string error;                     ///< portal error code / description when failed
  unsigned attempts = 0;
  std::string updated_at;                ///< ISO-8601 UTC
};

struct identity {
  std::string key;         ///< HR key
  std::int64_t user_id = 0;
  bool managed = true;     ///< b24sync created it or matched it to a key
  std::string first_seen;  ///< ISO-8601 UTC
  std::string last_seen;
};

class store {
 public:
  /// Opens (creating folders and file as needed) and migrates the database; WAL mode, foreign keys
  /// on, a busy timeout. Throws state_error.
  static store open(const std::filesystem::path& path);
  /// An in-memory store (tests).
  static store open_memory();
  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  // --- runs
  std::int64_t begin_run(run_mode mode, const std::string& started_at);
  /// By r.id: outcome, counts, finished_at, message (mode and started_at stay); an unknown id throws.
  void finish_run(const run_record& r);
  std::optional<run_record> last_successful_run() const;  ///< outcome ok/changes, newest
  std::vector<run_record> recent_runs(std::size_t limit) const;  ///< newest first

  // --- journal
  /// Records e as given (e.id ignored; e.state normally `intent`); returns the entry's id. e.run_id
  /// must name a run from begin_run (a foreign key): 0 or an unknown run throws state_error.
  std::int64_t journal_intent(const journal_entry& e);
  /// Sets state, error, attempts, updated_at; user_id only when given (nullopt keeps the intent's
  /// target). An unknown id throws state_error (and rolls back the whole batch in journal_updates).
  void journal_update(std::int64_t id, journal_state s, std::optional<std::int64_t> user_id,
                      const std::string& error, unsigned attempts, const std::string& at);
  /// Batched forms of the two above in one transaction (the executor records 50 at a time).
  std::vector<std::int64_t> journal_intents(const std::vector<journal_entry>& es);
  struct journal_result {
    std::int64_t id = 0;
    journal_state state = journal_state::done;
    std::optional<std::int64_t> user_id;
    std::string error;
    unsigned attempts = 0;
  };
  void journal_updates(const std::vector<journal_result>& rs, const std::string& at);
  /// Entries still `intent` or `ambiguous` from any run (what a crashed run left behind), oldest first.
  std::vector<journal_entry> unfinished_journal() const;
  std::vector<journal_entry> journal_for_run(std::int64_t run_id) const;  ///< in journalling order

  // --- identities
  std::map<std::string, std::int64_t> identities_by_key() const;
  std::set<std::int64_t> managed_users() const;
  /// Insert or update (last_seen = at; first_seen kept). user_id and managed are overwritten with the
  /// values given: every call states the flag, so a key matched again is passed true and an account
  /// handed back to the admins is released with false.
  void remember(const std::string& key, std::int64_t user_id, bool managed, const std::string& at);
  /// remember() for each, in one transaction; the identities' own first_seen/last_seen are ignored.
  void remember_all(const std::vector<identity>& ids, const std::string& at);
  /// One identity with its first/last seen times; nullopt when the key was never remembered.
  std::optional<identity> find_identity(const std::string& key) const;

  // --- secrets kept for the next run
  std::optional<std::string> oauth_refresh_token() const;
  void set_oauth_refresh_token(const std::string& token);  ///< "" forgets it

  [[nodiscard]] const std::filesystem::path& path() const noexcept;  ///< ":memory:" for open_memory()

 private:
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// An exclusive, non-blocking flock on `<state path>.lock`, held for the object's life, so a cron
/// sync and the daemon never overlap. The lock belongs to the open file description: a second
/// try_acquire in the same process fails too; a child made by fork() without exec shares it (the fd
/// is O_CLOEXEC, so exec'd programs do not). The file is never deleted (unlinking it would let two
/// processes lock two different inodes).
class instance_lock {
 public:
  /// nullopt when another process holds it (holder's PID, if readable, in `holder`). Throws
  /// state_error when the lock file cannot be created.
  static std::optional<instance_lock> try_acquire(const std::filesystem::path& state_path,
                                                  std::string* holder = nullptr);
  instance_lock(instance_lock&&) noexcept;
  instance_lock& operator=(instance_lock&&) noexcept;
  ~instance_lock();

 private:
  explicit instance_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::string_view to_string(run_mode m) noexcept;
std::string_view to_string(run_outcome o) noexcept;
std::string_view to_string(journal_state s) noexcept;

}  // namespace b24sync::state
