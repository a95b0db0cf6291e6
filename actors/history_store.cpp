#include "actors/history_store.hpp"

#include <algorithm>
#include <map>

namespace urlpoll {

namespace {

// Binds and steps a prepared statement; ready for new parameters when done.
class statement {
public:
  statement(sql_database& db, const char* sql) : x_(db.prepare(sql)) {
    // nop
  }
  ~statement() { x_.reset(); }

  statement& bind(int64_t v) {
    x_.bind(v);
    return *this;
  }
  statement& bind(const std::string& v) {
    x_.bind(v);
    return *this;
  }
  statement& blob(const std::string& v) {
    x_.blob(v);
    return *this;
  }

  /// Whether there is a row; throws on an error.
  bool step() { return x_.step(); }

  void run() { x_.run(); }

  int64_t i(int col) const { return x_.i(col); }
  bool null(int col) const { return x_.null(col); }
  std::string s(int col) const { return x_.s(col); }
  aggregate aggregate_at(int col) const {
    auto bytes = x_.b(col);
    return decode_aggregate(bytes.data(), bytes.size());
  }

private:
  sql_statement& x_;
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

bool is_postgresql(const std::string& where) {
  return where.rfind("postgresql://", 0) == 0 ||
         where.rfind("postgres://", 0) == 0;
}

std::unique_ptr<sql_database> open_sql_database(const std::string& where,
                                                int64_t lease_ms) {
  if (is_postgresql(where))
    return open_postgresql_database(where, lease_ms);
  return open_sqlite_database(where);
}

void look_at_every_table(sql_database& db) {
  for (auto sql :
       {"SELECT count(*) FROM targets", "SELECT count(*) FROM open_state",
        "SELECT count(*) FROM open_alerts", "SELECT max(time) FROM transitions",
        "SELECT count(*) FROM runs"}) {
    statement q{db, sql};
    q.run();
  }
}

history_store::history_store(const std::string& where, int64_t lease_ms)
  : db_(open_sql_database(where, lease_ms)) {
  // nop
}

history_store::~history_store() = default;

int history_store::schema_version() {
  return db_->schema_version();
}

void history_store::migrate(int from, int to) {
  db_->migrate(from, to);
}

int64_t history_store::begin_run(int64_t now) {
  statement q{*db_, ("INSERT INTO runs(started, last_seen) VALUES (?, ?) "
                     "RETURNING id")};
  q.bind(now).bind(now);
  if (!q.step())
    throw history_error{"a new run got no id"};
  return q.i(0);
}

int64_t history_store::last_seen() {
  statement q{*db_, ("SELECT max(last_seen) FROM runs")};
  return q.step() ? q.i(0) : 0;
}

std::unordered_map<std::string, int64_t> history_store::targets() {
  std::unordered_map<std::string, int64_t> out;
  statement q{*db_, ("SELECT id, name FROM targets")};
  while (q.step())
    out.emplace(q.s(1), q.i(0));
  return out;
}

std::vector<saved_state> history_store::open_states() {
  std::vector<saved_state> out;
  statement q{*db_, ("SELECT t.name, state, flapping, head_refused, code, "
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
  statement q{*db_, ("SELECT alerter, t.name, told, since, time, from_state, "
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
  statement q{*db_, ("SELECT t.name, time, from_state, to_state, flapping, "
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
  statement q{*db_, ("SELECT started, last_seen FROM runs WHERE last_seen >= "
                     "? ORDER BY started")};
  q.bind(since);
  while (q.step())
    out.push_back(run_span{q.i(0), q.i(1)});
  return out;
}

void history_store::changes_since(
  int64_t since, const std::function<void(int64_t, state_change)>& each) {
  // The state at `since` (each target's last change before it), then every
  // change after it.
  statement before{*db_, ("SELECT target, time, to_state FROM (SELECT target, "
                          "time, to_state, row_number() OVER (PARTITION BY "
                          "target ORDER BY time DESC) AS n FROM transitions "
                          "WHERE time < ?) AS last WHERE n = 1")};
  before.bind(since);
  while (before.step())
    each(before.i(0), state_change{before.i(1), state_of(before.i(2))});
  statement after{*db_, ("SELECT target, time, to_state FROM transitions "
                         "WHERE time >= ? ORDER BY time")};
  after.bind(since);
  while (after.step())
    each(after.i(0), state_change{after.i(1), state_of(after.i(2))});
}

void history_store::hour_rows(
  int64_t hour, const std::function<void(int64_t, aggregate)>& each) {
  // Hours left counting by a run that ended before they did are finished.
  db_->begin();
  try {
    statement move{*db_, ("INSERT INTO hourly(hour, target, data) SELECT hour, "
                          "target, data FROM counting WHERE hour < ? ON "
                          "CONFLICT(hour, target) DO UPDATE SET data = "
                          "excluded.data")};
    move.bind(hour).run();
    statement drop{*db_, ("DELETE FROM counting WHERE hour < ?")};
    drop.bind(hour).run();
    db_->commit();
  } catch (...) {
    rollback();
    throw;
  }
  statement q{*db_, ("SELECT target, data FROM counting WHERE hour = ?")};
  q.bind(hour);
  while (q.step())
    each(q.i(0), read_aggregate(q, 1));
}

void history_store::counting_rows(
  const std::function<void(int64_t, int64_t, aggregate)>& each) {
  statement q{*db_, ("SELECT target, hour, data FROM counting")};
  while (q.step())
    each(q.i(0), q.i(1), read_aggregate(q, 2));
}

std::vector<int64_t> history_store::finished_targets(int64_t hour) {
  std::vector<int64_t> out;
  statement q{*db_, ("SELECT target FROM hourly WHERE hour = ?")};
  q.bind(hour);
  while (q.step())
    out.push_back(q.i(0));
  return out;
}

void history_store::begin() {
  db_->begin();
}

void history_store::commit() {
  db_->commit();
}

void history_store::rollback() {
  db_->rollback();
}

int64_t history_store::target(const std::string& name) {
  statement find{*db_, ("SELECT id FROM targets WHERE name = ?")};
  find.bind(name);
  if (find.step())
    return find.i(0);
  statement add{*db_, ("INSERT INTO targets(name) VALUES (?) RETURNING id")};
  add.bind(name);
  if (!add.step())
    throw history_error{"the new target " + name + " got no id"};
  return add.i(0);
}

void history_store::add_transition(int64_t target, const transition& x) {
  statement q{*db_, ("INSERT INTO transitions(target, time, from_state, "
                     "to_state, flapping, status, code, latency_us, node) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")};
  q.bind(target);
  bind_transition(q, x).run();
}

void history_store::save_state(int64_t target, const saved_state& x) {
  statement q{*db_, ("INSERT INTO open_state(target, state, flapping, "
                     "head_refused, code, since, last_poll, polls, failures, "
                     "consecutive_failures, consecutive_successes, "
                     "state_changes, status) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
                     "CONFLICT(target) DO UPDATE SET state = excluded.state, "
                     "flapping = excluded.flapping, head_refused = "
                     "excluded.head_refused, code = excluded.code, since = "
                     "excluded.since, last_poll = excluded.last_poll, polls "
                     "= excluded.polls, failures = excluded.failures, "
                     "consecutive_failures = excluded.consecutive_failures, "
                     "consecutive_successes = "
                     "excluded.consecutive_successes, state_changes = "
                     "excluded.state_changes, status = excluded.status")};
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
  statement q{*db_, ("DELETE FROM open_state WHERE target = ?")};
  q.bind(target).run();
}

void history_store::save_alert(int64_t target, const saved_alert& x) {
  statement q{*db_, ("INSERT INTO open_alerts(alerter, target, told, since, "
                     "time, from_state, to_state, flapping, status, code, "
                     "latency_us, node) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
                     "CONFLICT(alerter, target) DO UPDATE SET told = "
                     "excluded.told, since = excluded.since, time = "
                     "excluded.time, from_state = excluded.from_state, "
                     "to_state = excluded.to_state, flapping = "
                     "excluded.flapping, status = excluded.status, code = "
                     "excluded.code, latency_us = excluded.latency_us, node "
                     "= excluded.node")};
  q.bind(x.alerter)
    .bind(target)
    .bind(static_cast<int64_t>(x.told))
    .bind(to_ms(x.since));
  bind_transition(q, x.last).run();
}

void history_store::drop_alert(int64_t target, const std::string& alerter) {
  statement q{*db_, ("DELETE FROM open_alerts WHERE alerter = ? AND target = "
                     "?")};
  q.bind(alerter).bind(target).run();
}

void history_store::drop_alerts(const std::string& alerter) {
  statement q{*db_, ("DELETE FROM open_alerts WHERE alerter = ?")};
  q.bind(alerter).run();
}

void history_store::save_hour(int64_t target, int64_t hour, const aggregate& x,
                              bool finished) {
  if (!finished) {
    statement q{*db_, ("INSERT INTO counting(target, hour, data) VALUES (?, ?, "
                       "?) ON CONFLICT(target) DO UPDATE SET hour = "
                       "excluded.hour, data = excluded.data")};
    q.bind(target).bind(hour);
    bind_aggregate(q, x).run();
    return;
  }
  statement q{*db_, ("INSERT INTO hourly(hour, target, data) VALUES (?, ?, ?) "
                     "ON CONFLICT(hour, target) DO UPDATE SET data = "
                     "excluded.data")};
  q.bind(hour).bind(target);
  bind_aggregate(q, x).run();
  statement done{*db_, ("DELETE FROM counting WHERE target = ? AND hour = ?")};
  done.bind(target).bind(hour).run();
}

void history_store::touch_run(int64_t run, int64_t now) {
  statement q{*db_, ("UPDATE runs SET last_seen = ? WHERE id = ?")};
  q.bind(now).bind(run).run();
}

size_t history_store::roll_up(int64_t before_hour) {
  // In hour order, summed per target and day here (a histogram is no SQL
  // sum), added to any day row already there; then the hours go.
  // By day, then target: the daily table's order, appended to.
  std::map<std::pair<int64_t, int64_t>, aggregate> days;
  size_t rolled = 0;
  {
    statement q{*db_, ("SELECT hour, target, data FROM hourly WHERE hour < "
                       "?")};
    q.bind(before_hour);
    while (q.step()) {
      days[{q.i(0) / 24, q.i(1)}].merge(read_aggregate(q, 2));
      ++rolled;
    }
  }
  for (auto& [key, sum] : days) {
    statement old{*db_, ("SELECT data FROM daily WHERE day = ? AND target = "
                         "?")};
    old.bind(key.first).bind(key.second);
    if (old.step())
      sum.merge(read_aggregate(old, 0));
    // A day keeps its percentiles, not its histogram.
    sum.keep_percentiles_only();
    statement q{*db_, ("INSERT INTO daily(day, target, data) VALUES (?, ?, ?) "
                       "ON CONFLICT(day, target) DO UPDATE SET data = "
                       "excluded.data")};
    q.bind(key.first).bind(key.second);
    bind_aggregate(q, sum).run();
  }
  statement drop{*db_, ("DELETE FROM hourly WHERE hour < ?")};
  drop.bind(before_hour).run();
  return rolled;
}

void history_store::expire(int64_t before) {
  statement days{*db_, ("DELETE FROM daily WHERE day < ?")};
  days.bind(before / ms_per_day).run();
  statement changes{*db_, ("DELETE FROM transitions WHERE time < ?")};
  changes.bind(before).run();
  statement runs{*db_, ("DELETE FROM runs WHERE last_seen < ?")};
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
  if (daily && db_->indexed_by_target()) {
    statement q{*db_, ("SELECT day, data FROM daily WHERE target = ? AND day "
                       ">= ? AND day < ? ORDER BY day")};
    q.bind(id).bind(first).bind(last);
    while (q.step())
      out.emplace_back(q.i(0) * ms_per_day, read_aggregate(q, 1));
  } else if (daily) {
    statement oldest{*db_, ("SELECT min(day) FROM daily")};
    auto first_day = first;
    if (oldest.step() && !oldest.null(0))
      first_day = std::max(first, oldest.i(0));
    for (auto day = first_day; day < last; ++day) {
      statement q{*db_, ("SELECT data FROM daily WHERE day = ? AND target = "
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
  if (db_->indexed_by_target()) {
    statement q{*db_, ("SELECT hour, data FROM hourly WHERE target = ? AND "
                       "hour >= ? AND hour < ? ORDER BY hour")};
    q.bind(id).bind(first_hour).bind(last_hour);
    while (q.step())
      add(q.i(0), read_aggregate(q, 1));
  } else {
    auto hour = first_hour;
    {
      statement oldest{*db_, ("SELECT min(hour) FROM hourly")};
      if (oldest.step() && !oldest.null(0))
        hour = std::max(hour, oldest.i(0));
    }
    for (; hour < last_hour; ++hour) {
      statement q{*db_, ("SELECT data FROM hourly WHERE hour = ? AND target "
                         "= ?")};
      q.bind(hour).bind(id);
      if (q.step())
        add(hour, read_aggregate(q, 0));
    }
  }
  {
    statement q{*db_, ("SELECT hour, data FROM counting WHERE target = ?")};
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
  statement q{*db_, ("SELECT time, from_state, to_state, flapping, status, "
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
  statement before{*db_, ("SELECT time, to_state FROM transitions WHERE "
                          "target = ? AND time < ? ORDER BY time DESC LIMIT "
                          "1")};
  before.bind(id).bind(from);
  if (before.step())
    out.push_back(state_change{before.i(0), state_of(before.i(1))});
  statement after{*db_, ("SELECT time, to_state FROM transitions WHERE "
                         "target = ? AND time >= ? AND time < ? ORDER BY "
                         "time")};
  after.bind(id).bind(from).bind(to);
  while (after.step())
    out.push_back(state_change{after.i(0), state_of(after.i(1))});
  return out;
}

uint64_t history_store::size_bytes() {
  return db_->size_bytes();
}

const std::string& history_store::path() const {
  return db_->where();
}

bool history_store::shared() const {
  return db_->shared();
}

bool history_store::leading() const {
  return db_->leading();
}

void history_store::resign() {
  db_->resign();
}

bool history_store::try_lead() {
  return db_->try_lead();
}

lead_view history_store::heartbeat(const std::string& node,
                                   const std::string& api, int64_t lease_ms) {
  return db_->heartbeat(node, api, lease_ms);
}

int64_t history_store::newest_run() {
  statement q{*db_, "SELECT max(id) FROM runs"};
  return q.step() && !q.null(0) ? q.i(0) : 0;
}

} // namespace urlpoll
