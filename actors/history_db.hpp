// The two databases a history can live in: a SQLite file (the default) or a
// PostgreSQL server (shared by a pair of coordinators). history_store writes
// its SQL once for both, with ? for parameters; what differs is here: how a
// statement runs, the schema's types, where the schema version is kept, and
// who may write (SQLite: the one process holding the file's lock;
// PostgreSQL: the session holding urlpoll's advisory lock, the leader).
// Not actors: the history actor owns the one database, on its own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace urlpoll {

struct history_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// How long a PostgreSQL session lives without a word when the store is
/// opened outside a coordinator (tests, the benchmark): nothing there beats.
/// The history actor sets 0.4 of ha-takeover.
constexpr int64_t default_lease_ms = 600'000;

/// One prepared statement: parameters bound in order, then its rows.
class sql_statement {
public:
  virtual ~sql_statement() = default;
  virtual void bind(int64_t v) = 0;
  virtual void bind(const std::string& v) = 0;
  virtual void blob(const std::string& v) = 0;
  /// Runs the statement on the first call; whether there is a(nother) row.
  /// Throws history_error.
  virtual bool step() = 0;
  /// Runs a statement whose rows do not matter (a write). PostgreSQL sends
  /// the writes of a transaction without waiting for each answer; a
  /// failure then surfaces at the next read or at commit.
  virtual void run() {
    while (step()) {
      // nop
    }
    reset();
  }
  virtual int64_t i(int col) const = 0;
  virtual bool null(int col) const = 0;
  virtual std::string s(int col) const = 0;
  virtual std::string b(int col) const = 0;
  /// Ready for new parameters.
  virtual void reset() = 0;
};

/// Who leads, as the database tells it (PostgreSQL only).
struct lead_view {
  /// This session holds the lock.
  bool leading = false;
  /// The leader's node name and HTTP API, from its last heartbeat; empty
  /// when none is known.
  std::string leader;
  std::string leader_api;
  /// Coordinators standing by, seen within the lease.
  int standbys = 0;
};

class sql_database {
public:
  virtual ~sql_database() = default;

  /// The statement for `sql`, prepared once per connection. `sql` must be a
  /// string literal: it is the key.
  virtual sql_statement& prepare(const char* sql) = 0;
  virtual void exec(const char* sql) = 0;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;

  virtual int schema_version() = 0;
  /// One transaction per version step.
  virtual void migrate(int from, int to) = 0;
  virtual uint64_t size_bytes() = 0;
  /// Whether hours and days have an index by target: then a target's
  /// points are one range read (PostgreSQL, where each read is a round
  /// trip), else one look per hour or day (SQLite, whose tables are by
  /// time, appended to, and a look is a function call).
  virtual bool indexed_by_target() const = 0;
  /// Where it is, for messages: a path, or a URI without its password.
  virtual const std::string& where() const = 0;

  // -- leadership -------------------------------------------------------------

  /// Whether several coordinators can share it (PostgreSQL).
  virtual bool shared() const = 0;
  /// Takes the lead if no one holds it; whether this connection leads now.
  /// SQLite: always (its file lock was taken at open).
  virtual bool try_lead() = 0;
  /// Whether this connection's session holds the lock (false once the
  /// connection was lost, until try_lead() takes it again).
  virtual bool leading() const = 0;
  /// Lets go of the lock (a leader that learned another led meanwhile).
  virtual void resign() = 0;
  /// Says this coordinator is alive (as leader or standby), and reads who
  /// leads; PostgreSQL only. Throws history_error.
  virtual lead_view heartbeat(const std::string& node, const std::string& api,
                              int64_t lease_ms) = 0;
};

/// Opens `where`: "postgresql://..." or "postgres://..." (a libpq URI) for
/// PostgreSQL, else a SQLite file path. Throws history_error saying what is
/// wrong and what to do. `lease_ms`: how long a silent PostgreSQL session
/// lives (its lock with it).
std::unique_ptr<sql_database> open_sql_database(const std::string& where,
                                                int64_t lease_ms);

/// Whether `where` names a PostgreSQL database.
bool is_postgresql(const std::string& where);

/// `where` without a password, for messages and logs.
std::string redacted_history(const std::string& where);

/// Gives the PostgreSQL URI `where` the password `password` (a parameter
/// of the URI, encoded as one). Returns the problem in words when `where`
/// has a password already or libpq cannot read it.
std::optional<std::string> add_history_password(std::string& where,
                                                const std::string& password);

} // namespace urlpoll
