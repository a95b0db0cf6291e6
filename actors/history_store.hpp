// The history database (a SQLite file or PostgreSQL: history_db.hpp): every
// read and write the history actor makes, in one SQL for both. Not an actor:
// the history actor owns the one instance, on its own thread. Errors are thrown
// as history_error, with what failed in words.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/history_db.hpp"
#include "actors/history_model.hpp"
#include "messages/history.hpp"

namespace urlpoll {

/// The schema version this build writes; older ones are migrated at open,
/// newer ones refused.
constexpr int history_schema_version = 2;

std::unique_ptr<sql_database> open_sqlite_database(const std::string& path);
std::unique_ptr<sql_database> open_postgresql_database(const std::string& uri,
                                                       int64_t lease_ms);

/// Reads every table once, so that a damaged database is refused at open
/// rather than found by a write later. Throws history_error.
void look_at_every_table(sql_database& db);

class history_store {
public:
  /// Opens or creates the database at `where` (a SQLite file, or a
  /// PostgreSQL URI: see open_sql_database), checks that it is urlpoll's
  /// and migrates an older schema. Throws history_error saying what is
  /// wrong and what to do; changes nothing in a database it refuses.
  explicit history_store(const std::string& where,
                         int64_t lease_ms = default_lease_ms);
  ~history_store();

  history_store(const history_store&) = delete;
  history_store& operator=(const history_store&) = delete;

  /// Upgrades a database of schema version `from` to `to` (tests make old
  /// databases with it).
  void migrate(int from, int to);
  int schema_version();

  // -- start-up ---------------------------------------------------------------

  /// Records a new run; returns its id.
  int64_t begin_run(int64_t now);
  /// When the previous run was last seen alive; 0 for none.
  int64_t last_seen();
  /// Every target the database knows: name -> id.
  std::unordered_map<std::string, int64_t> targets();
  std::vector<saved_state> open_states();
  std::vector<saved_alert> open_alerts();
  /// Each target's transitions at or after `since`, oldest first, at most
  /// `per_target` (the last ones) each.
  std::vector<transition> transitions_since(int64_t since, size_t per_target);
  /// The runs that ended at or after `since`, oldest first.
  std::vector<run_span> runs_since(int64_t since);
  /// Each target's state changes at or after `since`, with the last one
  /// before it: target id -> changes, oldest first.
  void changes_since(int64_t since,
                     const std::function<void(int64_t, state_change)>& each);
  /// The aggregates of `hour` (hours since the epoch) being counted when the
  /// last run ended; older ones left counting are finished first.
  void hour_rows(int64_t hour,
                 const std::function<void(int64_t, aggregate)>& each);
  /// Every hour being counted, whatever its hour: target, hour, aggregate.
  void
  counting_rows(const std::function<void(int64_t, int64_t, aggregate)>& each);
  /// The targets whose `hour` is finished (written for good).
  std::vector<int64_t> finished_targets(int64_t hour);

  // -- writing ----------------------------------------------------------------

  /// Everything from begin() to commit() is one transaction.
  void begin();
  void commit();
  void rollback();
  /// The id of target `name`, added when new.
  int64_t target(const std::string& name);
  void add_transition(int64_t target, const transition& x);
  void save_state(int64_t target, const saved_state& x);
  void drop_state(int64_t target);
  void save_alert(int64_t target, const saved_alert& x);
  void drop_alert(int64_t target, const std::string& alerter);
  /// Every open alert of `alerter` (it left the configuration).
  void drop_alerts(const std::string& alerter);
  /// Stores the aggregate of `hour` (replacing what was there): a
  /// `finished` hour for good, else as the hour being counted.
  void save_hour(int64_t target, int64_t hour, const aggregate& x,
                 bool finished);
  void touch_run(int64_t run, int64_t now);

  // -- housekeeping -----------------------------------------------------------

  /// Rolls the hours before `before_hour` (a day boundary) into days.
  /// Returns how many hourly rows it rolled.
  size_t roll_up(int64_t before_hour);
  /// Deletes days, transitions and runs before `before`.
  void expire(int64_t before);

  // -- reading ----------------------------------------------------------------

  /// The points of target `id` in [from, to), per hour or per day, leaving
  /// out the hours in `skip` (those counted in memory).
  std::vector<std::pair<int64_t, aggregate>>
  points(int64_t id, int64_t from, int64_t to, bool daily,
         const std::vector<int64_t>& skip = {});
  /// The transitions of target `id` in [from, to), newest first.
  std::vector<transition> transitions(int64_t id, const std::string& name,
                                      int64_t from, int64_t to, size_t limit);
  /// The state changes of target `id` before `to`, from the last one before
  /// `from` on.
  std::vector<state_change> changes(int64_t id, int64_t from, int64_t to);

  /// The size of the database (SQLite: and its write-ahead log), in bytes.
  uint64_t size_bytes();
  /// Where it is, for messages (a URI without its password).
  const std::string& path() const;

  // -- leadership (sql_database) ----------------------------------------------

  bool shared() const;
  bool try_lead();
  bool leading() const;
  void resign();
  lead_view heartbeat(const std::string& node, const std::string& api,
                      int64_t lease_ms);
  /// The id of the newest run: another leader's after a takeover.
  int64_t newest_run();

private:
  std::unique_ptr<sql_database> db_;
};

} // namespace urlpoll
