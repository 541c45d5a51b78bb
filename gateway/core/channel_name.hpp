#pragma once

#include <cstddef>
#include <string_view>

namespace comet {

inline constexpr std::size_t max_channel_name_length = 128;

// docs/API.md: 1 to 128 characters of A-Z a-z 0-9 _ . : @ -
bool is_valid_channel_name(std::string_view name);

}  // namespace comet
