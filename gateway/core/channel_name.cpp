#include "gateway/core/channel_name.hpp"

namespace comet {

bool is_valid_channel_name(std::string_view name) {
  if (name.empty() || name.size() > max_channel_name_length) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace comet
