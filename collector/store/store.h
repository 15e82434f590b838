// The collector's storage contract, shaped for SQLite (embedded, the default) and ClickHouse
// (scale-out, DESIGN.md lesson 11). Nothing here names a SQLite concept: workspaces are names,
// events are keyed by (workspace, event_id), cursors are opaque strings, and a group of batches
// is appended as one unit so each backend can turn it into one transaction or one INSERT.
#ifndef TALLY_COLLECTOR_STORE_STORE_H_
#define TALLY_COLLECTOR_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tally/status.h"

namespace tally::collector {

/// Bits of StoredEvent::time_flags, saying how derived_at was obtained.
enum TimeFlag : uint32_t {
  kTimeClampedFuture = 1,    ///< the derived time lay in the future and was set to received_at
  kTimeExplicit = 2,         ///< posted with a server key: created_at taken as given
  kTimeOffsetCorrected = 4,  ///< derived from the SDK's clock_offset_ms estimate
};

/// One event as persisted. Times are ms since the Unix epoch, UTC. `properties_json` and
/// `context_json` hold the JSON text the core wrote (tally::WriteJson), never re-parsed on the
/// write path.
struct StoredEvent {
  std::string event_id;  ///< UUIDv7, lower-case canonical
  std::string type;      ///< track | page | identify
  std::string name;
  std::string user_id;       ///< empty when absent
  std::string anonymous_id;  ///< empty when absent
  std::string session_id;    ///< empty when absent
  int64_t created_at_ms = 0;
  int64_t sent_at_ms = 0;  ///< 0 when the batch carried none
  int64_t received_at_ms = 0;
  int64_t derived_at_ms = 0;
  uint32_t time_flags = 0;  ///< TimeFlag bits
  std::string properties_json = "{}";
  std::string context_json = "{}";
  /// ContentFingerprint() of the event, or empty when the workspace does not dedup on content.
  std::string fingerprint;
};

/// What happened to one event of an appended batch.
enum class AppendOutcome : uint8_t {
  kStored = 0,
  kDuplicateId = 1,       ///< an event with this event_id is already stored in the workspace
  kDuplicateContent = 2,  ///< same fingerprint seen within the fingerprint window
};

/// The events of one request, all for one workspace.
struct AppendBatch {
  std::string workspace;
  std::vector<StoredEvent> events;
  /// Filled by Append: one outcome per event, in order.
  std::vector<AppendOutcome> outcomes;
};

/// Filters for listing events. Empty strings and unset bounds do not filter.
struct EventQuery {
  std::string workspace;
  std::optional<int64_t> from_ms;  ///< derived_at >= from
  std::optional<int64_t> to_ms;    ///< derived_at < to
  std::string name;
  std::string user_id;
  std::string anonymous_id;
  std::string session_id;
  size_t limit = 100;
  /// Opaque; pass the `next_cursor` of the previous page to continue after it.
  std::string cursor;
};

struct EventPage {
  std::vector<StoredEvent> events;  ///< ordered by derived_at, then event_id
  std::string next_cursor;          ///< empty on the last page
};

/// A count of events per time bucket and group, over derived_at.
struct AggregateQuery {
  std::string workspace;
  int64_t from_ms = 0;  ///< inclusive
  int64_t to_ms = 0;    ///< exclusive
  /// Width of a time bucket; 0 means one bucket for the whole range.
  int64_t bucket_ms = 0;
  /// Optional filter on the event name.
  std::string name;
  enum class GroupBy : uint8_t { kNone, kName, kType, kUserId } group_by = GroupBy::kNone;
  /// Count distinct users (user_id, else anonymous_id) instead of events.
  bool distinct_users = false;
};

/// The checks every store applies to an AggregateQuery before running it.
Status CheckAggregate(const AggregateQuery& q);
/// The SQL expression a store groups by: the column of `group_by`, `''` for kNone, and
/// `user_id_column` for kUserId (the stores keep a missing user_id differently).
std::string AggregateGroupColumn(AggregateQuery::GroupBy group_by,
                                 const std::string& user_id_column);

struct AggregateRow {
  int64_t bucket_start_ms = 0;
  std::string group;  ///< empty when not grouped
  int64_t value = 0;
};

/// Kinds of keys (DESIGN.md, "Workspaces and keys").
enum class KeyKind : uint8_t {
  kWrite = 0,   ///< public, in page source; restricted to the source's allowed origins
  kRead = 1,    ///< secret; reads one workspace's reports
  kServer = 2,  ///< secret; a back-end posting batches with explicit times
};
const char* KeyKindName(KeyKind kind);
bool ParseKeyKind(const std::string& name, KeyKind* kind);
/// Allowed origins as every store keeps them: one text field, space separated (an origin has no
/// spaces).
std::string JoinOrigins(const std::vector<std::string>& origins);
std::vector<std::string> SplitOrigins(const std::string& text);

struct KeyRecord {
  std::string key;
  KeyKind kind = KeyKind::kWrite;
  std::string workspace;
  std::string source;                ///< write keys: the source's name
  std::vector<std::string> origins;  ///< write keys: allowed origins ("*" allows any)
  int64_t created_at_ms = 0;
  int64_t revoked_at_ms = 0;  ///< 0 while the key is live
};

struct WorkspaceRecord {
  std::string name;
  /// Also dedup on the content fingerprint (lesson 2), within fingerprint_window_ms.
  bool fingerprint_dedup = false;
  int64_t fingerprint_window_ms = 48LL * 3600 * 1000;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Creates the workspace or updates its settings.
  virtual Status PutWorkspace(const WorkspaceRecord& workspace) = 0;
  virtual Status ListWorkspaces(std::vector<WorkspaceRecord>* out) = 0;

  /// Appends every batch of the group atomically: when it returns ok, all stored events are
  /// durable and each batch's `outcomes` is filled; when it fails, nothing of the group is stored.
  /// An event whose (workspace, event_id) is already stored, also earlier in the same group, is
  /// a kDuplicateId and stored nothing; with a workspace's fingerprint dedup on, an event whose
  /// fingerprint was stored within the window is a kDuplicateContent. Unknown workspaces are
  /// created on first use. `now_ms` dates fingerprints.
  virtual Status Append(const std::vector<AppendBatch*>& group, int64_t now_ms) = 0;
  /// Append in two steps, for the Writer, which starts the next group's AppendNoSync while the
  /// previous group's SyncAppended waits for the disk: AppendNoSync commits like Append (visible,
  /// outcomes filled, survives a crash of the process) but may return before the commit is on
  /// stable storage; SyncAppended makes every AppendNoSync that returned before it is called
  /// durable as Append would (a no-op where Append does not sync). Both may run at once, from two
  /// threads. By default AppendNoSync is Append and SyncAppended does nothing.
  virtual Status AppendNoSync(const std::vector<AppendBatch*>& group, int64_t now_ms) {
    return Append(group, now_ms);
  }
  virtual Status SyncAppended() { return Status::Ok(); }
  /// How long the Writer should wait for more requests before an Append that is not full (its
  /// default for WriterOptions::linger_ms): 0 where a small commit is cheap.
  virtual int GroupLingerMs() const { return 0; }

  virtual Status Query(const EventQuery& query, EventPage* page) = 0;
  virtual Status Aggregate(const AggregateQuery& query, std::vector<AggregateRow>* rows) = 0;
  /// Events stored in the workspace (all workspaces when empty).
  virtual Status CountEvents(const std::string& workspace, int64_t* count) = 0;

  /// Deletes events whose derived_at is before `cutoff_ms` (and fingerprints older than it);
  /// returns how many events went.
  virtual Status PurgeBefore(int64_t cutoff_ms, int64_t* purged) = 0;

  /// Keys: creates or replaces a key; marks one revoked; lists all (revoked included).
  virtual Status PutKey(const KeyRecord& key) = 0;
  virtual Status RevokeKey(const std::string& key, int64_t now_ms) = 0;
  virtual Status ListKeys(std::vector<KeyRecord>* out) = 0;
  /// Removes a key row for good (used to replace a secret key stored in plaintext by an older
  /// collector with its digest); not found is not an error.
  virtual Status DeleteKey(const std::string& key) = 0;

  /// Bytes the store occupies on disk (0 when unknown).
  virtual int64_t SizeBytes() = 0;
  /// Flushes whatever the backend can flush before a clean shutdown (SQLite: a WAL checkpoint).
  virtual Status Checkpoint() = 0;
};

struct StoreOptions {
  /// true: every commit is on stable storage before Append returns (survives power loss; SQLite
  /// synchronous=FULL). false: survives a crash of the process but not of the machine
  /// (synchronous=NORMAL). docs/SCHEMA.md says why full is the default.
  bool sync_every_commit = true;
  /// SQLite: the WAL size in pages at which the checkpoint thread copies the WAL into the
  /// database; at 4 times this the writer checkpoints itself (the bound on WAL growth).
  int wal_checkpoint_pages = 4000;
  /// SQLite: the page size of a database file this store creates (a power of two from 512 to
  /// 65536; an existing file keeps its own). 16 KB rather than SQLite's 4 KB: the writer's cost
  /// per page a commit dirties is mostly per page, not per byte (docs/SCHEMA.md, "Page size").
  int page_size = 16384;
};

/// Opens a store from its URL: `sqlite:<path>` (the parent directory is created).
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options = {});

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_STORE_STORE_H_
