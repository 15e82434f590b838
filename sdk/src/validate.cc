// Event validation over an Event's documents: the collector's path (DecodeBatch). The rules are
// the contract in validate.h and live once, in rules.cc; this walk and the EventWriter's
// streaming pass (event_writer.cc, the browser core) both call them, so an event the page
// accepts is one the collector accepts, with the same message when it is not.

#include "tally/validate.h"

#include <cmath>
#include <utility>

#include "json_internal.h"
#include "rules.h"
#include "tally/codec.h"

namespace tally {
namespace {

class Validator {
 public:
  explicit Validator(const ValidationOptions& options) : o_(options) {}

  Status Run(Event* e, EventDocsJson* docs) { return Check(e, docs) ? Status::Ok() : error_; }

 private:
  bool Check(Event* e, EventDocsJson* docs) {
    path_ = "event_id";
    if (!Ok(detail::CheckEventId(e->event_id, &why_))) return false;
    detail::LowerCaseHex(&e->event_id);
    path_ = "name";
    if (!Ok(detail::CheckName(e->name, o_.max_name_chars, &why_))) return false;
    path_ = "user_id";
    if (!Ok(detail::CheckIdLike(e->user_id, o_.max_id_chars, &why_))) return false;
    path_ = "anonymous_id";
    if (!Ok(detail::CheckIdLike(e->anonymous_id, o_.max_id_chars, &why_))) return false;
    path_ = "session_id";
    if (!Ok(detail::CheckIdLike(e->session_id, o_.max_id_chars, &why_))) return false;
    if (e->user_id.empty() && e->anonymous_id.empty()) {
      path_ = "user_id";
      why_ = detail::kUnattributed;
      return Ok(Code::kInvalidArgument);
    }
    path_ = "created_at";
    if (!Ok(detail::CheckCreatedAt(e->created_at_ms, o_, &why_))) return false;

    path_ = "properties";
    if (!CheckRoot(&e->properties, true)) return false;
    path_ = "context";
    if (!CheckRoot(&e->context, false)) return false;

    // Last, so that truncation has happened. EncodeEvent's size, written in its parts so that
    // the documents' text can be handed to the caller.
    std::string head;
    head.reserve(192);
    detail::AppendEventHead({e->event_id, e->type, e->name, e->user_id, e->anonymous_id,
                             e->session_id, e->created_at_ms},
                            &head);
    EventDocsJson local;
    EventDocsJson& out = docs ? *docs : local;
    out.properties.clear();
    out.context.clear();
    out.properties.reserve(128);  // most documents fit; fewer regrowths
    out.context.reserve(128);
    WriteJson(e->properties, &out.properties);
    WriteJson(e->context, &out.context);
    size_t size = head.size() + out.properties.size() + 1;  // the closing brace
    if (!(e->context.is_object() && e->context.as_object().empty())) {
      size += std::string_view(",\"context\":").size() + out.context.size();
    }
    path_.clear();
    return Ok(detail::CheckEncodedSize(size, o_, &why_));
  }

  // Turns a rule's verdict into error_ (path: message); true when the rule passed.
  bool Ok(Code code) {
    if (code == Code::kOk) return true;
    std::string m = path_;
    if (!m.empty()) m += ": ";
    m += why_;
    error_ = code == Code::kTooLarge ? Status::TooLarge(std::move(m))
                                     : Status::InvalidArgument(std::move(m));
    return false;
  }

  bool CheckRoot(Json* root, bool properties) {
    if (!root->is_object()) {
      why_ = std::string("must be an object, got ") + detail::JsonTypeName(*root);
      return Ok(Code::kInvalidArgument);
    }
    if (!Ok(detail::CheckRootCount(root->as_object().size(), properties, o_, &why_))) {
      return false;
    }
    in_properties_ = properties;
    max_string_chars_ = properties ? o_.max_string_chars : o_.max_context_string_chars;
    return CheckMembers(root, 1);
  }

  // Checks the members of an object at `depth` whose member count is already bounded.
  bool CheckMembers(Json* object, size_t depth) {
    for (Json::Member& m : object->as_object()) {
      if (!Ok(detail::CheckKey(m.first, &why_))) return false;
      const size_t saved = path_.size();
      detail::AppendPathKey(m.first, &path_);
      if (!CheckValue(&m.second, depth + 1)) return false;
      path_.resize(saved);
    }
    return true;
  }

  // `depth` is the nesting level `value` would have if it is a container.
  bool CheckValue(Json* value, size_t depth) {
    switch (value->type()) {
      case Json::Type::kNull:
      case Json::Type::kBool:
        return true;
      case Json::Type::kNumber:
        return Ok(detail::CheckFinite(value->as_number(), &why_));
      case Json::Type::kString:
        return CheckString(&value->as_string());
      case Json::Type::kArray:
      case Json::Type::kObject:
        break;
    }
    if (!Ok(detail::CheckDepth(depth, o_, &why_))) return false;
    const size_t n = value->is_array() ? value->as_array().size() : value->as_object().size();
    if (!Ok(detail::CheckMemberCount(n, value->is_array(), o_, &why_))) return false;
    if (value->is_array()) {
      Json::Array& items = value->as_array();
      for (size_t i = 0; i < items.size(); ++i) {
        const size_t saved = path_.size();
        detail::AppendPathIndex(i, &path_);
        if (!CheckValue(&items[i], depth + 1)) return false;
        path_.resize(saved);
      }
      return true;
    }
    if (in_properties_) {
      const Json* amount = value->Find("amount");
      const Json* currency = value->Find("currency");
      if (amount != nullptr && currency != nullptr) return CheckMoney(*value, *amount, *currency);
      const Json* url = value->Find("url");
      if (url != nullptr && n == 2 && value->Find("value") != nullptr) return CheckRichLink(value);
    }
    return CheckMembers(value, depth);
  }

  bool CheckMoney(const Json& money, const Json& amount, const Json& currency) {
    if (!Ok(detail::CheckMoneyShape(money.as_object().size(), &why_))) return false;
    const size_t saved = path_.size();
    detail::AppendPathKey("amount", &path_);
    const char* amount_type = nullptr;
    if (!amount.is_number()) {
      amount_type = detail::JsonTypeName(amount);
    } else if (!std::isfinite(amount.as_number())) {
      amount_type = "a number";
    }
    if (!Ok(detail::CheckMoneyAmount(amount_type, &why_))) return false;
    path_.resize(saved);
    detail::AppendPathKey("currency", &path_);
    std::string_view code;
    if (currency.is_string()) code = currency.as_string();
    if (!Ok(detail::CheckMoneyCurrency(currency.is_string() ? &code : nullptr,
                                       detail::JsonTypeName(currency), &why_))) {
      return false;
    }
    path_.resize(saved);
    return true;
  }

  bool CheckRichLink(Json* link) {
    const size_t saved = path_.size();
    for (Json::Member& m : link->as_object()) {
      detail::AppendPathKey(m.first, &path_);
      std::string_view text;
      if (m.second.is_string()) text = m.second.as_string();
      if (!Ok(detail::CheckRichLinkMember(m.first, m.second.is_string() ? &text : nullptr,
                                          detail::JsonTypeName(m.second), &why_))) {
        return false;
      }
      if (!CheckString(&m.second.as_string())) return false;
      path_.resize(saved);
    }
    return true;
  }

  bool CheckString(std::string* s) {
    size_t keep = 0;
    const Code code = detail::CheckStringValue(*s, max_string_chars_, o_.overlong_strings,
                                               in_properties_, &keep, &why_);
    s->resize(keep);
    return Ok(code);
  }

  const ValidationOptions& o_;
  std::string path_;
  std::string why_;
  Status error_;
  bool in_properties_ = true;
  size_t max_string_chars_ = 0;
};

}  // namespace

Status ValidateEvent(Event* event, const ValidationOptions& options) {
  return Validator(options).Run(event, nullptr);
}

Status ValidateEvent(Event* event, const ValidationOptions& options, EventDocsJson* docs) {
  return Validator(options).Run(event, docs);
}

}  // namespace tally
