#include "http/options.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tally::collector {
namespace {

using nlohmann::json;

Status ParseInt(const std::string& what, const std::string& text, int64_t lo, int64_t hi,
                int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno || v < lo || v > hi) {
    return Status::InvalidArgument(what + ": expected an integer in [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + "], got \"" + text + "\"");
  }
  *out = v;
  return Status::Ok();
}

Status ParseDouble(const std::string& what, const std::string& text, double* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0)) {
    return Status::InvalidArgument(what + ": expected a number >= 0, got \"" + text + "\"");
  }
  *out = v;
  return Status::Ok();
}

Status ParseListen(const std::string& what, const std::string& text, CollectorOptions* o) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument(what + ": expected host:port, got \"" + text + "\"");
  }
  int64_t port;
  Status s = ParseInt(what + " port", text.substr(colon + 1), 0, 65535, &port);
  if (!s.ok()) return s;
  o->host = text.substr(0, colon);
  if (o->host.size() > 2 && o->host.front() == '[' && o->host.back() == ']') {
    o->host = o->host.substr(1, o->host.size() - 2);
  }
  o->port = static_cast<int>(port);
  return Status::Ok();
}

Status ParseSync(const std::string& what, const std::string& text, CollectorOptions* o) {
  if (text == "full") {
    o->sync_every_commit = true;
  } else if (text == "normal") {
    o->sync_every_commit = false;
  } else {
    return Status::InvalidArgument(what + ": expected full or normal, got \"" + text + "\"");
  }
  return Status::Ok();
}

// One setting by name, from any of the three sources (config key, TALLY_ variable, flag).
Status ApplySetting(const std::string& what, const std::string& name, const std::string& value,
                    CollectorOptions* o) {
  int64_t n = 0;
  Status s;
  if (name == "listen") return ParseListen(what, value, o);
  if (name == "store") {
    o->store = value;
    return Status::Ok();
  }
  if (name == "sync") return ParseSync(what, value, o);
  if (name == "max-body-bytes") {
    s = ParseInt(what, value, 1, 1LL << 30, &n);
    o->max_body_bytes = static_cast<size_t>(n);
  } else if (name == "max-events-per-batch") {
    s = ParseInt(what, value, 1, 1000000, &n);
    o->max_events_per_batch = static_cast<size_t>(n);
  } else if (name == "threads") {
    s = ParseInt(what, value, 1, 4096, &n);
    o->threads = static_cast<size_t>(n);
  } else if (name == "read-timeout") {
    s = ParseInt(what, value, 1, 3600, &n);
    o->read_timeout_s = static_cast<int>(n);
  } else if (name == "write-timeout") {
    s = ParseInt(what, value, 1, 3600, &n);
    o->write_timeout_s = static_cast<int>(n);
  } else if (name == "queue-max-requests") {
    s = ParseInt(what, value, 1, 1000000, &n);
    o->writer.max_queued_requests = static_cast<size_t>(n);
  } else if (name == "writer-linger-ms") {
    s = ParseInt(what, value, 0, 1000, &n);
    o->writer.linger_ms = static_cast<int>(n);
  } else if (name == "rate-limit-rps") {
    return ParseDouble(what, value, &o->rate_limit_rps);
  } else if (name == "rate-limit-burst") {
    return ParseDouble(what, value, &o->rate_limit_burst);
  } else if (name == "min-free-disk-bytes") {
    s = ParseInt(what, value, 0, INT64_MAX, &n);
    o->min_free_disk_bytes = n;
  } else if (name == "retention-days") {
    s = ParseInt(what, value, 0, 100000, &n);
    o->retention_days = static_cast<int>(n);
  } else if (name == "retention-interval") {
    s = ParseInt(what, value, 1, 86400 * 30, &n);
    o->retention_interval_s = static_cast<int>(n);
  } else if (name == "privacy-ip") {
    if (!ParseIpMode(value, &o->privacy.ip)) {
      return Status::InvalidArgument(what + ": expected keep, truncate, hash or drop, got \"" +
                                     value + "\"");
    }
  } else if (name == "privacy-hash-properties" || name == "privacy-drop-properties") {
    // "a,b" (flag, variable) or ["a","b"] (config file).
    std::vector<std::string>& keys =
        name == "privacy-hash-properties" ? o->privacy.hash_properties : o->privacy.drop_properties;
    keys.clear();
    json list = json::parse(value, nullptr, false);
    if (list.is_array()) {
      for (const auto& k : list) keys.push_back(k.is_string() ? k.get<std::string>() : k.dump());
    } else {
      std::stringstream in(value);
      for (std::string k; std::getline(in, k, ',');) keys.push_back(k);
    }
  } else if (name == "privacy-salt") {
    o->privacy.salt = value;
  } else {
    return Status::InvalidArgument(what + ": unknown setting");
  }
  return s;
}

const char* const kSettings[] = {"listen",
                                 "store",
                                 "sync",
                                 "max-body-bytes",
                                 "max-events-per-batch",
                                 "threads",
                                 "read-timeout",
                                 "write-timeout",
                                 "queue-max-requests",
                                 "writer-linger-ms",
                                 "rate-limit-rps",
                                 "rate-limit-burst",
                                 "min-free-disk-bytes",
                                 "retention-days",
                                 "retention-interval",
                                 "privacy-ip",
                                 "privacy-hash-properties",
                                 "privacy-drop-properties",
                                 "privacy-salt"};

std::string EnvName(const std::string& setting) {
  std::string out = "TALLY_";
  for (char c : setting) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

std::string ConfigName(const std::string& setting) {
  std::string out;
  for (char c : setting) out += c == '-' ? '_' : c;
  return out;
}

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("--config: cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

}  // namespace

const char* HelpText() {
  return R"(tally-collector: receives Tally event batches and stores them durably.

Usage:
  tally-collector [options]
  tally-collector keys create --workspace W --kind write|read|server [--source S] [--origin O]... [--key K]
  tally-collector keys list
  tally-collector keys revoke KEY
  (keys subcommands take --store and --config too)

Options (each also TALLY_<NAME> in the environment, and <name> with underscores in --config):
  --config FILE               JSON config: these settings plus "workspaces" (sources, keys)
  --listen HOST:PORT          default 127.0.0.1:8080
  --store URL                 default sqlite:./data/tally.db
  --sync full|normal          full: each commit synced to disk (survives power loss; default);
                              normal: survives a process crash only
  --max-body-bytes N          default 524288 (413 above)
  --max-events-per-batch N    default 1000 (413 above)
  --threads N                 worker threads = concurrent connections (default 32)
  --read-timeout S            slow-client timeouts, seconds (default 10)
  --write-timeout S
  --queue-max-requests N      requests waiting for the writer before 503 (default 512)
  --writer-linger-ms N        wait up to N ms for more requests before a write that is not full
                              (default: 0 for sqlite, 5 for clickhouse, which wants few, big INSERTs)
  --rate-limit-rps X          per key token bucket (default 5000 requests/s; 0 disables)
  --rate-limit-burst X        default 10000
  --min-free-disk-bytes N     503 while free disk is below this (default 268435456)
  --retention-days N          purge events older than N days (default 0: keep)
  --retention-interval S      how often the purge runs (default 3600)
  --privacy-ip MODE           context.ip / properties.ip at ingest: keep (default), truncate
                              (/24, /48), hash (keyed), drop
  --privacy-hash-properties K,K  property keys stored as a keyed hash (h:...)
  --privacy-drop-properties K,K  property keys never stored
  --privacy-salt S            the hash key (16+ characters; best as TALLY_PRIVACY_SALT)
  --demo                      workspace "demo", write key wk_demo, read key rk_demo, localhost
                              origins; refuses a non-loopback listen address
  --help
)";
}

Status ApplyConfigJson(const std::string& text, CollectorOptions* o) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::ParseError("--config: not a JSON object");
  }
  for (const char* setting : kSettings) {
    auto it = doc.find(ConfigName(setting));
    if (it == doc.end()) continue;
    std::string value = it->is_string() ? it->get<std::string>() : it->dump();
    Status s = ApplySetting("config " + ConfigName(setting), setting, value, o);
    if (!s.ok()) return s;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = it.key() == "workspaces";
    for (const char* setting : kSettings) known = known || it.key() == ConfigName(setting);
    if (!known) return Status::InvalidArgument("config " + it.key() + ": unknown field");
  }
  auto ws = doc.find("workspaces");
  if (ws == doc.end()) return Status::Ok();
  if (!ws->is_array()) return Status::InvalidArgument("config workspaces: must be an array");
  for (size_t i = 0; i < ws->size(); ++i) {
    const json& w = (*ws)[i];
    std::string at = "config workspaces[" + std::to_string(i) + "]";
    if (!w.is_object() || !w.contains("name") || !w["name"].is_string()) {
      return Status::InvalidArgument(at + ".name: must be a string");
    }
    WorkspaceConfig wc;
    wc.name = w["name"].get<std::string>();
    if (w.contains("fingerprint_dedup")) {
      if (!w["fingerprint_dedup"].is_boolean()) {
        return Status::InvalidArgument(at + ".fingerprint_dedup: must be true or false");
      }
      wc.fingerprint_dedup = w["fingerprint_dedup"].get<bool>();
    }
    if (w.contains("fingerprint_window_ms")) {
      if (!w["fingerprint_window_ms"].is_number_integer()) {
        return Status::InvalidArgument(at + ".fingerprint_window_ms: must be an integer");
      }
      wc.fingerprint_window_ms = w["fingerprint_window_ms"].get<int64_t>();
    }
    auto strings = [&](const char* field, std::vector<std::string>* out) -> Status {
      if (!w.contains(field)) return Status::Ok();
      if (!w[field].is_array())
        return Status::InvalidArgument(at + "." + field + ": must be an array");
      for (const auto& k : w[field]) {
        if (!k.is_string())
          return Status::InvalidArgument(at + "." + field + ": must hold strings");
        out->push_back(k.get<std::string>());
      }
      return Status::Ok();
    };
    Status s = strings("read_keys", &wc.read_keys);
    if (s.ok()) s = strings("server_keys", &wc.server_keys);
    if (!s.ok()) return s;
    if (w.contains("sources")) {
      if (!w["sources"].is_array())
        return Status::InvalidArgument(at + ".sources: must be an array");
      for (size_t j = 0; j < w["sources"].size(); ++j) {
        const json& src = w["sources"][j];
        std::string sat = at + ".sources[" + std::to_string(j) + "]";
        if (!src.is_object() || !src.contains("write_key") || !src["write_key"].is_string()) {
          return Status::InvalidArgument(sat + ".write_key: must be a string");
        }
        SourceConfig sc;
        sc.name = src.value("name", std::string("default"));
        sc.write_key = src["write_key"].get<std::string>();
        if (src.contains("origins")) {
          if (!src["origins"].is_array()) {
            return Status::InvalidArgument(sat + ".origins: must be an array of strings");
          }
          for (const auto& og : src["origins"]) {
            if (!og.is_string())
              return Status::InvalidArgument(sat + ".origins: must hold strings");
            sc.origins.push_back(og.get<std::string>());
          }
        }
        wc.sources.push_back(std::move(sc));
      }
    }
    o->workspaces.push_back(std::move(wc));
  }
  return Status::Ok();
}

Status ApplyDemo(CollectorOptions* o) {
  if (o->host != "127.0.0.1" && o->host != "localhost" && o->host != "::1") {
    return Status::InvalidArgument("--demo: refuses to listen on non-loopback address \"" +
                                   o->host + "\" (the demo keys are public)");
  }
  WorkspaceConfig demo;
  demo.name = "demo";
  SourceConfig site;
  site.name = "demo-site";
  site.write_key = "wk_demo";
  for (const char* host : {"localhost", "127.0.0.1"}) {
    site.origins.push_back(std::string("http://") + host);
    for (int port : {3000, 5173, 8000, 8081, 8088, 8888}) {
      site.origins.push_back(std::string("http://") + host + ":" + std::to_string(port));
    }
  }
  demo.sources.push_back(site);
  demo.read_keys.push_back("rk_demo");
  o->workspaces.push_back(std::move(demo));
  o->demo = true;
  return Status::Ok();
}

Status ParseCommandLine(int argc, const char* const* argv,
                        const std::map<std::string, std::string>& env, CollectorOptions* o,
                        Command* command) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Subcommand first: `keys ...` keeps its own words.
  size_t start = 0;
  if (!args.empty() && args[0] == "keys") {
    command->kind = Command::Kind::kKeys;
    start = 1;
  }
  // Pass 1: --config (flag, else TALLY_CONFIG) is read before anything else.
  std::string config_path;
  if (auto it = env.find("TALLY_CONFIG"); it != env.end()) config_path = it->second;
  for (size_t i = start; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") config_path = args[i + 1];
  }
  if (!config_path.empty()) {
    std::string text;
    Status s = ReadFile(config_path, &text);
    if (s.ok()) s = ApplyConfigJson(text, o);
    if (!s.ok()) return s;
  }
  for (const char* setting : kSettings) {
    auto it = env.find(EnvName(setting));
    if (it == env.end()) continue;
    Status s = ApplySetting(EnvName(setting), setting, it->second, o);
    if (!s.ok()) return s;
  }
  bool demo = false;
  if (auto it = env.find("TALLY_DEMO"); it != env.end() && it->second == "1") demo = true;
  for (size_t i = start; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      command->kind = Command::Kind::kHelp;
      return Status::Ok();
    }
    if (a == "--demo") {
      demo = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      size_t eq = name.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      bool known = name == "config";
      for (const char* setting : kSettings) known = known || name == setting;
      if (!known && command->kind == Command::Kind::kKeys) {
        command->keys_args.push_back(a);  // the keys subcommand's own flags
        continue;
      }
      if (!known) return Status::InvalidArgument("--" + name + ": unknown flag (see --help)");
      if (!inline_value) {
        if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + ": needs a value");
        value = args[++i];
      }
      if (name == "config") continue;
      Status s = ApplySetting("--" + name, name, value, o);
      if (!s.ok()) return s;
      continue;
    }
    if (command->kind == Command::Kind::kKeys) {
      command->keys_args.push_back(a);
      continue;
    }
    return Status::InvalidArgument(a + ": unexpected argument (see --help)");
  }
  if (demo) return ApplyDemo(o);
  return Status::Ok();
}

}  // namespace tally::collector
