// Privacy masking at ingest: what an operator asks never to store is changed before the row is
// built, so no report, export or backup can show it. A pure function over the decoded event;
// it lives beside the reports because what it hides is what reports must never show.
#ifndef TALLY_COLLECTOR_REPORT_PRIVACY_H_
#define TALLY_COLLECTOR_REPORT_PRIVACY_H_

#include <string>
#include <vector>

#include "tally/event.h"
#include "tally/status.h"

namespace tally::collector {

struct PrivacyOptions {
  /// What happens to IP addresses, found in `context.ip` and `properties.ip`:
  ///  keep;
  ///  truncate: IPv4 keeps its first 3 bytes (a.b.c.0), IPv6 its first 48 bits (a:b:c::); a
  ///            value that is not an IP address is dropped, since it cannot be truncated;
  ///  hash:     replaced by a keyed hash (see `salt`);
  ///  drop:     removed.
  enum class IpMode { kKeep, kTruncate, kHash, kDrop } ip = IpMode::kKeep;
  /// Top-level property keys whose values are replaced by a keyed hash (same value, same hash,
  /// so counts and funnels still work) and keys removed altogether.
  std::vector<std::string> hash_properties;
  std::vector<std::string> drop_properties;
  /// The HMAC-SHA-256 key for hashes. Required when anything is hashed: unkeyed hashes of IPs or
  /// e-mail addresses are reversed by trying every candidate.
  std::string salt;

  bool active() const {
    return ip != IpMode::kKeep || !hash_properties.empty() || !drop_properties.empty();
  }
};

/// Checks the options (errors name the setting: `privacy-salt: required to hash`).
Status ValidatePrivacyOptions(const PrivacyOptions& options);

/// Parses "keep" | "truncate" | "hash" | "drop".
bool ParseIpMode(const std::string& text, PrivacyOptions::IpMode* mode);

/// Masks `event` in place. Requires ValidatePrivacyOptions(options).ok().
void ApplyPrivacy(const PrivacyOptions& options, Event* event);

/// "h:" + the first 32 hex digits of HMAC-SHA-256(salt, text): what a hashed value becomes.
std::string PrivacyHash(const std::string& salt, const std::string& text);

/// a.b.c.0 for IPv4, the first 48 bits for IPv6; empty when `ip` is not an address.
std::string TruncateIp(const std::string& ip);

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_REPORT_PRIVACY_H_
