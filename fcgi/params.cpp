#include "fcgi/params.hpp"

namespace fcgi {

void Params::add(std::string_view name, std::string_view value) {
  // Lengths fit: the decoder bounds the sum of all params far below 4 GB.
  index_.push_back({static_cast<std::uint32_t>(bytes_.size()),
                    static_cast<std::uint32_t>(name.size()),
                    static_cast<std::uint32_t>(value.size())});
  bytes_.append(name);
  bytes_.append(value);
}

void Params::reserve(std::size_t bytes, std::size_t pairs) {
  bytes_.reserve(bytes_.size() + bytes);
  index_.reserve(index_.size() + pairs);
}

std::string_view Params::get(std::string_view name) const {
  const std::string_view all = bytes_;
  for (const Entry& e : index_) {
    if (all.substr(e.offset, e.name_len) == name)
      return all.substr(e.offset + e.name_len, e.value_len);
  }
  return {};
}

std::pair<std::string_view, std::string_view> Params::operator[](std::size_t i) const {
  const std::string_view all = bytes_;
  const Entry& e = index_[i];
  return {all.substr(e.offset, e.name_len), all.substr(e.offset + e.name_len, e.value_len)};
}

void Params::clear() {
  std::string().swap(bytes_);
  std::vector<Entry>().swap(index_);
}

}  // namespace fcgi
