#include "tally/batcher.h"

#include <algorithm>
#include <utility>

#include "json_internal.h"

namespace tally {
namespace {

uint32_t HashId(std::string_view id) {  // FNV-1a
  uint32_t h = 2166136261u;
  for (const char c : id) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

}  // namespace

Batcher::Batcher(const BatchOptions& batch, const QueueOptions& queue)
    : batch_(batch), queue_(queue) {}

Status Batcher::CanPush(std::string_view event_id, size_t encoded_bytes) const {
  if (encoded_bytes > batch_.max_bytes) {
    return Status::TooLarge("event: " + detail::IntText(static_cast<int64_t>(encoded_bytes)) +
                            " encoded bytes can never fit a batch of at most " +
                            detail::IntText(static_cast<int64_t>(batch_.max_bytes)));
  }
  if (Contains(event_id)) {
    return Status::Duplicate("event_id: " + std::string(event_id) + " is already queued");
  }
  if (size() >= queue_.max_events) {
    return Status::ResourceExhausted(
        "queue: full (" + detail::IntText(static_cast<int64_t>(size())) + " events, the bound)");
  }
  if (encoded_bytes > queue_.max_bytes || bytes_ > queue_.max_bytes - encoded_bytes) {
    return Status::ResourceExhausted(
        "queue: full (" + detail::IntText(static_cast<int64_t>(bytes_)) + " of " +
        detail::IntText(static_cast<int64_t>(queue_.max_bytes)) + " bytes used)");
  }
  return Status::Ok();
}

Status Batcher::Push(std::string event_id, std::string encoded, int64_t now_ms) {
  Status status = CanPush(event_id, encoded.size());
  if (!status.ok()) return status;
  bytes_ += encoded.size();
  const uint32_t hash = HashId(event_id);
  items_.push_back(Item{std::move(event_id), std::move(encoded), now_ms, hash});
  return Status::Ok();
}

bool Batcher::Due(int64_t now_ms) const {
  if (empty()) return false;
  if (size() >= batch_.max_events) return true;
  if (bytes_ + (size() - 1) >= batch_.max_bytes) return true;
  const int64_t age = now_ms - (*this)[0].enqueued_ms;
  // A negative age means the device clock stepped back: send rather than strand the queue
  // until the clock catches up.
  return age < 0 || age >= batch_.max_age_ms;
}

int64_t Batcher::MsUntilDue(int64_t now_ms) const {
  if (empty()) return -1;
  if (Due(now_ms)) return 0;
  return (*this)[0].enqueued_ms + batch_.max_age_ms - now_ms;
}

size_t Batcher::NextBatchCount(size_t overhead_bytes, size_t max_bytes) const {
  const size_t limit = max_bytes == 0 ? batch_.max_bytes : max_bytes;
  if (overhead_bytes > limit) return 0;
  // The body is overhead + sum(sizes) + (n - 1) commas (see BatchOverheadBytes in codec.h).
  size_t total = overhead_bytes;
  size_t count = 0;
  const size_t most = std::min(size(), batch_.max_events);
  while (count < most) {
    const size_t add = (*this)[count].encoded.size() + (count == 0 ? 0 : 1);
    if (add > limit - total) break;
    total += add;
    ++count;
  }
  return count;
}

std::vector<std::string_view> Batcher::Head(size_t n) const {
  n = std::min(n, size());
  std::vector<std::string_view> head;
  head.reserve(n);
  for (size_t i = 0; i < n; ++i) head.emplace_back((*this)[i].encoded);
  return head;
}

void Batcher::Pop(size_t n) {
  n = std::min(n, size());
  for (size_t i = 0; i < n; ++i) {
    Item& item = items_[head_ + i];
    bytes_ -= item.encoded.size();
    item = Item();  // frees the strings now
  }
  head_ += n;
  if (head_ == items_.size()) {
    items_.clear();
    head_ = 0;
  } else if (head_ * 2 >= items_.size()) {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

bool Batcher::Contains(std::string_view event_id) const {
  const uint32_t hash = HashId(event_id);
  for (const Item& item : *this) {
    if (item.id_hash == hash && item.event_id == event_id) return true;
  }
  return false;
}

}  // namespace tally
