#include "actors/history_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Binds and steps a statement; resets it when done.
class statement {
public:
  statement(history_store* owner, sqlite3* db, sqlite3_stmt* x)
    : owner_(owner), db_(db), x_(x) {
    // nop
  }
  ~statement() {
    sqlite3_reset(x_);
    sqlite3_clear_bindings(x_);
  }

  statement& bind(int64_t v) {
    sqlite3_bind_int64(x_, ++n_, v);
    return *this;
  }
  statement& bind(const std::string& v) {
    sqlite3_bind_text(x_, ++n_, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  statement& blob(const std::string& v) {
    sqlite3_bind_blob(x_, ++n_, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }

  /// Whether there is a row; throws on an error.
  bool step() {
    auto rc = sqlite3_step(x_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    throw history_error{sqlite3_errmsg(db_)};
  }

  void run() {
    while (step()) {
      // nop
    }
  }

  int64_t i(int col) const { return sqlite3_column_int64(x_, col); }
  bool null(int col) const {
    return sqlite3_column_type(x_, col) == SQLITE_NULL;
  }
  std::string s(int col) const {
    auto p = sqlite3_column_text(x_, col);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(x_, col))}
             : std::string{};
  }
  aggregate aggregate_at(int col) const {
    return decode_aggregate(sqlite3_column_blob(x_, col),
                            static_cast<size_t>(sqlite3_column_bytes(x_, col)));
  }

private:
  [[maybe_unused]] history_store* owner_;
  sqlite3* db_;
  sqlite3_stmt* x_;
  int n_ = 0;
};

target_state state_of(int64_t x) {
  return x >= 0 && x <= static_cast<int64_t>(target_state::down)
           ? static_cast<target_state>(x)
           : target_state::unknown;
}

aggregate read_aggregate(const statement& q, int col) {
  return q.aggregate_at(col);
}

statement& bind_aggregate(statement& q, const aggregate& a) {
  return q.blob(encode(a));
}

constexpr const char* aggregate_columns = "data";

transition read_transition(const statement& q, int first, std::string name) {
  transition t;
  t.target = std::move(name);
  t.time = from_ms(q.i(first));
  t.from = state_of(q.i(first + 1));
  t.to = state_of(q.i(first + 2));
  t.flapping = q.i(first + 3) != 0;
  t.status = q.s(first + 4);
  t.code = static_cast<uint16_t>(q.i(first + 5));
  t.latency = std::chrono::microseconds{q.i(first + 6)};
  t.node = q.s(first + 7);
  return t;
}

statement& bind_transition(statement& q, const transition& t) {
  return q.bind(to_ms(t.time))
    .bind(static_cast<int64_t>(t.from))
    .bind(static_cast<int64_t>(t.to))
    .bind(t.flapping ? 1 : 0)
    .bind(t.status)
    .bind(t.code)
    .bind(
      std::chrono::duration_cast<std::chrono::microseconds>(t.latency).count())
    .bind(t.node);
}

} // namespace

history_store::history_store(const std::string& path) : path_(path) {
  std::error_code ec;
  auto shown = std::filesystem::absolute(path, ec).string();
  if (ec)
    shown = path;
  path_ = shown;
  auto refuse = [&](const std::string& why, const std::string& what_to_do) {
    // No destructor runs for a constructor that throws: let go here.
    release();
    throw history_error{"cannot use the history database '" + shown +
                        "': " + why + " (" + what_to_do + ")"};
  };
  // The lock first: a second urlpoll on the same file must change nothing.
  // flock() locks are apart from SQLite's own (fcntl) locks; the descriptor
  // stays open until after SQLite closed the file, so that closing it never
  // drops SQLite's locks.
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
           "urlpoll.history");
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    refuse(db_ ? sqlite3_errmsg(db_) : "out of memory",
           "check the file and its folder");
  sqlite3_extended_result_codes(db_, 1);
  if (sqlite3_db_readonly(db_, "main") == 1)
    refuse("it is read-only", "give urlpoll write access to it and its "
                              "folder, or set urlpoll.history to another file");
  // What the file is, before anything is written to it.
  int64_t app_id = 0;
  int64_t version = 0;
  int64_t tables = 0;
  try {
    statement q{this, db_, prepare("PRAGMA application_id")};
    if (q.step())
      app_id = q.i(0);
    statement v{this, db_, prepare("PRAGMA user_version")};
    if (v.step())
      version = v.i(0);
    statement t{this, db_, prepare("SELECT count(*) FROM sqlite_master")};
    if (t.step())
      tables = t.i(0);
  } catch (const history_error& e) {
    refuse(std::string{e.what()} + ": it is not a SQLite database, or it is "
                                   "damaged",
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
    // A look at every table, so that a damaged file is refused now rather
    // than found by a write later.
    for (auto sql :
         {"SELECT count(*) FROM targets", "SELECT count(*) FROM open_state",
          "SELECT count(*) FROM open_alerts",
          "SELECT max(time) FROM transitions", "SELECT count(*) FROM runs"}) {
      statement q{this, db_, prepare(sql)};
      q.run();
    }
  } catch (const history_error& e) {
    refuse(e.what(), "the file may be damaged: move it away (urlpoll starts "
                     "a new history then), or restore it from a backup");
  }
}

history_store::~history_store() {
  release();
}

void history_store::release() {
  for (auto& [sql, stmt] : statements_)
    sqlite3_finalize(stmt);
  statements_.clear();
  if (db_ != nullptr)
    sqlite3_close_v2(db_);
  db_ = nullptr;
  // After SQLite let go of the file: closing another descriptor of it first
  // would drop SQLite's own locks.
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
  lock_fd_ = -1;
}

sqlite3_stmt* history_store::prepare(const char* sql) {
  auto i = statements_.find(sql);
  if (i != statements_.end())
    return i->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
    fail(std::string{"preparing "} + sql);
  statements_.emplace(sql, stmt);
  return stmt;
}

void history_store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string what = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw history_error{what};
  }
}

void history_store::fail(const std::string& what) {
  throw history_error{what + ": " + sqlite3_errmsg(db_)};
}

int history_store::schema_version() {
  statement q{this, db_, prepare("PRAGMA user_version")};
  return q.step() ? static_cast<int>(q.i(0)) : 0;
}

void history_store::migrate(int from, int to) {
  for (auto v = from; v < to; ++v) {
    exec("BEGIN IMMEDIATE");
    try {
      exec(schema_steps[v]);
      exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      exec(("PRAGMA application_id=" + std::to_string(history_application_id))
             .c_str());
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

int64_t history_store::begin_run(int64_t now) {
  statement q{this, db_,
              prepare("INSERT INTO runs(started, last_seen) VALUES (?, ?)")};
  q.bind(now).bind(now).run();
  return sqlite3_last_insert_rowid(db_);
}

int64_t history_store::last_seen() {
  statement q{this, db_, prepare("SELECT max(last_seen) FROM runs")};
  return q.step() ? q.i(0) : 0;
}

std::unordered_map<std::string, int64_t> history_store::targets() {
  std::unordered_map<std::string, int64_t> out;
  statement q{this, db_, prepare("SELECT id, name FROM targets")};
  while (q.step())
    out.emplace(q.s(1), q.i(0));
  return out;
}

std::vector<saved_state> history_store::open_states() {
  std::vector<saved_state> out;
  statement q{this, db_,
              prepare("SELECT t.name, state, flapping, head_refused, code, "
                      "since, last_poll, polls, failures, "
                      "consecutive_failures, consecutive_successes, "
                      "state_changes, status FROM open_state JOIN targets t "
                      "ON t.id = open_state.target")};
  while (q.step()) {
    saved_state x;
    x.name = q.s(0);
    x.state = state_of(q.i(1));
    x.flapping = q.i(2) != 0;
    x.head_refused = q.i(3) != 0;
    x.code = static_cast<uint16_t>(q.i(4));
    x.since = from_ms(q.i(5));
    x.last_poll = from_ms(q.i(6));
    x.polls = static_cast<uint64_t>(q.i(7));
    x.failures = static_cast<uint64_t>(q.i(8));
    x.consecutive_failures = static_cast<uint32_t>(q.i(9));
    x.consecutive_successes = static_cast<uint32_t>(q.i(10));
    x.state_changes = static_cast<uint32_t>(q.i(11));
    x.status = q.s(12);
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<saved_alert> history_store::open_alerts() {
  std::vector<saved_alert> out;
  statement q{this, db_,
              prepare("SELECT alerter, t.name, told, since, time, from_state, "
                      "to_state, flapping, status, code, latency_us, node "
                      "FROM open_alerts JOIN targets t ON t.id = "
                      "open_alerts.target")};
  while (q.step()) {
    saved_alert x;
    x.alerter = q.s(0);
    x.target = q.s(1);
    x.told = state_of(q.i(2));
    x.since = from_ms(q.i(3));
    x.last = read_transition(q, 4, x.target);
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<transition> history_store::transitions_since(int64_t since,
                                                         size_t per_target) {
  std::vector<transition> out;
  statement q{this, db_,
              prepare("SELECT t.name, time, from_state, to_state, flapping, "
                      "status, code, latency_us, node FROM transitions JOIN "
                      "targets t ON t.id = transitions.target WHERE time >= ? "
                      "ORDER BY transitions.target, time")};
  q.bind(since);
  std::string last_name;
  size_t first_of_target = 0;
  while (q.step()) {
    auto name = q.s(0);
    if (name != last_name) {
      first_of_target = out.size();
      last_name = name;
    }
    out.push_back(read_transition(q, 1, std::move(name)));
    // Only the last `per_target` of each.
    if (out.size() - first_of_target > per_target)
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(first_of_target));
  }
  return out;
}

std::vector<run_span> history_store::runs_since(int64_t since) {
  std::vector<run_span> out;
  statement q{this, db_,
              prepare("SELECT started, last_seen FROM runs WHERE last_seen >= "
                      "? ORDER BY started")};
  q.bind(since);
  while (q.step())
    out.push_back(run_span{q.i(0), q.i(1)});
  return out;
}

void history_store::changes_since(
  int64_t since, const std::function<void(int64_t, state_change)>& each) {
  // The state at `since` (SQLite takes the other columns of a max() row
  // from that row), then every change after it.
  statement before{this, db_,
                   prepare("SELECT target, max(time), to_state FROM "
                           "transitions WHERE time < ? GROUP BY target")};
  before.bind(since);
  while (before.step())
    each(before.i(0), state_change{before.i(1), state_of(before.i(2))});
  statement after{this, db_,
                  prepare("SELECT target, time, to_state FROM transitions "
                          "WHERE time >= ? ORDER BY time")};
  after.bind(since);
  while (after.step())
    each(after.i(0), state_change{after.i(1), state_of(after.i(2))});
}

void history_store::hour_rows(
  int64_t hour, const std::function<void(int64_t, aggregate)>& each) {
  // Hours left counting by a run that ended before they did are finished.
  exec("BEGIN IMMEDIATE");
  try {
    statement move{this, db_,
                   prepare("INSERT OR REPLACE INTO hourly(hour, target, data) "
                           "SELECT hour, target, data FROM counting WHERE "
                           "hour < ?")};
    move.bind(hour).run();
    statement drop{this, db_, prepare("DELETE FROM counting WHERE hour < ?")};
    drop.bind(hour).run();
    exec("COMMIT");
  } catch (...) {
    rollback();
    throw;
  }
  statement q{this, db_,
              prepare("SELECT target, data FROM counting WHERE hour = ?")};
  q.bind(hour);
  while (q.step())
    each(q.i(0), read_aggregate(q, 1));
}

void history_store::begin() {
  exec("BEGIN IMMEDIATE");
}

void history_store::commit() {
  exec("COMMIT");
}

void history_store::rollback() {
  if (sqlite3_get_autocommit(db_) == 0)
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

int64_t history_store::target(const std::string& name) {
  statement find{this, db_, prepare("SELECT id FROM targets WHERE name = ?")};
  find.bind(name);
  if (find.step())
    return find.i(0);
  statement add{this, db_, prepare("INSERT INTO targets(name) VALUES (?)")};
  add.bind(name).run();
  return sqlite3_last_insert_rowid(db_);
}

void history_store::add_transition(int64_t target, const transition& x) {
  statement q{this, db_,
              prepare("INSERT INTO transitions(target, time, from_state, "
                      "to_state, flapping, status, code, latency_us, node) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")};
  q.bind(target);
  bind_transition(q, x).run();
}

void history_store::save_state(int64_t target, const saved_state& x) {
  statement q{this, db_,
              prepare("INSERT OR REPLACE INTO open_state(target, state, "
                      "flapping, head_refused, code, since, last_poll, polls, "
                      "failures, consecutive_failures, consecutive_successes, "
                      "state_changes, status) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")};
  q.bind(target)
    .bind(static_cast<int64_t>(x.state))
    .bind(x.flapping ? 1 : 0)
    .bind(x.head_refused ? 1 : 0)
    .bind(x.code)
    .bind(to_ms(x.since))
    .bind(to_ms(x.last_poll))
    .bind(static_cast<int64_t>(x.polls))
    .bind(static_cast<int64_t>(x.failures))
    .bind(x.consecutive_failures)
    .bind(x.consecutive_successes)
    .bind(x.state_changes)
    .bind(x.status)
    .run();
}

void history_store::drop_state(int64_t target) {
  statement q{this, db_, prepare("DELETE FROM open_state WHERE target = ?")};
  q.bind(target).run();
}

void history_store::save_alert(int64_t target, const saved_alert& x) {
  statement q{this, db_,
              prepare("INSERT OR REPLACE INTO open_alerts(alerter, target, "
                      "told, since, time, from_state, to_state, flapping, "
                      "status, code, latency_us, node) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")};
  q.bind(x.alerter)
    .bind(target)
    .bind(static_cast<int64_t>(x.told))
    .bind(to_ms(x.since));
  bind_transition(q, x.last).run();
}

void history_store::drop_alert(int64_t target, const std::string& alerter) {
  statement q{this, db_,
              prepare("DELETE FROM open_alerts WHERE alerter = ? AND target = "
                      "?")};
  q.bind(alerter).bind(target).run();
}

void history_store::drop_alerts(const std::string& alerter) {
  statement q{this, db_, prepare("DELETE FROM open_alerts WHERE alerter = ?")};
  q.bind(alerter).run();
}

void history_store::save_hour(int64_t target, int64_t hour, const aggregate& x,
                              bool finished) {
  if (!finished) {
    statement q{this, db_,
                prepare("INSERT OR REPLACE INTO counting(target, hour, data) "
                        "VALUES (?, ?, ?)")};
    q.bind(target).bind(hour);
    bind_aggregate(q, x).run();
    return;
  }
  statement q{this, db_,
              prepare("INSERT OR REPLACE INTO hourly(hour, target, data) "
                      "VALUES (?, ?, ?)")};
  q.bind(hour).bind(target);
  bind_aggregate(q, x).run();
  statement done{this, db_,
                 prepare("DELETE FROM counting WHERE target = ? AND hour = ?")};
  done.bind(target).bind(hour).run();
}

void history_store::touch_run(int64_t run, int64_t now) {
  statement q{this, db_, prepare("UPDATE runs SET last_seen = ? WHERE id = ?")};
  q.bind(now).bind(run).run();
}

size_t history_store::roll_up(int64_t before_hour) {
  // In hour order, summed per target and day here (a histogram is no SQL
  // sum), added to any day row already there; then the hours go.
  // By day, then target: the daily table's order, appended to.
  std::map<std::pair<int64_t, int64_t>, aggregate> days;
  size_t rolled = 0;
  {
    statement q{this, db_,
                prepare("SELECT hour, target, data FROM hourly WHERE hour < "
                        "?")};
    q.bind(before_hour);
    while (q.step()) {
      days[{q.i(0) / 24, q.i(1)}].merge(read_aggregate(q, 2));
      ++rolled;
    }
  }
  for (auto& [key, sum] : days) {
    statement old{this, db_,
                  prepare("SELECT data FROM daily WHERE day = ? AND target = "
                          "?")};
    old.bind(key.first).bind(key.second);
    if (old.step())
      sum.merge(read_aggregate(old, 0));
    // A day keeps its percentiles, not its histogram.
    sum.keep_percentiles_only();
    statement q{this, db_,
                prepare("INSERT OR REPLACE INTO daily(day, target, data) "
                        "VALUES (?, ?, ?)")};
    q.bind(key.first).bind(key.second);
    bind_aggregate(q, sum).run();
  }
  statement drop{this, db_, prepare("DELETE FROM hourly WHERE hour < ?")};
  drop.bind(before_hour).run();
  return rolled;
}

void history_store::expire(int64_t before) {
  statement days{this, db_, prepare("DELETE FROM daily WHERE day < ?")};
  days.bind(before / ms_per_day).run();
  statement changes{this, db_,
                    prepare("DELETE FROM transitions WHERE time < ?")};
  changes.bind(before).run();
  statement runs{this, db_, prepare("DELETE FROM runs WHERE last_seen < ?")};
  runs.bind(before).run();
}

std::vector<std::pair<int64_t, aggregate>>
history_store::points(int64_t id, int64_t from, int64_t to, bool daily,
                      const std::vector<int64_t>& skip) {
  std::vector<std::pair<int64_t, aggregate>> out;
  auto step = daily ? ms_per_day : ms_per_hour;
  auto first = from / step;
  auto last = (to + step - 1) / step;
  // Rolled-up days, in the daily table by day: one look per day, from the
  // oldest kept on.
  if (daily) {
    statement oldest{this, db_, prepare("SELECT min(day) FROM daily")};
    auto first_day = first;
    if (oldest.step() && !oldest.null(0))
      first_day = std::max(first, oldest.i(0));
    for (auto day = first_day; day < last; ++day) {
      statement q{this, db_,
                  prepare("SELECT data FROM daily WHERE day = ? AND target = "
                          "?")};
      q.bind(day).bind(id);
      if (q.step())
        out.emplace_back(day * ms_per_day, read_aggregate(q, 0));
    }
  }
  auto add = [&](int64_t hour, aggregate a) {
    if (std::find(skip.begin(), skip.end(), hour) != skip.end())
      return;
    auto start = (hour * ms_per_hour / step) * step;
    auto i = std::find_if(out.begin(), out.end(),
                          [&](auto& p) { return p.first == start; });
    if (i == out.end())
      out.emplace_back(start, std::move(a));
    else
      i->second.merge(a);
  };
  // Hours, in the hourly table by hour: one look per hour, from the oldest
  // kept on.
  auto first_hour = daily ? first * 24 : first;
  auto last_hour = daily ? last * 24 : last;
  {
    statement oldest{this, db_, prepare("SELECT min(hour) FROM hourly")};
    if (oldest.step() && !oldest.null(0))
      first_hour = std::max(first_hour, oldest.i(0));
  }
  for (auto hour = first_hour; hour < last_hour; ++hour) {
    statement q{this, db_,
                prepare("SELECT data FROM hourly WHERE hour = ? AND target = "
                        "?")};
    q.bind(hour).bind(id);
    if (q.step())
      add(hour, read_aggregate(q, 0));
  }
  {
    statement q{this, db_,
                prepare("SELECT hour, data FROM counting WHERE target = ?")};
    q.bind(id);
    if (q.step() && q.i(0) >= first_hour && q.i(0) < last_hour)
      add(q.i(0), read_aggregate(q, 1));
  }
  std::sort(out.begin(), out.end(),
            [](auto& x, auto& y) { return x.first < y.first; });
  return out;
}

std::vector<transition> history_store::transitions(int64_t id,
                                                   const std::string& name,
                                                   int64_t from, int64_t to,
                                                   size_t limit) {
  std::vector<transition> out;
  statement q{this, db_,
              prepare("SELECT time, from_state, to_state, flapping, status, "
                      "code, latency_us, node FROM transitions WHERE target = "
                      "? AND time >= ? AND time < ? ORDER BY time DESC LIMIT "
                      "?")};
  q.bind(id).bind(from).bind(to).bind(static_cast<int64_t>(limit));
  while (q.step())
    out.push_back(read_transition(q, 0, name));
  return out;
}

std::vector<state_change> history_store::changes(int64_t id, int64_t from,
                                                 int64_t to) {
  std::vector<state_change> out;
  statement before{this, db_,
                   prepare("SELECT time, to_state FROM transitions WHERE "
                           "target = ? AND time < ? ORDER BY time DESC LIMIT "
                           "1")};
  before.bind(id).bind(from);
  if (before.step())
    out.push_back(state_change{before.i(0), state_of(before.i(1))});
  statement after{this, db_,
                  prepare("SELECT time, to_state FROM transitions WHERE "
                          "target = ? AND time >= ? AND time < ? ORDER BY "
                          "time")};
  after.bind(id).bind(from).bind(to);
  while (after.step())
    out.push_back(state_change{after.i(0), state_of(after.i(1))});
  return out;
}

uint64_t history_store::size_bytes() const {
  uint64_t total = 0;
  for (auto suffix : {"", "-wal"}) {
    struct stat info {};
    if (::stat((path_ + suffix).c_str(), &info) == 0)
      total += static_cast<uint64_t>(info.st_size);
  }
  return total;
}

} // namespace urlpoll
