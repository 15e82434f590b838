// Store-independent pieces of the storage contract (store/store.h), shared by every backend.
#include "store/store.h"

#include <sstream>

namespace tally::collector {

const char* KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kWrite:
      return "write";
    case KeyKind::kRead:
      return "read";
    case KeyKind::kServer:
      return "server";
  }
  return "write";
}

bool ParseKeyKind(const std::string& name, KeyKind* kind) {
  if (name == "write") {
    *kind = KeyKind::kWrite;
    return true;
  }
  if (name == "read") {
    *kind = KeyKind::kRead;
    return true;
  }
  if (name == "server") {
    *kind = KeyKind::kServer;
    return true;
  }
  return false;
}

Status CheckAggregate(const AggregateQuery& q) {
  if (q.bucket_ms < 0 || q.to_ms < q.from_ms) {
    return Status::InvalidArgument("aggregate: need from <= to and a bucket >= 0");
  }
  return Status::Ok();
}

std::string AggregateGroupColumn(AggregateQuery::GroupBy group_by,
                                 const std::string& user_id_column) {
  switch (group_by) {
    case AggregateQuery::GroupBy::kName:
      return "name";
    case AggregateQuery::GroupBy::kType:
      return "type";
    case AggregateQuery::GroupBy::kUserId:
      return user_id_column;
    case AggregateQuery::GroupBy::kNone:
      break;
  }
  return "''";
}

std::string JoinOrigins(const std::vector<std::string>& origins) {
  std::string out;
  for (const auto& o : origins) {
    if (!out.empty()) out += ' ';
    out += o;
  }
  return out;
}
std::vector<std::string> SplitOrigins(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string o;
  while (in >> o) out.push_back(o);
  return out;
}

}  // namespace tally::collector
