// state/store.cpp: the SQLite state store — opening (folders, file mode, pragmas), the ordered schema
// migrations, cached prepared statements, and the runs / journal / identities / secrets tables.
#include "state/store.hpp"

#include "state/private_dir.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace b24sync::state {

namespace detail {

void create_parent_dirs(const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  const fs::path parent = file.parent_path();
  if (parent.empty()) return;
  // Walk up to the first existing ancestor, then create downwards: std::filesystem::create_directories
  // would use 0777 (less umask), and these folders hold a file with a refresh token in it.
  std::vector<fs::path> missing;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec)) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;  // the root
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      throw state_error(it->string() + ": cannot create folder: " +
                        std::error_code(errno, std::generic_category()).message());
    }
  }
}

}  // namespace detail

namespace {

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

// The schema, one step per version. Append only: a released step is never edited, because files
// already past it would not run it again. Step N takes a file from user_version N-1 to N; all pending
// steps of one open() run in a single transaction together with the user_version bump.
struct migration {
  int to;
  const char* sql;
};
constexpr std::array migrations{
    migration{1, R"sql(
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at    TEXT    NOT NULL,
  finished_at   TEXT    NOT NULL DEFAULT '',
  mode          TEXT    NOT NULL,
  outcome       TEXT    NOT NULL DEFAULT 'running',
  exit_code     INTEGER NOT NULL DEFAULT 0,
  source_rows   INTEGER NOT NULL DEFAULT 0,
  source_people INTEGER NOT NULL DEFAULT 0,
  rejects       INTEGER NOT NULL DEFAULT 0,
  created       INTEGER NOT NULL DEFAULT 0,
  updated       INTEGER NOT NULL DEFAULT 0,
  reactivated   INTEGER NOT NULL DEFAULT 0,
  deactivated   INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  message       TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE journal (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  op         TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  user_id    INTEGER,
  email      TEXT    NOT NULL DEFAULT '',
  payload    TEXT    NOT NULL DEFAULT '',
  state      TEXT    NOT NULL,
  error      TEXT    NOT NULL DEFAULT '',
  attempts   INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX journal_by_state ON journal(state);
CREATE INDEX journal_by_run ON journal(run_id);
CREATE TABLE identities (
  key        TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL,
  managed    INTEGER NOT NULL,
  first_seen TEXT    NOT NULL,
  last_seen  TEXT    NOT NULL
);
CREATE INDEX identities_by_user_id ON identities(user_id);
CREATE TABLE secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
};
static_assert(migrations.back().to == schema_version, "the last migration must reach schema_version");

constexpr std::string_view oauth_refresh_token_name = "oauth_refresh_token";

std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}

// One SQLite connection with its statement cache. Errors name the file and carry sqlite3_errmsg,
// which describes the failure (constraint, I/O, lock) but never echoes bound values.
class connection {
 public:
  connection(std::filesystem::path path, db_ptr db) : path_(std::move(path)), db_(std::move(db)) {}

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }

  [[noreturn]] void fail(std::string_view what) const {
    throw state_error(path_.string() + ": " + std::string(what) + ": " + sqlite3_errmsg(db_.get()));
  }

  // Statements are keyed by their SQL text; callers pass string literals, so the key's storage
  // outlives the cache.
  sqlite3_stmt* prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      fail("cannot prepare a statement");
    }
    return cache_.emplace(sql, stmt_ptr(raw)).first->second.get();
  }

  // Several statements at once (migrations); not cached.
  void exec_script(const char* sql, std::string_view what) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
  }

 private:
  std::filesystem::path path_;
  db_ptr db_;
  std::unordered_map<std::string_view, stmt_ptr> cache_;
};

// A cached statement in use: binds, steps, reads columns; on destruction it is reset (so an unfinished
// SELECT does not keep a read transaction open and block WAL checkpoints) and its bindings cleared
// (text is bound without copying, and the bound strings die with the caller's frame).
class query {
 public:
  query(connection& c, std::string_view sql) : c_(c), s_(c.prepare(sql)) {}
  query(const query&) = delete;
  query& operator=(const query&) = delete;
  ~query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  query& bind_int(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  query& bind_text(int i, std::string_view v) {
    // data() of an empty view may be null, which SQLite would store as NULL; columns are NOT NULL.
    static constexpr char empty[] = "";
    check(sqlite3_bind_text64(s_, i, v.empty() ? empty : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  query& bind_opt(int i, std::optional<std::int64_t> v) {
    check(v ? sqlite3_bind_int64(s_, i, *v) : sqlite3_bind_null(s_, i));
    return *this;
  }

  /// True while a row is available.
  bool step(std::string_view what) {
    switch (sqlite3_step(s_)) {
      case SQLITE_ROW:
        return true;
      case SQLITE_DONE:
        return false;
      default:
        c_.fail(what);
    }
  }
  /// Runs a statement that returns no rows.
  void run(std::string_view what) {
    while (step(what)) {
    }
  }

  [[nodiscard]] std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  [[nodiscard]] std::optional<std::int64_t> opt_int64(int col) const {
    if (sqlite3_column_type(s_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(s_, col);
  }
  [[nodiscard]] std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    if (p == nullptr) return {};
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) c_.fail("cannot bind a parameter");
  }
  connection& c_;
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a transaction
// never fails half-way when upgrading a read lock. Rolled back unless committed.
class transaction {
 public:
  explicit transaction(connection& c) : c_(c) {
    query(c_, "BEGIN IMMEDIATE").run("cannot begin a transaction");
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    // An error may already have ended the transaction (SQLite rolls back on some I/O errors).
    if (!committed_ && sqlite3_get_autocommit(c_.handle()) == 0) {
      sqlite3_exec(c_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  void commit() {
    query(c_, "COMMIT").run("cannot commit");
    committed_ = true;
  }

 private:
  connection& c_;
  bool committed_ = false;
};

template <class E, std::size_t N>
E parse_enum(const connection& c, const std::array<E, N>& all, const std::string& s, std::string_view what) {
  for (E e : all) {
    if (to_string(e) == s) return e;
  }
  throw state_error(c.path().string() + ": unknown " + std::string(what) + " '" + s + "' in the database");
}

constexpr std::array all_modes{run_mode::plan, run_mode::sync, run_mode::daemon};
constexpr std::array all_outcomes{
    run_outcome::running,         run_outcome::ok,     run_outcome::changes,    run_outcome::guard_tripped,
    run_outcome::partial_failure, run_outcome::failed, run_outcome::interrupted};
constexpr std::array all_journal_states{journal_state::intent, journal_state::done, journal_state::failed,
                                        journal_state::ambiguous, journal_state::resolved};

std::int64_t to_db(std::size_t n) {
  return static_cast<std::int64_t>(n);
}
std::size_t size_from_db(std::int64_t n) {
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

constexpr const char* run_columns =
    "id, started_at, finished_at, mode, outcome, exit_code, source_rows, source_people, rejects, created, "
    "updated, reactivated, deactivated, failed, message";

run_record read_run(const connection& c, const query& q) {
  run_record r;
  r.id = q.int64(0);
  r.started_at = q.text(1);
  r.finished_at = q.text(2);
  r.mode = parse_enum(c, all_modes, q.text(3), "run mode");
  r.outcome = parse_enum(c, all_outcomes, q.text(4), "run outcome");
  r.exit_code = static_cast<int>(q.int64(5));
  r.source_rows = size_from_db(q.int64(6));
  r.source_people = size_from_db(q.int64(7));
  r.rejects = size_from_db(q.int64(8));
  r.created = size_from_db(q.int64(9));
  r.updated = size_from_db(q.int64(10));
  r.reactivated = size_from_db(q.int64(11));
  r.deactivated = size_from_db(q.int64(12));
  r.failed = size_from_db(q.int64(13));
  r.message = q.text(14);
  return r;
}

journal_entry read_journal(const connection& c, const query& q) {
  journal_entry e;
  e.id = q.int64(0);
  e.run_id = q.int64(1);
  e.op = q.text(2);
  e.key = q.text(3);
  e.user_id = q.opt_int64(4);
  e.email = q.text(5);
  e.payload = q.text(6);
  e.state = parse_enum(c, all_journal_states, q.text(7), "journal state");
  e.error = q.text(8);
  e.attempts = static_cast<unsigned>(q.int64(9));
  e.updated_at = q.text(10);
  return e;
}

int user_version(connection& c) {
  query q(c, "PRAGMA user_version");
  if (!q.step("cannot read the schema version")) c.fail("cannot read the schema version");
  return static_cast<int>(q.int64(0));
}

void refuse_newer(const connection& c, int found) {
  if (found > schema_version) {
    throw state_error(c.path().string() + " was written by a newer b24sync (schema " + std::to_string(found) +
                      " > " + std::to_string(schema_version) + ")");
  }
  if (found < 0) {
    throw state_error(c.path().string() + ": unknown schema version " + std::to_string(found));
  }
}

void migrate(connection& c) {
  int v = user_version(c);
  refuse_newer(c, v);
  if (v == schema_version) return;
  transaction t(c);
  v = user_version(c);  // again under the write lock: another process may have migrated meanwhile
  refuse_newer(c, v);
  for (const migration& m : migrations) {
    if (m.to <= v) continue;
    c.exec_script(m.sql, "cannot migrate to schema " + std::to_string(m.to));
    c.exec_script(("PRAGMA user_version = " + std::to_string(m.to)).c_str(),
                  "cannot record the schema version");
  }
  t.commit();
}

void configure(connection& c, bool in_memory) {
  // Another process (a cron `plan` next to the daemon) may hold the write lock briefly; wait for it
  // rather than fail at once.
  sqlite3_busy_timeout(c.handle(), 5000);
  {
    query q(c, "PRAGMA journal_mode=WAL");
    if (!q.step("cannot switch to WAL mode")) c.fail("cannot switch to WAL mode");
    const std::string mode = q.text(0);
    // An in-memory database reports "memory"; a file that stays in another mode (some network
    // filesystems lack the shared memory WAL needs) would lose the crash-safety this store promises.
    if (!in_memory && mode != "wal") {
      throw state_error(c.path().string() + ": cannot switch to WAL mode (journal_mode stays '" + mode +
                        "'; is the file on a network filesystem?)");
    }
  }
  // synchronous=NORMAL in WAL mode: a commit appends to the WAL without an fsync; the WAL is fsynced
  // at checkpoints. A committed transaction survives the process being killed (the WAL pages are in
  // the OS page cache and are replayed at the next open), which is the failure the journal is for.
  // A power loss or OS crash may roll back the last few transactions, never corrupt the file: an
  // intent lost that way may belong to a create that did reach the portal, and the next run finds that
  // user by the HR key user.add wrote into identity_field, so nothing is created twice. FULL would
  // add an fsync to every batch of 50 to cover only that case.
  c.exec_script("PRAGMA synchronous=NORMAL", "cannot set synchronous=NORMAL");
  c.exec_script("PRAGMA foreign_keys=ON", "cannot enable foreign keys");
}

// SQLite creates a new database 0644 (less umask); it holds an OAuth refresh token, so create it
// ourselves 0600 first. SQLite gives the -wal and -shm files the database file's mode.
void prepare_file(const std::filesystem::path& path) {
  detail::create_parent_dirs(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw state_error(path.string() + ": cannot open: " + errno_text());
  struct stat st {};
  const bool have_stat = ::fstat(fd, &st) == 0;
  // Check the header before touching an existing file's mode: a mistyped path must not chmod some
  // unrelated file, and "not a database" names the file more clearly than SQLite's message.
  if (have_stat && st.st_size > 0) {
    static constexpr std::string_view magic{"SQLite format 3\0", 16};
    char header[16] = {};
    const ssize_t n = ::pread(fd, header, sizeof header, 0);
    if (n != static_cast<ssize_t>(sizeof header) || std::string_view(header, sizeof header) != magic) {
      ::close(fd);
      throw state_error(path.string() + ": not a b24sync state database (not an SQLite 3 file)");
    }
  }
  // An existing file readable by group or others (made by hand, or by an older tool) is tightened.
  if (have_stat && (st.st_mode & 077) != 0 && ::fchmod(fd, st.st_mode & 0700) != 0) {
    const std::string err = errno_text();
    ::close(fd);
    throw state_error(path.string() + ": cannot restrict the file mode to the owner: " + err);
  }
  ::close(fd);
}

db_ptr open_db(const std::string& name, const std::filesystem::path& shown) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) {
    const char* msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw state_error(shown.string() + ": cannot open: " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

}  // namespace

struct store::impl {
  connection c;
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

store store::open(const std::filesystem::path& path) {
  if (path.empty()) throw state_error("state path is empty");
  prepare_file(path);
  auto p = std::make_unique<impl>(impl{connection(path, open_db(path.string(), path))});
  configure(p->c, false);
  migrate(p->c);
  return store(std::move(p));
}

store store::open_memory() {
  auto p = std::make_unique<impl>(impl{connection(":memory:", open_db(":memory:", ":memory:"))});
  configure(p->c, true);
  migrate(p->c);
  return store(std::move(p));
}

const std::filesystem::path& store::path() const noexcept {
  return impl_->c.path();
}

// --- runs

std::int64_t store::begin_run(run_mode mode, const std::string& started_at) {
  auto& c = impl_->c;
  transaction t(c);
  query(c, "INSERT INTO runs(started_at, mode, outcome) VALUES(?1, ?2, ?3)")
      .bind_text(1, started_at)
      .bind_text(2, to_string(mode))
      .bind_text(3, to_string(run_outcome::running))
      .run("cannot record the start of a run");
  const std::int64_t id = sqlite3_last_insert_rowid(c.handle());
  t.commit();
  return id;
}

void store::finish_run(const run_record& r) {
  auto& c = impl_->c;
  transaction t(c);
  query(
      c,
      "UPDATE runs SET finished_at = ?2, outcome = ?3, exit_code = ?4, source_rows = ?5, source_people = ?6, "
      "rejects = ?7, created = ?8, updated = ?9, reactivated = ?10, deactivated = ?11, failed = ?12, "
      "message = ?13 WHERE id = ?1")
      .bind_int(1, r.id)
      .bind_text(2, r.finished_at)
      .bind_text(3, to_string(r.outcome))
      .bind_int(4, r.exit_code)
      .bind_int(5, to_db(r.source_rows))
      .bind_int(6, to_db(r.source_people))
      .bind_int(7, to_db(r.rejects))
      .bind_int(8, to_db(r.created))
      .bind_int(9, to_db(r.updated))
      .bind_int(10, to_db(r.reactivated))
      .bind_int(11, to_db(r.deactivated))
      .bind_int(12, to_db(r.failed))
      .bind_text(13, r.message)
      .run("cannot record the end of a run");
  if (sqlite3_changes(c.handle()) == 0) {
    throw state_error(c.path().string() + ": cannot record the end of run " + std::to_string(r.id) +
                      ": no such run");
  }
  t.commit();
}

std::optional<run_record> store::last_successful_run() const {
  auto& c = impl_->c;
  query q(
      c,
      "SELECT id, started_at, finished_at, mode, outcome, exit_code, source_rows, source_people, rejects, "
      "created, updated, reactivated, deactivated, failed, message FROM runs "
      "WHERE outcome IN ('ok', 'changes') ORDER BY id DESC LIMIT 1");
  if (!q.step("cannot read runs")) return std::nullopt;
  return read_run(c, q);
}

std::vector<run_record> store::recent_runs(std::size_t limit) const {
  auto& c = impl_->c;
  query q(
      c,
      "SELECT id, started_at, finished_at, mode, outcome, exit_code, source_rows, source_people, rejects, "
      "created, updated, reactivated, deactivated, failed, message FROM runs ORDER BY id DESC LIMIT ?1");
  // A limit past INT64_MAX means "all": SQLite takes a negative LIMIT as no limit.
  q.bind_int(1, limit > static_cast<std::size_t>(INT64_MAX) ? -1 : to_db(limit));
  std::vector<run_record> out;
  while (q.step("cannot read runs")) out.push_back(read_run(c, q));
  return out;
}

// --- journal

namespace {

std::int64_t insert_intent(connection& c, const journal_entry& e) {
  query(c,
        "INSERT INTO journal(run_id, op, key, user_id, email, payload, state, error, attempts, updated_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
      .bind_int(1, e.run_id)
      .bind_text(2, e.op)
      .bind_text(3, e.key)
      .bind_opt(4, e.user_id)
      .bind_text(5, e.email)
      .bind_text(6, e.payload)
      .bind_text(7, to_string(e.state))
      .bind_text(8, e.error)
      .bind_int(9, e.attempts)
      .bind_text(10, e.updated_at)
      .run("cannot journal an intent");
  return sqlite3_last_insert_rowid(c.handle());
}

void update_entry(connection& c, std::int64_t id, journal_state s, std::optional<std::int64_t> user_id,
                  const std::string& error, unsigned attempts, const std::string& at) {
  // COALESCE: an outcome without a user ID (a failure, an ambiguous send) keeps the target recorded
  // with the intent.
  query(c,
        "UPDATE journal SET state = ?2, user_id = COALESCE(?3, user_id), error = ?4, attempts = ?5, "
        "updated_at = ?6 WHERE id = ?1")
      .bind_int(1, id)
      .bind_text(2, to_string(s))
      .bind_opt(3, user_id)
      .bind_text(4, error)
      .bind_int(5, attempts)
      .bind_text(6, at)
      .run("cannot journal an outcome");
  if (sqlite3_changes(c.handle()) == 0) {
    throw state_error(c.path().string() + ": cannot journal an outcome: no journal entry " +
                      std::to_string(id));
  }
}

}  // namespace

std::int64_t store::journal_intent(const journal_entry& e) {
  auto& c = impl_->c;
  transaction t(c);
  const std::int64_t id = insert_intent(c, e);
  t.commit();
  return id;
}

void store::journal_update(std::int64_t id, journal_state s, std::optional<std::int64_t> user_id,
                           const std::string& error, unsigned attempts, const std::string& at) {
  auto& c = impl_->c;
  transaction t(c);
  update_entry(c, id, s, user_id, error, attempts, at);
  t.commit();
}

std::vector<std::int64_t> store::journal_intents(const std::vector<journal_entry>& es) {
  auto& c = impl_->c;
  std::vector<std::int64_t> ids;
  ids.reserve(es.size());
  transaction t(c);
  for (const auto& e : es) ids.push_back(insert_intent(c, e));
  t.commit();
  return ids;
}

void store::journal_updates(const std::vector<journal_result>& rs, const std::string& at) {
  auto& c = impl_->c;
  transaction t(c);
  for (const auto& r : rs) update_entry(c, r.id, r.state, r.user_id, r.error, r.attempts, at);
  t.commit();
}

std::vector<journal_entry> store::unfinished_journal() const {
  auto& c = impl_->c;
  query q(
      c,
      "SELECT id, run_id, op, key, user_id, email, payload, state, error, attempts, updated_at FROM journal "
      "WHERE state IN ('intent', 'ambiguous') ORDER BY id");
  std::vector<journal_entry> out;
  while (q.step("cannot read the journal")) out.push_back(read_journal(c, q));
  return out;
}

std::vector<journal_entry> store::journal_for_run(std::int64_t run_id) const {
  auto& c = impl_->c;
  query q(
      c,
      "SELECT id, run_id, op, key, user_id, email, payload, state, error, attempts, updated_at FROM journal "
      "WHERE run_id = ?1 ORDER BY id");
  q.bind_int(1, run_id);
  std::vector<journal_entry> out;
  while (q.step("cannot read the journal")) out.push_back(read_journal(c, q));
  return out;
}

// --- identities

std::map<std::string, std::int64_t> store::identities_by_key() const {
  auto& c = impl_->c;
  query q(c, "SELECT key, user_id FROM identities");
  std::map<std::string, std::int64_t> out;
  while (q.step("cannot read identities")) out.emplace(q.text(0), q.int64(1));
  return out;
}

std::set<std::int64_t> store::managed_users() const {
  auto& c = impl_->c;
  query q(c, "SELECT user_id FROM identities WHERE managed = 1");
  std::set<std::int64_t> out;
  while (q.step("cannot read identities")) out.insert(q.int64(0));
  return out;
}

std::optional<identity> store::find_identity(const std::string& key) const {
  auto& c = impl_->c;
  query q(c, "SELECT key, user_id, managed, first_seen, last_seen FROM identities WHERE key = ?1");
  q.bind_text(1, key);
  if (!q.step("cannot read identities")) return std::nullopt;
  return identity{q.text(0), q.int64(1), q.int64(2) != 0, q.text(3), q.text(4)};
}

namespace {

void upsert_identity(connection& c, const std::string& key, std::int64_t user_id, bool managed,
                     const std::string& at) {
  // The managed flag is whatever the caller says now (every call states it): a key matched again is
  // passed managed=true, and an account handed back to the admins can be released with false.
  query(c,
        "INSERT INTO identities(key, user_id, managed, first_seen, last_seen) VALUES(?1, ?2, ?3, ?4, ?4) "
        "ON CONFLICT(key) DO UPDATE SET user_id = excluded.user_id, managed = excluded.managed, "
        "last_seen = excluded.last_seen")
      .bind_text(1, key)
      .bind_int(2, user_id)
      .bind_int(3, managed ? 1 : 0)
      .bind_text(4, at)
      .run("cannot remember an identity");
}

}  // namespace

void store::remember(const std::string& key, std::int64_t user_id, bool managed, const std::string& at) {
  auto& c = impl_->c;
  transaction t(c);
  upsert_identity(c, key, user_id, managed, at);
  t.commit();
}

void store::remember_all(const std::vector<identity>& ids, const std::string& at) {
  auto& c = impl_->c;
  transaction t(c);
  for (const auto& i : ids) upsert_identity(c, i.key, i.user_id, i.managed, at);
  t.commit();
}

// --- secrets

std::optional<std::string> store::oauth_refresh_token() const {
  auto& c = impl_->c;
  query q(c, "SELECT value FROM secrets WHERE name = ?1");
  q.bind_text(1, oauth_refresh_token_name);
  if (!q.step("cannot read a secret")) return std::nullopt;
  return q.text(0);
}

void store::set_oauth_refresh_token(const std::string& token) {
  auto& c = impl_->c;
  transaction t(c);
  if (token.empty()) {
    query(c, "DELETE FROM secrets WHERE name = ?1")
        .bind_text(1, oauth_refresh_token_name)
        .run("cannot forget a secret");
  } else {
    query(c,
          "INSERT INTO secrets(name, value) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET value = "
          "excluded.value")
        .bind_text(1, oauth_refresh_token_name)
        .bind_text(2, token)
        .run("cannot store a secret");
  }
  t.commit();
}

// --- names

std::string_view to_string(run_mode m) noexcept {
  switch (m) {
    case run_mode::plan:
      return "plan";
    case run_mode::sync:
      return "sync";
    case run_mode::daemon:
      return "daemon";
  }
  return "unknown";
}

std::string_view to_string(run_outcome o) noexcept {
  switch (o) {
    case run_outcome::running:
      return "running";
    case run_outcome::ok:
      return "ok";
    case run_outcome::changes:
      return "changes";
    case run_outcome::guard_tripped:
      return "guard_tripped";
    case run_outcome::partial_failure:
      return "partial_failure";
    case run_outcome::failed:
      return "failed";
    case run_outcome::interrupted:
      return "interrupted";
  }
  return "unknown";
}

std::string_view to_string(journal_state s) noexcept {
  switch (s) {
    case journal_state::intent:
      return "intent";
    case journal_state::done:
      return "done";
    case journal_state::failed:
      return "failed";
    case journal_state::ambiguous:
      return "ambiguous";
    case journal_state::resolved:
      return "resolved";
  }
  return "unknown";
}

}  // namespace b24sync::state
