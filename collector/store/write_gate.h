// One SQLite file has one writer at a time. The collector writes a file from more than one
// connection (the ingest writer, its checkpoints, the report rollup job); they take turns here,
// in the order they asked, before they begin a write transaction, instead of meeting in SQLite's
// busy handler. That handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries: the ingest
// writer lost up to a sleep's length after each rollup transaction, and a rollup job that tried
// while groups committed back to back could miss every gap between them.
#ifndef TALLY_COLLECTOR_STORE_WRITE_GATE_H_
#define TALLY_COLLECTOR_STORE_WRITE_GATE_H_

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tally::collector {

/// A first-come first-served lock (BasicLockable, for std::lock_guard / std::unique_lock).
class WriteGate {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t ticket = next_++;
    turn_.wait(l, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++serving_;
    }
    turn_.notify_all();
  }
  /// Turns asked for and not yet over (the holder's included).
  uint64_t queued() {
    std::lock_guard<std::mutex> l(mu_);
    return next_ - serving_;
  }

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  uint64_t next_ = 0;     // guarded by mu_
  uint64_t serving_ = 0;  // guarded by mu_
};

/// The gate of the SQLite file at `path`, shared by every caller in this process that names the
/// same file (compared by canonical path), for as long as one of them holds it.
inline std::shared_ptr<WriteGate> WriteGateFor(const std::string& path) {
  static std::mutex registry_mu;
  static std::map<std::string, std::weak_ptr<WriteGate>> registry;
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec) key = path;
  std::lock_guard<std::mutex> lock(registry_mu);
  for (auto it = registry.begin(); it != registry.end();) {
    it = it->second.expired() && it->first != key ? registry.erase(it) : std::next(it);
  }
  std::shared_ptr<WriteGate> gate = registry[key].lock();
  if (!gate) {
    gate = std::make_shared<WriteGate>();
    registry[key] = gate;
  }
  return gate;
}

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_STORE_WRITE_GATE_H_
