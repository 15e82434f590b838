#include "tally/dedup.h"

#include <string>
#include <utility>

namespace tally {
namespace {

// The fingerprint's hash: two independent 64-bit lanes (different seeds, multipliers and
// rotations, each finished with MurmurHash3's fmix64), 128 bits in all. Not cryptographic, and
// it need not be:
//  - by chance, among the at most max_entries (1e5 by default) keys a Deduper holds, a
//    collision has probability about n^2 / 2^129, some 1e-29;
//  - on purpose, a collision gains nothing: to make another event look like a duplicate, an
//    attacker must know its name, user and second, and could then send that very content,
//    which the rule drops by design.
// Hand-written because it is a dozen lines and SHA-256 would cost Wasm bytes for no gain.
inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

inline uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

void Hash128(std::string_view data, uint64_t* out_a, uint64_t* out_b) {
  uint64_t a = 0x243f6a8885a308d3ULL;
  uint64_t b = 0x13198a2e03707344ULL;
  const size_t n = data.size();
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w = 0;  // little-endian, zero-padded; the length is mixed in below
    for (size_t j = 0; j < 8 && i + j < n; ++j) {
      w |= static_cast<uint64_t>(static_cast<unsigned char>(data[i + j])) << (8 * j);
    }
    a = Rotl((a ^ w) * 0x9e3779b97f4a7c15ULL, 29);
    b = Rotl((b ^ Rotl(w, 32)) * 0xbf58476d1ce4e5b9ULL, 31) + a;
  }
  *out_a = Fmix64(a ^ n);
  *out_b = Fmix64(b ^ (static_cast<uint64_t>(n) * 0x94d049bb133111ebULL));
}

// A netstring: the length in decimal, a colon, the bytes. Fields framed this way cannot run
// into one another ("ab"+"c" and "a"+"bc" differ).
void AppendField(std::string_view field, std::string* out) {
  out->append(std::to_string(field.size()));
  out->push_back(':');
  out->append(field);
}

void AppendHex(uint64_t v, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out->push_back(kHex[(v >> shift) & 0xf]);
}

// Prefixes fingerprints inside the Deduper so that no event id can equal one.
constexpr char kFingerprintTag = '#';

}  // namespace

std::string ContentFingerprint(const Event& event, std::string_view workspace) {
  return ContentFingerprint(
      EventKey{event.event_id, event.name, event.user_id, event.anonymous_id, event.created_at_ms},
      workspace);
}

std::string ContentFingerprint(const EventKey& event, std::string_view workspace) {
  // Floor division, so the second is right for any sign.
  int64_t second = event.created_at_ms / 1000;
  if (event.created_at_ms % 1000 < 0) --second;
  std::string framed;
  framed.reserve(event.name.size() + event.user_id.size() + event.anonymous_id.size() +
                 workspace.size() + 48);
  AppendField(event.name, &framed);
  AppendField(std::to_string(second), &framed);
  // The kind of id is part of the key: user "x" and anonymous visitor "x" are different people.
  if (!event.user_id.empty()) {
    AppendField("u", &framed);
    AppendField(event.user_id, &framed);
  } else {
    AppendField("a", &framed);
    AppendField(event.anonymous_id, &framed);
  }
  AppendField(workspace, &framed);

  uint64_t a = 0;
  uint64_t b = 0;
  Hash128(framed, &a, &b);
  std::string hex;
  hex.reserve(32);
  AppendHex(a, &hex);
  AppendHex(b, &hex);
  return hex;
}

Deduper::Deduper(const DedupOptions& options) : options_(options) {}

Deduper::Verdict Deduper::Check(const Event& event, std::string_view workspace, int64_t now_ms) {
  return Check(
      EventKey{event.event_id, event.name, event.user_id, event.anonymous_id, event.created_at_ms},
      workspace, now_ms);
}

Deduper::Verdict Deduper::Check(const EventKey& event, std::string_view workspace, int64_t now_ms) {
  if (now_ms < latest_ms_) now_ms = latest_ms_;
  latest_ms_ = now_ms;
  Expire(now_ms);

  const bool check_id = !event.event_id.empty();
  if (check_id && seen_.count(std::string(event.event_id)) != 0) return Verdict::kDuplicateId;
  std::string fingerprint;
  if (options_.fingerprint) {
    fingerprint.push_back(kFingerprintTag);
    fingerprint += ContentFingerprint(event, workspace);
    if (seen_.count(fingerprint) != 0) return Verdict::kDuplicateContent;
  }
  if (check_id) Remember(std::string(event.event_id), now_ms);
  if (options_.fingerprint) Remember(std::move(fingerprint), now_ms);
  return Verdict::kNew;
}

void Deduper::Expire(int64_t now_ms) {
  // A key first seen at t is forgotten once now >= t + window. The difference is taken
  // unsigned (now >= t always holds here), so no input can overflow it.
  const uint64_t window = options_.window_ms < 0 ? 0 : static_cast<uint64_t>(options_.window_ms);
  while (!by_time_.empty() &&
         static_cast<uint64_t>(now_ms) - static_cast<uint64_t>(by_time_.front().first) >= window) {
    seen_.erase(*by_time_.front().second);
    by_time_.pop_front();
  }
}

void Deduper::Remember(std::string key, int64_t now_ms) {
  auto inserted = seen_.emplace(std::move(key), now_ms);
  if (!inserted.second) return;
  by_time_.emplace_back(now_ms, &inserted.first->first);
  while (seen_.size() > options_.max_entries) {
    seen_.erase(*by_time_.front().second);
    by_time_.pop_front();
  }
}

}  // namespace tally
