// The history in a SQLite file (WAL), locked against a second urlpoll.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iterator>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

#include "actors/history_db.hpp"
#include "actors/history_store.hpp"

namespace urlpoll {

namespace {

// Each step takes the schema one version up, in one transaction.
const char* const schema_steps[] = {
  // 0 -> 1: targets by name, runs, transitions, hours, days, open state.
  R"(
CREATE TABLE targets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL,
                  last_seen INTEGER NOT NULL);
CREATE TABLE transitions(target INTEGER NOT NULL, time INTEGER NOT NULL,
  from_state INTEGER NOT NULL, to_state INTEGER NOT NULL,
  flapping INTEGER NOT NULL, status TEXT NOT NULL, code INTEGER NOT NULL,
  latency_us INTEGER NOT NULL, node TEXT NOT NULL);
CREATE INDEX transitions_by_target ON transitions(target, time);
-- Each hour and day as one blob of varints (history_model.hpp: encode):
-- polls by verdict, seconds in each state, latency count, sum, min, max,
-- and the latency histogram (hours) or its p50, p95, p99 (days). About 45
-- bytes an hour for a stable target, 30 a day. Finished hours are only
-- ever appended, in hour order (full pages), and days in day order; the
-- hour being counted is rewritten every flush in a table of its own.
CREATE TABLE hourly(hour INTEGER NOT NULL, target INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(hour, target)) WITHOUT ROWID;
CREATE TABLE counting(target INTEGER PRIMARY KEY, hour INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE daily(day INTEGER NOT NULL, target INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(day, target)) WITHOUT ROWID;
CREATE TABLE open_state(target INTEGER PRIMARY KEY, state INTEGER NOT NULL,
  flapping INTEGER NOT NULL, head_refused INTEGER NOT NULL,
  code INTEGER NOT NULL, since INTEGER NOT NULL, last_poll INTEGER NOT NULL,
  polls INTEGER NOT NULL, failures INTEGER NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  consecutive_successes INTEGER NOT NULL, state_changes INTEGER NOT NULL,
  status TEXT NOT NULL);
)",
  // 1 -> 2: the alerters' open alerts, and transitions by time for the
  // retention sweep.
  R"(
CREATE TABLE open_alerts(alerter TEXT NOT NULL, target INTEGER NOT NULL,
  told INTEGER NOT NULL, since INTEGER NOT NULL, time INTEGER NOT NULL,
  from_state INTEGER NOT NULL, to_state INTEGER NOT NULL,
  flapping INTEGER NOT NULL, status TEXT NOT NULL, code INTEGER NOT NULL,
  latency_us INTEGER NOT NULL, node TEXT NOT NULL,
  PRIMARY KEY(alerter, target)) WITHOUT ROWID;
CREATE INDEX transitions_by_time ON transitions(time);
)",
};

static_assert(std::size(schema_steps) == history_schema_version);

/// Identifies a urlpoll history database (PRAGMA application_id): "urlp".
constexpr int history_application_id = 0x75726c70;

class sqlite_statement : public sql_statement {
public:
  sqlite_statement(sqlite3* db, sqlite3_stmt* x) : db_(db), x_(x) {
    // nop
  }
  ~sqlite_statement() override { sqlite3_finalize(x_); }

  void bind(int64_t v) override { sqlite3_bind_int64(x_, ++n_, v); }
  void bind(const std::string& v) override {
    sqlite3_bind_text(x_, ++n_, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void blob(const std::string& v) override {
    sqlite3_bind_blob(x_, ++n_, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  bool step() override {
    auto rc = sqlite3_step(x_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    throw history_error{sqlite3_errmsg(db_)};
  }
  int64_t i(int col) const override { return sqlite3_column_int64(x_, col); }
  bool null(int col) const override {
    return sqlite3_column_type(x_, col) == SQLITE_NULL;
  }
  std::string s(int col) const override {
    auto p = sqlite3_column_text(x_, col);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(x_, col))}
             : std::string{};
  }
  std::string b(int col) const override {
    auto p = static_cast<const char*>(sqlite3_column_blob(x_, col));
    return p ? std::string{p,
                           static_cast<size_t>(sqlite3_column_bytes(x_, col))}
             : std::string{};
  }
  void reset() override {
    sqlite3_reset(x_);
    sqlite3_clear_bindings(x_);
    n_ = 0;
  }

private:
  sqlite3* db_;
  sqlite3_stmt* x_;
  int n_ = 0;
};

class sqlite_database : public sql_database {
public:
  explicit sqlite_database(const std::string& path) {
    std::error_code ec;
    path_ = std::filesystem::absolute(path, ec).string();
    if (ec)
      path_ = path;
    auto refuse = [&](const std::string& why, const std::string& what_to_do) {
      // No destructor runs for a constructor that throws: let go here.
      release();
      throw history_error{"cannot use the history database '" + path_ +
                          "': " + why + " (" + what_to_do + ")"};
    };
    // The lock first: a second urlpoll on the same file must change nothing.
    // flock() locks are apart from SQLite's own (fcntl) locks; the
    // descriptor stays open until after SQLite closed the file, so that
    // closing it never drops SQLite's locks.
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd_ < 0)
      refuse(std::strerror(errno),
             errno == EACCES || errno == EROFS
               ? "give urlpoll.history a file urlpoll may write"
               : "check the path, or set urlpoll.history to another file, or "
                 "to \"\" to keep no history");
    struct stat info {};
    if (::fstat(lock_fd_, &info) == 0 && !S_ISREG(info.st_mode))
      refuse("it is not a regular file", "give urlpoll.history a file path");
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
      refuse("another process holds it (is another urlpoll using it?)",
             "stop the other urlpoll, or give this one its own "
             "urlpoll.history; two coordinators share a history in "
             "PostgreSQL, not in a file");
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      refuse(db_ ? sqlite3_errmsg(db_) : "out of memory",
             "check the file and its folder");
    sqlite3_extended_result_codes(db_, 1);
    if (sqlite3_db_readonly(db_, "main") == 1)
      refuse("it is read-only",
             "give urlpoll write access to it and its folder, or set "
             "urlpoll.history to another file");
    // What the file is, before anything is written to it.
    int64_t app_id = 0;
    int64_t version = 0;
    int64_t tables = 0;
    try {
      app_id = one("PRAGMA application_id");
      version = one("PRAGMA user_version");
      tables = one("SELECT count(*) FROM sqlite_master");
    } catch (const history_error& e) {
      refuse(std::string{e.what()} +
               ": it is not a SQLite database, or it is damaged",
             "move it away (urlpoll starts a new history then) or give "
             "urlpoll.history another file; urlpoll did not change it");
    }
    if (app_id != history_application_id && (app_id != 0 || tables > 0))
      refuse("it is a SQLite database, but not urlpoll's history",
             "give urlpoll.history a file of its own");
    if (version > history_schema_version)
      refuse("its schema version is " + std::to_string(version) +
               ", newer than this urlpoll's " +
               std::to_string(history_schema_version) +
               ": a newer urlpoll wrote it",
             "run that newer urlpoll, or give this one another file");
    try {
      // WAL: readers (the API) never wait for a write; synchronous=NORMAL
      // loses nothing committed when the process dies (kill -9), only on a
      // power cut.
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      exec("PRAGMA journal_size_limit=67108864");
      exec("PRAGMA foreign_keys=OFF");
      if (version < history_schema_version)
        migrate(static_cast<int>(version), history_schema_version);
      look_at_every_table(*this);
    } catch (const history_error& e) {
      refuse(e.what(), "the file may be damaged: move it away (urlpoll "
                       "starts a new history then), or restore it from a "
                       "backup");
    }
  }

  ~sqlite_database() override { release(); }

  sql_statement& prepare(const char* sql) override {
    auto i = statements_.find(sql);
    if (i != statements_.end())
      return *i->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
      throw history_error{std::string{"preparing "} + sql + ": " +
                          sqlite3_errmsg(db_)};
    auto& x = statements_[sql];
    x = std::make_unique<sqlite_statement>(db_, stmt);
    return *x;
  }

  void exec(const char* sql) override {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string what = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw history_error{what};
    }
  }

  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  int schema_version() override {
    return static_cast<int>(one("PRAGMA user_version"));
  }

  void migrate(int from, int to) override {
    for (auto v = from; v < to; ++v) {
      begin();
      try {
        exec(schema_steps[v]);
        exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
        exec(("PRAGMA application_id=" + std::to_string(history_application_id))
               .c_str());
        commit();
      } catch (...) {
        rollback();
        throw;
      }
    }
  }

  uint64_t size_bytes() override {
    uint64_t total = 0;
    for (auto suffix : {"", "-wal"}) {
      struct stat info {};
      if (::stat((path_ + suffix).c_str(), &info) == 0)
        total += static_cast<uint64_t>(info.st_size);
    }
    return total;
  }

  const std::string& where() const override { return path_; }

  bool shared() const override { return false; }
  bool indexed_by_target() const override { return false; }
  bool try_lead() override { return true; }
  bool leading() const override { return true; }
  void resign() override {}
  lead_view heartbeat(const std::string&, const std::string&,
                      int64_t) override {
    return lead_view{true, {}, {}, 0};
  }

private:
  int64_t one(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
      throw history_error{sqlite3_errmsg(db_)};
    sqlite_statement q{db_, stmt};
    return q.step() ? q.i(0) : 0;
  }

  void release() {
    statements_.clear();
    if (db_ != nullptr)
      sqlite3_close_v2(db_);
    db_ = nullptr;
    // After SQLite let go of the file: closing another descriptor of it
    // first would drop SQLite's own locks.
    if (lock_fd_ >= 0)
      ::close(lock_fd_);
    lock_fd_ = -1;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;
  std::unordered_map<const char*, std::unique_ptr<sqlite_statement>>
    statements_;
};

} // namespace

std::unique_ptr<sql_database> open_sqlite_database(const std::string& path) {
  return std::make_unique<sqlite_database>(path);
}

} // namespace urlpoll
