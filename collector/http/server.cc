#include "http/server.h"

#include <httplib.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include "ingest/ingest.h"
#include "report/routes.h"
#include "tally/codec.h"
#include "tally/uuid.h"
#include "tally/validate.h"
#include "thread_name.h"

namespace tally::collector {
namespace {

using nlohmann::json;

// 1×1 transparent GIF89a.
constexpr unsigned char kPixelGif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

std::mutex log_mu;

// Every error body, in one place: {"error": "<message naming the problem>"}.
void SetError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

void SetRetryAfter(httplib::Response& res, int64_t seconds) {
  res.set_header("Retry-After", std::to_string(std::max<int64_t>(1, seconds)));
}

std::string RouteLabel(const std::string& path) {
  for (const char* r : {"/v1/batch", "/v1/pixel.gif", "/healthz", "/metrics"}) {
    if (path == r) return r;
  }
  return "other";
}

// Per-key token bucket. Time comes from the injected clock, so tests control refills.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)) {}
  // 0 when allowed, else the ms until one token is available.
  int64_t Take(const std::string& key, int64_t now_ms) {
    if (rate_ <= 0) return 0;
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now_ms});
    Bucket& b = it->second;
    if (!inserted && now_ms > b.last_ms) {
      b.tokens =
          std::min(burst_, b.tokens + static_cast<double>(now_ms - b.last_ms) * rate_ / 1000);
      b.last_ms = now_ms;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return static_cast<int64_t>(std::ceil((1 - b.tokens) * 1000 / rate_));
  }

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class Metrics {
 public:
  void CountRequest(const std::string& route, int status) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_[{route, status}]++;
  }
  std::map<std::pair<std::string, int>, uint64_t> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::atomic<uint64_t> accepted{0}, duplicates{0}, rejected{0}, purged{0};
  // Pixel requests answered with the image but not recorded, by reason (key, rate_limit, disk,
  // invalid, unavailable): the image never shows the failure, so the metrics must.
  void CountPixelDrop(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    pixel_drops_[reason]++;
  }
  std::map<std::string, uint64_t> PixelDrops() {
    std::lock_guard<std::mutex> lock(mu_);
    return pixel_drops_;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> pixel_drops_;
};

std::string StorePath(const std::string& url) {
  const std::string prefix = "sqlite:";
  return url.rfind(prefix, 0) == 0 ? url.substr(prefix.size()) : url;
}

}  // namespace

std::string KeyDigest(const std::string& secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string StoredKeyForm(KeyKind kind, const std::string& key) {
  return kind == KeyKind::kWrite ? key : KeyDigest(key);
}

namespace {
bool IsDigest(const std::string& key) { return key.rfind("sha256:", 0) == 0; }
}  // namespace

std::string RedactStoreUrl(const std::string& url) {
  // scheme://user:password@host... -> scheme://user:***@host...
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

}  // namespace

int64_t SystemClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LogLine(const char* level, const std::string& msg, const std::string& fields_json) {
  json line = json::parse(fields_json, nullptr, false);
  if (!line.is_object()) line = json::object();
  line["ts"] = SystemClock().NowMs();
  line["level"] = level;
  line["msg"] = msg;
  std::string text = line.dump() + "\n";
  std::lock_guard<std::mutex> lock(log_mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

struct Collector::Impl {
  CollectorOptions options;
  const Clock* clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<report::ReportStore> reports;  // its own read connections (collector/report)
  std::unique_ptr<Writer> writer;
  httplib::Server server;
  std::thread listen_thread;
  std::thread maintenance_thread;
  int port = 0;
  bool started = false;
  bool stopped = false;
  std::mutex stop_mu;
  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool maintenance_stop = false;

  std::shared_mutex keys_mu;
  std::unordered_map<std::string, KeyRecord> keys;
  std::unordered_map<std::string, bool> fingerprint_by_workspace;

  RateLimiter limiter;
  Metrics metrics;
  std::mutex ids_mu;
  std::unique_ptr<SeededRandom> random;
  std::unique_ptr<UuidV7Generator> ids;
  std::string store_dir;

  Impl(CollectorOptions o, const Clock* c)
      : options(std::move(o)),
        clock(c),
        limiter(options.rate_limit_rps, options.rate_limit_burst) {}

  Status SeedKeys();
  // The key a request presented: a write key as itself, a secret key by its digest. A digest
  // presented as a key never matches (it is what a leaked database holds, not the secret).
  bool LookupKey(const std::string& key, KeyRecord* out) {
    std::shared_lock<std::shared_mutex> lock(keys_mu);
    auto it = IsDigest(key) ? keys.end() : keys.find(key);
    if (it == keys.end() || it->second.kind != KeyKind::kWrite) it = keys.find(KeyDigest(key));
    if (it == keys.end() || it->second.revoked_at_ms != 0) return false;
    *out = it->second;
    return true;
  }
  bool FingerprintOn(const std::string& workspace) {
    std::shared_lock<std::shared_mutex> lock(keys_mu);
    auto it = fingerprint_by_workspace.find(workspace);
    return it != fingerprint_by_workspace.end() && it->second;
  }
  // The disk guard: the message when free space is under the minimum, else empty.
  std::string DiskProblem() {
    if (options.min_free_disk_bytes <= 0) return "";
    struct statvfs st;
    if (statvfs(store_dir.c_str(), &st) != 0) return "";
    int64_t free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
    if (free_bytes >= options.min_free_disk_bytes) return "";
    return "disk: " + std::to_string(free_bytes) + " bytes free, below the minimum of " +
           std::to_string(options.min_free_disk_bytes);
  }
  // Checks a write/server key for a batch; on failure sets the answer and returns false.
  bool Authorize(const std::string& key, const std::string& origin, KeyRecord* rec,
                 httplib::Response& res);
  void AddCors(const std::string& origin, httplib::Response& res) {
    if (origin.empty()) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
  }
  static bool OriginAllowed(const KeyRecord& rec, const std::string& origin) {
    for (const auto& o : rec.origins) {
      if (o == "*" || o == origin) return true;
    }
    return false;
  }

  void HandleBatch(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader);
  void HandlePreflight(const httplib::Request& req, httplib::Response& res);
  void HandlePixel(const httplib::Request& req, httplib::Response& res);
  void HandleMetrics(httplib::Response& res);
  void MaintenanceLoop();
};

Status Collector::Impl::SeedKeys() {
  std::vector<KeyRecord> existing;
  Status s = store->ListKeys(&existing);
  if (!s.ok()) return s;
  std::unordered_map<std::string, KeyRecord> known;
  for (auto& k : existing) {
    if (k.kind != KeyKind::kWrite && !IsDigest(k.key)) {
      // A secret key stored in plaintext by a collector before digests: keep its digest only.
      KeyRecord hashed = k;
      hashed.key = KeyDigest(k.key);
      if (!(s = store->PutKey(hashed)).ok() || !(s = store->DeleteKey(k.key)).ok()) return s;
      known[hashed.key] = hashed;
      continue;
    }
    known[k.key] = k;
  }
  int64_t now = clock->NowMs();
  auto put = [&](KeyRecord rec) -> Status {
    auto it = known.find(rec.key);
    // A key revoked with `keys revoke` stays revoked even though the config still lists it.
    if (it != known.end()) {
      if (it->second.workspace != rec.workspace) {
        return Status::InvalidArgument("config: a " + std::string(KeyKindName(rec.kind)) +
                                       " key of workspace \"" + rec.workspace +
                                       "\" belongs to workspace \"" + it->second.workspace +
                                       "\" in the store");
      }
      rec.revoked_at_ms = it->second.revoked_at_ms;
      rec.created_at_ms = it->second.created_at_ms;
    } else {
      rec.created_at_ms = now;
    }
    return store->PutKey(rec);
  };
  for (const auto& w : options.workspaces) {
    s = store->PutWorkspace(WorkspaceRecord{w.name, w.fingerprint_dedup, w.fingerprint_window_ms});
    if (!s.ok()) return s;
    for (const auto& src : w.sources) {
      KeyRecord rec;
      rec.key = src.write_key;
      rec.kind = KeyKind::kWrite;
      rec.workspace = w.name;
      rec.source = src.name;
      rec.origins = src.origins;
      if (!(s = put(rec)).ok()) return s;
    }
    for (const auto& k : w.read_keys) {
      KeyRecord rec;
      rec.key = KeyDigest(k);
      rec.kind = KeyKind::kRead;
      rec.workspace = w.name;
      if (!(s = put(rec)).ok()) return s;
    }
    for (const auto& k : w.server_keys) {
      KeyRecord rec;
      rec.key = KeyDigest(k);
      rec.kind = KeyKind::kServer;
      rec.workspace = w.name;
      if (!(s = put(rec)).ok()) return s;
    }
  }
  return Status::Ok();
}

bool Collector::Impl::Authorize(const std::string& key, const std::string& origin, KeyRecord* rec,
                                httplib::Response& res) {
  if (key.empty()) {
    SetError(res, 401,
             "write_key: missing (send it in the body, as ?key= or as Authorization: Bearer)");
    return false;
  }
  if (!LookupKey(key, rec)) {
    SetError(res, 401, "write_key: unknown or revoked key");
    return false;
  }
  if (rec->kind == KeyKind::kRead) {
    SetError(res, 401, "write_key: a read key cannot send events");
    return false;
  }
  if (rec->kind == KeyKind::kServer && !origin.empty()) {
    SetError(res, 403,
             "origin: server keys are secret and not accepted from browsers (" + origin + ")");
    return false;
  }
  if (rec->kind == KeyKind::kWrite && !origin.empty() && !OriginAllowed(*rec, origin)) {
    SetError(res, 403, "origin: " + origin + " is not allowed for this write key");
    return false;
  }
  int64_t wait_ms = limiter.Take(key, clock->NowMs());
  if (wait_ms > 0) {
    AddCors(origin, res);
    SetRetryAfter(res, (wait_ms + 999) / 1000);
    SetError(res, 429,
             "rate: too many requests for this key; retry after " +
                 std::to_string((wait_ms + 999) / 1000) + " s");
    return false;
  }
  return true;
}

void Collector::Impl::HandleBatch(const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
  const std::string origin = req.get_header_value("Origin");
  // The body is read whole, bounded also after gzip decompression (a small gzip body may
  // inflate far past the limit).
  std::string body;
  body.reserve(
      std::min<uint64_t>(req.get_header_value<uint64_t>("Content-Length"), options.max_body_bytes));
  bool too_large = false;
  bool read_ok = reader([&](const char* data, size_t n) {
    if (body.size() + n > options.max_body_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large || req.get_header_value<uint64_t>("Content-Length") > options.max_body_bytes) {
    res.set_header("Connection", "close");
    SetError(res, 413, "body: larger than " + std::to_string(options.max_body_bytes) + " bytes");
    return;
  }
  if (!read_ok) {
    SetError(res, 400, "body: could not be read (bad gzip or truncated)");
    return;
  }
  if (std::string disk = DiskProblem(); !disk.empty()) {
    SetRetryAfter(res, 60);
    SetError(res, 503, disk);
    return;
  }
  // A key outside the body is checked before decoding, so bad keys cost no parsing.
  std::string outer_key = req.get_param_value("key");
  if (outer_key.empty()) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) outer_key = auth.substr(7);
  }
  KeyRecord rec;
  if (!outer_key.empty() && !Authorize(outer_key, origin, &rec, res)) return;
  if (writer->queue_depth() >= options.writer.max_queued_requests) {
    AddCors(origin, res);
    SetRetryAfter(res, options.retry_after_s);
    SetError(res, 503, "server: overloaded, write queue full");
    return;
  }

  // Without privacy rules the events' documents are never looked at, only stored as the
  // validation wrote them: the batch is then read in one streaming pass without building them.
  const bool docs_current = !options.privacy.active();
  BatchLimits limits;
  limits.max_events = options.max_events_per_batch;
  limits.keep_documents = !docs_current;
  DecodedBatch batch;
  Status s = DecodeBatch(body, limits, &batch);
  if (!s.ok()) {
    if (outer_key.empty()) {
      // Without a key we cannot tell a browser page from a forger; no CORS headers.
    } else {
      AddCors(origin, res);
    }
    bool count_bound = s.code() == Code::kTooLarge && s.message().rfind("events", 0) == 0;
    SetError(res, count_bound ? 413 : 400, s.message());
    return;
  }
  if (!batch.write_key.empty() && batch.write_key != outer_key) {
    if (!Authorize(batch.write_key, origin, &rec, res)) return;
  } else if (outer_key.empty()) {
    Authorize("", origin, &rec, res);
    return;
  }

  const int64_t received = clock->NowMs();
  const bool with_fingerprint = FingerprintOn(rec.workspace);
  AppendBatch append;
  append.workspace = rec.workspace;
  append.events.reserve(batch.events.size());
  // Without privacy rules the documents are as the validation wrote them: their JSON text is
  // reused and the events' strings are moved, not copied.
  for (size_t i = 0; i < batch.events.size(); ++i) {
    Event& e = batch.events[i];
    ApplyPrivacy(options.privacy, &e);
    TimeInputs t;
    t.created_at_ms = e.created_at_ms;
    t.sent_at_ms = batch.sent_at_ms;
    t.clock_offset_ms = batch.clock_offset_ms;
    t.received_at_ms = received;
    t.explicit_time = rec.kind == KeyKind::kServer;
    if (docs_current) {
      append.events.push_back(ToStoredEvent(std::move(e), std::move(batch.event_docs[i]), t,
                                            options.time, rec.workspace, with_fingerprint));
    } else {
      append.events.push_back(ToStoredEvent(e, t, options.time, rec.workspace, with_fingerprint));
    }
  }
  if (!append.events.empty()) {
    s = writer->Submit(&append);
    if (!s.ok()) {
      AddCors(origin, res);
      SetRetryAfter(res, options.retry_after_s);
      if (s.code() != Code::kResourceExhausted) {
        LogLine("error", "commit failed", json{{"error", s.message()}}.dump());
      }
      SetError(res, 503,
               s.code() == Code::kResourceExhausted ? s.message() : "store: commit failed, retry");
      return;
    }
  }
  uint64_t accepted = 0, duplicates = 0;
  for (AppendOutcome o : append.outcomes) {
    (o == AppendOutcome::kStored ? accepted : duplicates)++;
  }
  metrics.accepted += accepted;
  metrics.duplicates += duplicates;
  metrics.rejected += batch.rejected.size();

  json rejected = json::array();
  for (const auto& r : batch.rejected) {
    rejected.push_back({{"index", r.index}, {"event_id", r.event_id}, {"error", r.error}});
  }
  json answer = {{"accepted", accepted},
                 {"duplicates", duplicates},
                 {"rejected", std::move(rejected)},
                 {"server_time", clock->NowMs()}};
  AddCors(origin, res);
  res.status = 200;
  res.set_content(answer.dump(), "application/json");
}

void Collector::Impl::HandlePreflight(const httplib::Request& req, httplib::Response& res) {
  const std::string origin = req.get_header_value("Origin");
  bool allowed = false;
  if (!origin.empty()) {
    std::string key = req.get_param_value("key");
    std::shared_lock<std::shared_mutex> lock(keys_mu);
    for (const auto& [k, rec] : keys) {
      if (rec.kind != KeyKind::kWrite || rec.revoked_at_ms != 0) continue;
      if (!key.empty() && k != key) continue;
      if (OriginAllowed(rec, origin)) {
        allowed = true;
        break;
      }
    }
  }
  if (!allowed) {
    SetError(res, 403,
             origin.empty() ? "origin: preflight without an Origin header"
                            : "origin: " + origin + " is not allowed by any write key");
    return;
  }
  res.status = 204;
  res.set_header("Access-Control-Allow-Origin", origin);
  res.set_header("Access-Control-Allow-Methods", "POST, OPTIONS");
  res.set_header("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, Authorization");
  res.set_header("Access-Control-Max-Age", "600");
  res.set_header("Vary", "Origin");
}

void Collector::Impl::HandlePixel(const httplib::Request& req, httplib::Response& res) {
  // Always the image: a broken image in an email or page helps nobody.
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(reinterpret_cast<const char*>(kPixelGif), sizeof(kPixelGif), "image/gif");

  // Not recorded: counted by reason, and the reason in X-Tally-Error for whoever debugs the link.
  auto drop = [&](const char* reason, const std::string& message) {
    metrics.CountPixelDrop(reason);
    res.set_header("X-Tally-Error", message);
  };
  KeyRecord rec;
  const std::string key = req.get_param_value("key");
  if (!LookupKey(key, &rec) || rec.kind == KeyKind::kRead) {
    return drop("key", key.empty() ? "key: missing" : "key: unknown, revoked or a read key");
  }
  if (limiter.Take(key, clock->NowMs()) > 0) return drop("rate_limit", "key: rate limited");
  if (std::string disk = DiskProblem(); !disk.empty()) return drop("disk", disk);

  const int64_t now = clock->NowMs();
  Json object = Json::MakeObject();
  std::string event_id = req.get_param_value("event_id");
  if (event_id.empty()) {
    std::lock_guard<std::mutex> lock(ids_mu);
    event_id = ids->Next(now);
  }
  object.Set("event_id", Json::String(event_id));
  object.Set("type", Json::String(req.has_param("type") ? req.get_param_value("type") : "track"));
  object.Set("name", Json::String(req.get_param_value("name")));
  for (const char* field : {"user_id", "anonymous_id", "session_id"}) {
    if (req.has_param(field)) object.Set(field, Json::String(req.get_param_value(field)));
  }
  int64_t created = now;
  if (req.has_param("created_at")) {
    char* end = nullptr;
    std::string text = req.get_param_value("created_at");
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') {
      return drop("invalid", "created_at: must be an integer number of ms since epoch");
    }
    created = v;
  }
  object.Set("created_at", Json::Number(static_cast<double>(created)));
  for (const char* field : {"properties", "context"}) {
    if (!req.has_param(field)) continue;
    Result<Json> parsed = ParseJson(req.get_param_value(field));
    if (!parsed.ok()) return drop("invalid", std::string(field) + ": " + parsed.status().message());
    object.Set(field, std::move(parsed).value());
  }
  // p.<name>=value adds a string property (handy in hand-written email links).
  for (const auto& [name, value] : req.params) {
    if (name.rfind("p.", 0) != 0 || name.size() < 3) continue;
    Json* props = object.Find("properties");
    if (props == nullptr) {
      object.Set("properties", Json::MakeObject());
      props = object.Find("properties");
    }
    if (!props->is_object()) return drop("invalid", "properties: must be an object");
    props->Set(name.substr(2), Json::String(value));
  }
  Result<Event> decoded = DecodeEvent(object);
  if (!decoded.ok()) return drop("invalid", decoded.status().message());
  Event event = std::move(decoded).value();
  if (Status v = ValidateEvent(&event, ValidationOptions()); !v.ok()) {
    return drop("invalid", v.message());
  }
  ApplyPrivacy(options.privacy, &event);

  AppendBatch append;
  append.workspace = rec.workspace;
  TimeInputs t;
  t.created_at_ms = event.created_at_ms;
  t.received_at_ms = now;
  t.explicit_time = true;  // no sent_at to correct against: the pixel's own time is the best
  append.events.push_back(
      ToStoredEvent(event, t, options.time, rec.workspace, FingerprintOn(rec.workspace)));
  if (Status st = writer->Submit(&append); !st.ok()) {
    // Queue full, store down or shutting down: the event is lost (a pixel cannot retry), so say
    // so in the log as well as in the metrics.
    LogLine("warn", "pixel event dropped",
            json{{"workspace", rec.workspace}, {"error", st.message()}}.dump());
    return drop("unavailable", st.message());
  }
  (append.outcomes[0] == AppendOutcome::kStored ? metrics.accepted : metrics.duplicates)++;
}

void Collector::Impl::HandleMetrics(httplib::Response& res) {
  std::ostringstream out;
  out << "# HELP tally_http_requests_total HTTP requests by route and status.\n"
         "# TYPE tally_http_requests_total counter\n";
  for (const auto& [k, n] : metrics.Requests()) {
    out << "tally_http_requests_total{route=\"" << k.first << "\",status=\"" << k.second << "\"} "
        << n << "\n";
  }
  out << "# HELP tally_events_total Events by outcome.\n# TYPE tally_events_total counter\n"
      << "tally_events_total{outcome=\"accepted\"} " << metrics.accepted.load() << "\n"
      << "tally_events_total{outcome=\"duplicate\"} " << metrics.duplicates.load() << "\n"
      << "tally_events_total{outcome=\"rejected\"} " << metrics.rejected.load() << "\n"
      << "# HELP tally_pixel_dropped_total Pixel requests answered but not recorded, by reason.\n"
      << "# TYPE tally_pixel_dropped_total counter\n";
  for (const auto& [reason, n] : metrics.PixelDrops()) {
    out << "tally_pixel_dropped_total{reason=\"" << reason << "\"} " << n << "\n";
  }
  out << "# HELP tally_events_purged_total Events deleted by retention.\n"
      << "# TYPE tally_events_purged_total counter\n"
      << "tally_events_purged_total " << metrics.purged.load() << "\n"
      << "# HELP tally_write_queue_depth Requests waiting for the writer.\n"
      << "# TYPE tally_write_queue_depth gauge\n"
      << "tally_write_queue_depth " << writer->queue_depth() << "\n";
  Writer::LatencySnapshot lat = writer->CommitLatency();
  out << "# HELP tally_commit_seconds Group commit latency.\n"
         "# TYPE tally_commit_seconds histogram\n";
  for (size_t i = 0; i < Writer::kLatencyBuckets.size(); ++i) {
    out << "tally_commit_seconds_bucket{le=\"" << Writer::kLatencyBuckets[i] << "\"} "
        << lat.cumulative[i] << "\n";
  }
  out << "tally_commit_seconds_bucket{le=\"+Inf\"} " << lat.count << "\n"
      << "tally_commit_seconds_sum " << lat.sum_seconds << "\n"
      << "tally_commit_seconds_count " << lat.count << "\n"
      << "# HELP tally_commit_failures_total Group commits that failed (answered 503).\n"
      << "# TYPE tally_commit_failures_total counter\n"
      << "tally_commit_failures_total " << writer->failed_commits() << "\n"
      << "# HELP tally_db_size_bytes Bytes the store occupies on disk.\n"
      << "# TYPE tally_db_size_bytes gauge\n"
      << "tally_db_size_bytes " << store->SizeBytes() << "\n";
  std::string report_lines;
  if (reports) reports->AppendMetrics(&report_lines);
  out << report_lines;
  res.set_content(out.str(), "text/plain; version=0.0.4");
}

void Collector::Impl::MaintenanceLoop() {
  auto next_retention = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(maintenance_mu);
      maintenance_cv.wait_for(lock, std::chrono::seconds(std::max(1, options.key_refresh_s)),
                              [&] { return maintenance_stop; });
      if (maintenance_stop) return;
    }
    std::vector<KeyRecord> all;
    if (store->ListKeys(&all).ok()) {
      std::unique_lock<std::shared_mutex> lock(keys_mu);
      keys.clear();
      for (auto& k : all) keys[k.key] = std::move(k);
    }
    if (options.retention_days > 0 && std::chrono::steady_clock::now() >= next_retention) {
      next_retention += std::chrono::seconds(options.retention_interval_s);
      int64_t cutoff = clock->NowMs() - int64_t{options.retention_days} * 86400000;
      int64_t purged = 0;
      Status s = store->PurgeBefore(cutoff, &purged);
      metrics.purged += static_cast<uint64_t>(purged);
      LogLine(s.ok() ? "info" : "error", "retention purge",
              json{{"purged", purged}, {"cutoff_ms", cutoff}, {"error", s.message()}}.dump());
    }
  }
}

Collector::Collector(CollectorOptions options, const Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Collector::~Collector() { Stop(); }

Store* Collector::store() { return impl_->store.get(); }
int Collector::port() const { return impl_->port; }

Status Collector::ReloadKeys() {
  Impl& m = *impl_;
  std::vector<KeyRecord> all;
  Status s = m.store->ListKeys(&all);
  if (!s.ok()) return s;
  std::vector<WorkspaceRecord> workspaces;
  s = m.store->ListWorkspaces(&workspaces);
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> lock(m.keys_mu);
  m.keys.clear();
  for (auto& k : all) m.keys[k.key] = std::move(k);
  m.fingerprint_by_workspace.clear();
  for (const auto& w : workspaces) m.fingerprint_by_workspace[w.name] = w.fingerprint_dedup;
  return Status::Ok();
}

Status Collector::RunRetentionOnce(int64_t* purged) {
  *purged = 0;
  if (impl_->options.retention_days <= 0) return Status::Ok();
  int64_t cutoff = impl_->clock->NowMs() - int64_t{impl_->options.retention_days} * 86400000;
  Status s = impl_->store->PurgeBefore(cutoff, purged);
  impl_->metrics.purged += static_cast<uint64_t>(*purged);
  return s;
}

Status Collector::Start() {
  Impl& m = *impl_;
  if (m.options.demo && !IsLoopback(m.options.host)) {
    return Status::InvalidArgument("--demo: refuses to listen on non-loopback address " +
                                   m.options.host);
  }
  Status privacy = ValidatePrivacyOptions(m.options.privacy);
  if (!privacy.ok()) return privacy;
  StoreOptions so;
  so.sync_every_commit = m.options.sync_every_commit;
  Result<std::unique_ptr<Store>> opened = OpenStore(m.options.store, so);
  if (!opened.ok()) return opened.status();
  m.store = std::move(opened).value();
  std::filesystem::path dir = std::filesystem::path(StorePath(m.options.store)).parent_path();
  m.store_dir = dir.empty() ? "." : dir.string();
  Status s = m.SeedKeys();
  if (!s.ok()) return s;
  s = ReloadKeys();
  if (!s.ok()) return s;

  uint64_t seed[4] = {0, 0, 0, 0};
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(seed), sizeof(seed));
  m.random = std::make_unique<SeededRandom>(seed[0], seed[1], seed[2], seed[3]);
  m.ids = std::make_unique<UuidV7Generator>(m.random.get());
  m.writer = std::make_unique<Writer>(m.store.get(), m.clock, m.options.writer);

  httplib::Server& srv = m.server;
  size_t threads = m.options.threads;
  srv.new_task_queue = [threads] {
    NameThisThread("tally-http");  // the listener; the pool's threads inherit the name
    return new httplib::ThreadPool(threads);
  };
  srv.set_payload_max_length(m.options.max_body_bytes);
  srv.set_read_timeout(m.options.read_timeout_s, 0);
  srv.set_write_timeout(m.options.write_timeout_s, 0);
  srv.set_keep_alive_timeout(m.options.keep_alive_timeout_s);
  // Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the peer's
  // delayed ACK stalls every answer by ~40 ms.
  srv.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; a client that sends
  // on it at that moment sees a failed read. Busy SDKs and back-ends reuse connections.
  srv.set_keep_alive_max_count(10000);
  srv.Post("/v1/batch",
           [&m](const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader) { m.HandleBatch(req, res, reader); });
  srv.Options("/v1/batch", [&m](const httplib::Request& req, httplib::Response& res) {
    m.HandlePreflight(req, res);
  });
  srv.Get("/v1/pixel.gif",
          [&m](const httplib::Request& req, httplib::Response& res) { m.HandlePixel(req, res); });
  srv.Get("/healthz", [&m](const httplib::Request&, httplib::Response& res) {
    std::string disk = m.DiskProblem();
    json body = {{"status", disk.empty() ? "ok" : "degraded"},
                 {"queue_depth", m.writer->queue_depth()}};
    if (!disk.empty()) body["error"] = disk;
    res.set_content(body.dump(), "application/json");
  });
  srv.Get("/metrics",
          [&m](const httplib::Request&, httplib::Response& res) { m.HandleMetrics(res); });
  Result<std::unique_ptr<report::ReportStore>> reports = report::OpenReportStore(m.options.store);
  if (!reports.ok()) return reports.status();
  m.reports = std::move(reports).value();
  report::ReportRoutesOptions ro;
  ro.store = m.reports.get();
  ro.clock = m.clock;
  ro.lookup_key = [&m](const std::string& key, KeyRecord* rec) { return m.LookupKey(key, rec); };
  report::RegisterReportRoutes(srv, std::move(ro));
  srv.set_error_handler([&m](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // the handler already wrote its JSON error
    std::string msg;
    switch (res.status) {
      case 404:
        msg = "route: no such route " + req.method + " " + req.path;
        break;
      case 413:
        msg = "body: larger than " + std::to_string(m.options.max_body_bytes) + " bytes";
        break;
      case 415:
        msg = "Content-Encoding: unsupported (send identity or gzip)";
        break;
      case 400:
        msg = "request: malformed HTTP";
        break;
      default:
        msg = "request: failed with status " + std::to_string(res.status);
        break;
    }
    SetError(res, res.status, msg);
  });
  srv.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        LogLine("error", "handler exception", json{{"error", what}}.dump());
        SetError(res, 500, "server: internal error");
      });
  srv.set_logger([&m](const httplib::Request& req, const httplib::Response& res) {
    m.metrics.CountRequest(RouteLabel(req.path), res.status);
    if (res.status >= 500) {
      LogLine("warn", "request failed",
              json{{"route", req.path}, {"status", res.status}, {"body", res.body}}.dump());
    }
  });

  // httplib 0.11.4 listens with a backlog of 5 (compiled into the library). When more clients
  // connect at once (the load tool's 32 keep-alive connections do), the kernel's accept queue
  // overflows and drops handshakes (TcpExtListenOverflows); such a client's first request
  // failed after ~1 s with httplib's "Read" error. Linux lets listen() be called again on the
  // bound socket to raise the backlog, so the socket is remembered here and re-listened below.
  int listen_fd = -1;
  srv.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  if (m.options.port == 0) {
    m.port = srv.bind_to_any_port(m.options.host);
    if (m.port <= 0) return Status::Internal("listen: cannot bind " + m.options.host);
  } else {
    if (!srv.bind_to_port(m.options.host, m.options.port)) {
      return Status::Internal("listen: cannot bind " + m.options.host + ":" +
                              std::to_string(m.options.port));
    }
    m.port = m.options.port;
  }
  if (listen_fd >= 0 && ::listen(listen_fd, SOMAXCONN) != 0) {
    LogLine("warn", "listen backlog stays at httplib's 5", json{{"errno", errno}}.dump());
  }
  m.listen_thread = std::thread([&m] { m.server.listen_after_bind(); });
  m.maintenance_thread = std::thread([&m] { m.MaintenanceLoop(); });
  NameThread(m.maintenance_thread, "tally-maint");
  m.started = true;
  LogLine("info", "listening",
          json{{"host", m.options.host},
               {"port", m.port},
               {"store", RedactStoreUrl(m.options.store)},
               {"sync", m.options.sync_every_commit ? "full" : "normal"}}
              .dump());
  return Status::Ok();
}

void Collector::Stop() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.stop_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  // Stop accepting; httplib's pool then finishes the requests it holds and joins, and each of
  // those requests is still waiting for (and gets) its commit from the writer.
  m.server.stop();
  if (m.listen_thread.joinable()) m.listen_thread.join();
  {
    std::lock_guard<std::mutex> ml(m.maintenance_mu);
    m.maintenance_stop = true;
  }
  m.maintenance_cv.notify_all();
  if (m.maintenance_thread.joinable()) m.maintenance_thread.join();
  m.writer->Stop();
  Status s = m.store->Checkpoint();
  LogLine(s.ok() ? "info" : "error", "stopped",
          json{{"checkpoint", s.ok() ? "ok" : s.message()}}.dump());
}

int RunKeysCommand(const CollectorOptions& options, const std::vector<std::string>& args,
                   const Clock* clock, RandomSource* random) {
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "keys: %s\n", msg.c_str());
    return 2;
  };
  if (args.empty()) return fail("expected create, list or revoke");
  StoreOptions so;
  so.sync_every_commit = options.sync_every_commit;
  Result<std::unique_ptr<Store>> opened = OpenStore(options.store, so);
  if (!opened.ok()) return fail(opened.status().message());
  Store& store = *opened.value();
  const std::string& verb = args[0];
  if (verb == "list") {
    std::vector<KeyRecord> keys;
    Status s = store.ListKeys(&keys);
    if (!s.ok()) return fail(s.message());
    for (const auto& k : keys) {
      json origins = k.origins;
      std::printf("%s\n", json{{"key", k.key},
                               {"kind", KeyKindName(k.kind)},
                               {"workspace", k.workspace},
                               {"source", k.source},
                               {"origins", origins},
                               {"created_at", k.created_at_ms},
                               {"revoked", k.revoked_at_ms != 0}}
                              .dump()
                              .c_str());
    }
    return 0;
  }
  if (verb == "revoke") {
    if (args.size() != 2) return fail("revoke takes one key");
    // A write key as itself; a secret key as itself (its digest is looked up) or as its digest.
    Status s = store.RevokeKey(args[1], clock->NowMs());
    if (s.code() == Code::kNotFound && !IsDigest(args[1])) {
      s = store.RevokeKey(KeyDigest(args[1]), clock->NowMs());
    }
    if (!s.ok()) return fail(s.message());
    std::printf("revoked %s\n", args[1].c_str());
    return 0;
  }
  if (verb == "create") {
    KeyRecord rec;
    std::string kind = "write";
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (i + 1 >= args.size()) return fail(a + ": needs a value");
      const std::string& v = args[++i];
      if (a == "--workspace") {
        rec.workspace = v;
      } else if (a == "--kind") {
        kind = v;
      } else if (a == "--source") {
        rec.source = v;
      } else if (a == "--origin") {
        rec.origins.push_back(v);
      } else if (a == "--key") {
        rec.key = v;
      } else {
        return fail(a + ": unknown option");
      }
    }
    if (rec.workspace.empty()) return fail("--workspace: required");
    if (!ParseKeyKind(kind, &rec.kind)) return fail("--kind: expected write, read or server");
    if (rec.key.empty()) {
      static const char kHex[] = "0123456789abcdef";
      rec.key = rec.kind == KeyKind::kWrite ? "wk_" : rec.kind == KeyKind::kRead ? "rk_" : "sk_";
      for (int w = 0; w < 3; ++w) {
        uint64_t bits = random->Next64();
        for (int i = 0; i < 16; ++i) rec.key += kHex[(bits >> (i * 4)) & 15];
      }
    }
    const std::string secret = rec.key;
    rec.key = StoredKeyForm(rec.kind, secret);
    std::vector<KeyRecord> existing;
    store.ListKeys(&existing);
    for (const auto& k : existing) {
      if (k.key == rec.key) return fail("key \"" + secret + "\" exists already");
    }
    rec.created_at_ms = clock->NowMs();
    std::vector<WorkspaceRecord> workspaces;
    store.ListWorkspaces(&workspaces);
    bool ws_known = false;
    for (const auto& w : workspaces) ws_known = ws_known || w.name == rec.workspace;
    if (!ws_known) store.PutWorkspace(WorkspaceRecord{rec.workspace});
    Status s = store.PutKey(rec);
    if (!s.ok()) return fail(s.message());
    std::printf("%s\n", secret.c_str());
    if (rec.kind != KeyKind::kWrite) {
      std::fprintf(stderr, "keys: only the digest %s is stored; keep the key now\n",
                   rec.key.c_str());
    }
    return 0;
  }
  return fail("unknown subcommand \"" + verb + "\" (expected create, list or revoke)");
}

}  // namespace tally::collector
