#include "report/privacy.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "tally/json.h"

namespace tally::collector {
namespace {

// The text a value is hashed as: strings as they are, anything else as its JSON text, so equal
// values always hash alike.
std::string HashInput(const Json& v) {
  if (v.is_string()) return v.as_string();
  std::string text;
  WriteJson(v, &text);
  return text;
}

void MaskIp(const PrivacyOptions& o, Json* holder) {
  if (holder == nullptr || !holder->is_object()) return;
  Json* ip = holder->Find("ip");
  if (ip == nullptr) return;
  switch (o.ip) {
    case PrivacyOptions::IpMode::kKeep:
      return;
    case PrivacyOptions::IpMode::kDrop:
      holder->Erase("ip");
      return;
    case PrivacyOptions::IpMode::kHash:
      *ip = Json::String(PrivacyHash(o.salt, HashInput(*ip)));
      return;
    case PrivacyOptions::IpMode::kTruncate: {
      std::string cut = ip->is_string() ? TruncateIp(ip->as_string()) : "";
      if (cut.empty()) {
        holder->Erase("ip");
      } else {
        *ip = Json::String(cut);
      }
      return;
    }
  }
}

}  // namespace

bool ParseIpMode(const std::string& text, PrivacyOptions::IpMode* mode) {
  if (text == "keep")
    *mode = PrivacyOptions::IpMode::kKeep;
  else if (text == "truncate")
    *mode = PrivacyOptions::IpMode::kTruncate;
  else if (text == "hash")
    *mode = PrivacyOptions::IpMode::kHash;
  else if (text == "drop")
    *mode = PrivacyOptions::IpMode::kDrop;
  else
    return false;
  return true;
}

Status ValidatePrivacyOptions(const PrivacyOptions& o) {
  bool hashes = o.ip == PrivacyOptions::IpMode::kHash || !o.hash_properties.empty();
  if (hashes && o.salt.size() < 16) {
    return Status::InvalidArgument(
        "privacy-salt: required to hash, at least 16 characters (a secret; unkeyed hashes of IPs "
        "or e-mail addresses are reversed by trying every candidate)");
  }
  for (const auto& k : o.hash_properties) {
    if (k.empty()) return Status::InvalidArgument("privacy-hash-properties: empty key");
  }
  for (const auto& k : o.drop_properties) {
    if (k.empty()) return Status::InvalidArgument("privacy-drop-properties: empty key");
  }
  return Status::Ok();
}

std::string PrivacyHash(const std::string& salt, const std::string& text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "h:";
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::string TruncateIp(const std::string& ip) {
  char buf[INET6_ADDRSTRLEN];
  unsigned char v4[4];
  if (inet_pton(AF_INET, ip.c_str(), v4) == 1) {
    v4[3] = 0;
    return inet_ntop(AF_INET, v4, buf, sizeof(buf)) ? buf : "";
  }
  unsigned char v6[16];
  if (inet_pton(AF_INET6, ip.c_str(), v6) == 1) {
    std::memset(v6 + 6, 0, 10);
    return inet_ntop(AF_INET6, v6, buf, sizeof(buf)) ? buf : "";
  }
  return "";
}

void ApplyPrivacy(const PrivacyOptions& o, Event* event) {
  if (!o.active()) return;
  MaskIp(o, &event->context);
  MaskIp(o, &event->properties);
  if (!event->properties.is_object()) return;
  for (const auto& key : o.drop_properties) event->properties.Erase(key);
  for (const auto& key : o.hash_properties) {
    if (Json* v = event->properties.Find(key); v != nullptr && !v->is_null()) {
      *v = Json::String(PrivacyHash(o.salt, HashInput(*v)));
    }
  }
}

}  // namespace tally::collector
