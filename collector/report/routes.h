// The report API (docs/API.md) and the dashboard, as routes added to the collector's HTTP
// server. Store-independent: every query goes through ReportStore.
#ifndef TALLY_COLLECTOR_REPORT_ROUTES_H_
#define TALLY_COLLECTOR_REPORT_ROUTES_H_

#include <functional>
#include <string>

#include "report/params.h"
#include "report/report_store.h"
#include "store/store.h"
#include "tally/clock.h"

namespace httplib {
class Server;
}

namespace tally::collector::report {

struct ReportRoutesOptions {
  ReportStore* store = nullptr;  ///< must outlive the server
  const Clock* clock = nullptr;  ///< "now" for default ranges; must outlive the server
  /// The live, unrevoked key record for a key, or false (the collector's key registry).
  std::function<bool(const std::string& key, KeyRecord* record)> lookup_key;
  ReportLimits limits;
  /// Where TZif files live; empty: $TZDIR, else /usr/share/zoneinfo.
  std::string tz_dir;
  /// Serve the dashboard at `/` (its assets are built into the binary).
  bool dashboard = true;
};

/// Adds GET /v1/events, /v1/users/{id}/events, /v1/users/{id}/summary, /v1/stats/timeseries,
/// /v1/stats/breakdown, /v1/stats/funnel, /v1/stats/overview, /v1/export and the dashboard.
void RegisterReportRoutes(httplib::Server& server, ReportRoutesOptions options);

/// The dashboard's files, built into the binary (dashboard_assets.cc is generated at build time).
struct DashboardAsset {
  const char* path;  ///< "/", "/dashboard/app.js", ...
  const char* content_type;
  const unsigned char* data;
  size_t size;
};
const DashboardAsset* FindDashboardAsset(const std::string& path);

}  // namespace tally::collector::report

#endif  // TALLY_COLLECTOR_REPORT_ROUTES_H_
