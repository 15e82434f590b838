// The report queries as one interface (docs/API.md), so the SQLite store answers now and the
// ClickHouse store later with the same JSON: everything above this interface (parameters,
// time zones, JSON, CSV, streaming) is store-independent and lives beside it in collector/report/.
#ifndef TALLY_COLLECTOR_REPORT_REPORT_STORE_H_
#define TALLY_COLLECTOR_REPORT_REPORT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/rollup.h"
#include "store/store.h"
#include "tally/status.h"

namespace tally::collector::report {

/// Which events a report reads. Every field is ANDed; empty strings and empty lists do not filter.
struct EventFilter {
  std::string workspace;           ///< required
  int64_t from_ms = 0;             ///< derived_at >= from_ms
  int64_t to_ms = 0;               ///< derived_at < to_ms
  std::vector<std::string> names;  ///< any of these names
  std::string type;                ///< track | page | identify
  std::string user_id;
  std::string anonymous_id;
  std::string session_id;
  /// Top-level property / context field equal to a value compared as text (strings as they
  /// are, numbers as their shortest text, booleans as `true`/`false`).
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<std::pair<std::string, std::string>> context;
};

/// A position in (derived_at, event_id) order; the next page starts strictly after it.
struct Cursor {
  int64_t derived_at_ms = 0;
  std::string event_id;
};

struct EventsRequest {
  EventFilter filter;
  size_t limit = 100;
  bool descending = false;
  std::optional<Cursor> after;
};

struct EventsPage {
  std::vector<StoredEvent> events;
  /// The position of the last event when more may follow, else empty.
  std::optional<Cursor> next;
};

struct NameSummary {
  std::string name;
  int64_t count = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

enum class Metric : uint8_t { kEvents, kUsers };

/// The user of an event, for unique counts and funnels: user_id, else anonymous_id.
struct TimeseriesRequest {
  EventFilter filter;
  Metric metric = Metric::kEvents;
  /// Ascending bucket starts (UTC ms); bucket i is [bounds[i], bounds[i+1]). The last element
  /// only closes the last bucket. Events outside [bounds.front(), bounds.back()) are not counted.
  std::vector<int64_t> bounds;
};

/// What a breakdown groups by.
struct GroupKey {
  enum class Kind : uint8_t { kName, kType, kUserId, kProperty, kContext } kind = Kind::kName;
  std::string key;  ///< the property or context field for kProperty / kContext
};

struct BreakdownRequest {
  EventFilter filter;
  GroupKey by;
  Metric metric = Metric::kEvents;
  size_t limit = 10;
};

struct BreakdownRow {
  /// The value as text; nullopt when the event lacks the field (or it is JSON null).
  std::optional<std::string> value;
  /// string | number | bool | object | array (absent when value is nullopt).
  std::string value_type;
  int64_t count = 0;
};

struct Breakdown {
  int64_t total = 0;               ///< events, or distinct users over the whole filter
  std::vector<BreakdownRow> rows;  ///< the top `limit` by count, then by value
  int64_t other = 0;  ///< the rest summed (events: exact; users: the sum of per-value counts)
};

struct FunnelRequest {
  /// `filter.names` is ignored; the steps name the events. The first step must lie in
  /// [from_ms, to_ms); later steps may lie up to window_ms after the user's first step.
  EventFilter filter;
  std::vector<std::string> steps;
  int64_t window_ms = 7LL * 86400000;
};

struct Overview {
  int64_t events = 0;
  int64_t users = 0;
  int64_t sessions = 0;
  std::vector<std::pair<std::string, int64_t>> top_events;  ///< (name, count), top 10
};

/// Read-only queries over one store. Implementations are thread-safe.
class ReportStore {
 public:
  virtual ~ReportStore() = default;

  /// Appends Prometheus text lines about the store's own background work (for /metrics); none
  /// by default.
  virtual void AppendMetrics(std::string* /*prometheus_text*/) {}

  /// One page in (derived_at, event_id) order, ascending or descending, strictly after `after`.
  virtual Status Events(const EventsRequest& request, EventsPage* page) = 0;
  /// Whether any event of the workspace has this user_id (the timeline then reads by user_id,
  /// else by anonymous_id).
  virtual Status HasUserId(const std::string& workspace, const std::string& user_id,
                           bool* found) = 0;
  /// Per event name: count, first and last seen; ordered by count descending, then name.
  virtual Status Summary(const EventFilter& filter, std::vector<NameSummary>* out) = 0;
  /// One value per bucket (bounds.size() - 1 values).
  virtual Status Timeseries(const TimeseriesRequest& request, std::vector<int64_t>* values) = 0;
  virtual Status GetBreakdown(const BreakdownRequest& request, Breakdown* out) = 0;
  /// Users reaching each step (one value per step).
  virtual Status Funnel(const FunnelRequest& request, std::vector<int64_t>* users) = 0;
  virtual Status GetOverview(const EventFilter& filter, Overview* out) = 0;
  /// Every matching event in ascending (derived_at, event_id) order, handed to `row` one at a
  /// time (memory does not grow with the result); stops early when `row` returns false.
  virtual Status Export(const EventFilter& filter,
                        const std::function<bool(const StoredEvent&)>& row) = 0;
};

struct ReportStoreOptions {
  /// Read connections kept open; concurrent report requests beyond this wait for one.
  size_t read_connections = 4;
  /// Rows fetched per statement by Export (each chunk is its own short read transaction, so a
  /// slow download never pins the WAL).
  size_t export_chunk_rows = 20000;
  /// Whether queries read the rollup tables (docs/SCHEMA.md, "Report rollups") where their filter
  /// allows; false reads every row, as before rollups existed (the reference the tests compare
  /// with).
  bool use_rollups = true;
  /// How often a background thread folds new events into the rollups; 0 runs no thread (tests
  /// and benchmarks call Rollup::CatchUp themselves).
  int rollup_interval_ms = 2000;
  /// Rows past the rollup watermark above which a query reads every row instead (a job far behind,
  /// e.g. the first start on a large database, must not make queries slower than without rollups).
  int64_t rollup_max_tail_rows = 500000;
  RollupOptions rollup;
};

/// Opens the report side of a store URL (`sqlite:<path>`): its own read connections to the
/// same file, beside the collector's writer.
Result<std::unique_ptr<ReportStore>> OpenReportStore(const std::string& url,
                                                     const ReportStoreOptions& options = {});

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_REPORT_STORE_H_
