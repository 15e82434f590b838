// Report request parameters (docs/API.md, "Common parameters"), parsed and checked without any
// HTTP or store code so each rule is unit-testable. Every error is InvalidArgument and names the
// parameter at fault: `interval: must be one of minute, hour, day, week`.
#ifndef TALLY_COLLECTOR_REPORT_PARAMS_H_
#define TALLY_COLLECTOR_REPORT_PARAMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/report_store.h"
#include "report/tz.h"
#include "tally/status.h"

namespace tally::collector::report {

/// Query parameters as httplib gives them (httplib::Params is this type).
using Params = std::multimap<std::string, std::string>;

/// Limits of report requests, in one place.
struct ReportLimits {
  size_t max_page = 1000;  ///< /v1/events limit, at most
  size_t default_page = 100;
  size_t max_breakdown_rows = 100;  ///< breakdown limit, at most
  size_t max_buckets = 10000;       ///< timeseries buckets, at most
  size_t max_funnel_steps = 10;
  int64_t max_window_ms = 366LL * 86400000;
  int64_t default_range_ms = 7LL * 86400000;  ///< from defaults to to − this
};

/// Fails naming the first parameter that is neither common (docs/API.md) nor in `extra`.
Status CheckKnownParams(const Params& params, const std::vector<std::string>& extra);

/// The single value of `name`, or nullopt; fails when it is given twice or empty.
Result<std::optional<std::string>> SingleParam(const Params& params, const std::string& name);

/// `tz` (default UTC).
Result<std::shared_ptr<const TimeZone>> ParseTz(const Params& params, const std::string& tz_dir);

/// A time: ms since the epoch, or ISO 8601 (`2024-11-15`, `2024-11-15T14:32`,
/// `2024-11-15T14:32:00.123Z`, `...+01:00`); without an offset it is wall time in `zone`.
Result<int64_t> ParseTime(const std::string& param, const std::string& text, const TimeZone& zone);

/// The common filters. `workspace` is left to the caller. `from` defaults to `to` minus
/// limits.default_range_ms, or to 0 when `all_time_default`; `to` defaults to now + 1 ms.
Status ParseFilter(const Params& params, const TimeZone& zone, int64_t now_ms,
                   const ReportLimits& limits, bool all_time_default, EventFilter* out);

/// limit (1..max), cursor, order for /v1/events and timelines.
Status ParsePaging(const Params& params, const ReportLimits& limits, EventsRequest* out);

Result<Interval> ParseInterval(const Params& params);
Result<Metric> ParseMetric(const Params& params);
/// `by` for breakdowns: name | type | user_id | prop.<key> | context.<key>.
Result<GroupKey> ParseGroupKey(const Params& params);
/// `window`: ms, or a number with s, m, h or d. Default 7d.
Result<int64_t> ParseWindow(const Params& params, const ReportLimits& limits);
/// `steps`: comma-separated or repeated, 1..max_funnel_steps names.
Result<std::vector<std::string>> ParseSteps(const Params& params, const ReportLimits& limits);

/// Cursors are opaque to clients: "<derived_at>.<event_id>".
std::string EncodeCursor(const Cursor& cursor);
bool DecodeCursor(const std::string& text, Cursor* cursor);

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_PARAMS_H_
