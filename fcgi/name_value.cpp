#include "fcgi/name_value.hpp"

#include <algorithm>

#include "fcgi/error.hpp"

namespace fcgi {

bool NameValueDecoder::take_length(std::string_view& data, std::uint32_t& len) {
  while (!data.empty()) {
    len_bytes_[len_have_++] = static_cast<std::uint8_t>(data.front());
    data.remove_prefix(1);
    if (len_have_ == 1 && (len_bytes_[0] & 0x80) == 0) {
      len = len_bytes_[0];
      len_have_ = 0;
      return true;
    }
    if (len_have_ == 4) {
      len = (static_cast<std::uint32_t>(len_bytes_[0] & 0x7f) << 24) |
            (static_cast<std::uint32_t>(len_bytes_[1]) << 16) |
            (static_cast<std::uint32_t>(len_bytes_[2]) << 8) | len_bytes_[3];
      len_have_ = 0;
      return true;
    }
  }
  return false;
}

namespace {

// A length at data[at..] without consuming it: false when its bytes are not
// all there.
bool peek_length(std::string_view data, std::size_t& at, std::uint32_t& len) {
  if (at >= data.size()) return false;
  const auto b0 = static_cast<std::uint8_t>(data[at]);
  if ((b0 & 0x80) == 0) {
    len = b0;
    at += 1;
    return true;
  }
  if (data.size() - at < 4) return false;
  len = (static_cast<std::uint32_t>(b0 & 0x7f) << 24) |
        (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[at + 1])) << 16) |
        (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[at + 2])) << 8) |
        static_cast<std::uint8_t>(data[at + 3]);
  at += 4;
  return true;
}

}  // namespace

bool NameValueDecoder::accept_lengths(std::uint32_t name_len, std::uint32_t value_len,
                                      std::error_code& ec) {
  if (name_len > max_bytes_ || value_len > max_bytes_) {
    fail(errc::bad_name_value_length, ec);
    return false;
  }
  const std::size_t pair = std::size_t{name_len} + value_len + pair_cost_;
  if (total_ + pair > max_bytes_) {
    fail(errc::params_too_large, ec);
    return false;
  }
  total_ += pair;
  return true;
}

template <class Add>
void NameValueDecoder::put_into(std::string_view data, Add&& add, std::error_code& ec) {
  while (state_ != State::failed) {
    switch (state_) {
      case State::name_len: {
        if (data.empty()) return;
        if (len_have_ == 0) {
          // A whole pair in `data`: handed over as it is.
          std::size_t at = 0;
          std::uint32_t nl = 0, vl = 0;
          if (peek_length(data, at, nl) && peek_length(data, at, vl) &&
              data.size() - at >= std::size_t{nl} + vl) {
            if (!accept_lengths(nl, vl, ec)) return;
            add(data.substr(at, nl), data.substr(at + nl, vl));
            data.remove_prefix(at + nl + vl);
            break;
          }
        }
        if (!take_length(data, name_len_)) return;
        state_ = State::value_len;
        break;
      }
      case State::value_len: {
        if (!take_length(data, value_len_)) return;
        if (!accept_lengths(name_len_, value_len_, ec)) return;
        // Lengths are the peer's word, not bytes it has sent: reserve a
        // little and grow as the bytes arrive, so a few length prefixes
        // cannot make the server allocate max_bytes each.
        name_.clear();
        value_.clear();
        name_.reserve(std::min<std::size_t>(name_len_, kMaxReserve));
        value_.reserve(std::min<std::size_t>(value_len_, kMaxReserve));
        state_ = State::name;
        break;
      }
      case State::name: {
        const std::size_t n = std::min<std::size_t>(name_len_ - name_.size(), data.size());
        name_.append(data.substr(0, n));
        data.remove_prefix(n);
        if (name_.size() < name_len_) return;
        state_ = State::value;
        break;
      }
      case State::value: {
        const std::size_t n = std::min<std::size_t>(value_len_ - value_.size(), data.size());
        value_.append(data.substr(0, n));
        data.remove_prefix(n);
        if (value_.size() < value_len_) return;
        add(std::string_view(name_), std::string_view(value_));
        // Small buffers are kept for the next straddling pair; a large one
        // is not kept past its pair.
        if (name_.capacity() > kMaxReserve) name_ = std::string();
        if (value_.capacity() > kMaxReserve) value_ = std::string();
        state_ = State::name_len;
        break;
      }
      case State::failed:
        return;
    }
  }
  ec = static_cast<errc>(failure_);
}

void NameValueDecoder::put(std::string_view data, Pairs& out, std::error_code& ec) {
  put_into(
      data, [&](std::string_view name, std::string_view value) { out.emplace_back(name, value); },
      ec);
}

void NameValueDecoder::put(std::string_view data, Params& out, std::error_code& ec) {
  put_into(
      data, [&](std::string_view name, std::string_view value) { out.add(name, value); }, ec);
}

void NameValueDecoder::fail(errc e, std::error_code& ec) {
  state_ = State::failed;
  failure_ = static_cast<std::uint8_t>(e);
  ec = e;
}

void NameValueDecoder::finish(std::error_code& ec) const {
  if (state_ == State::failed) {
    ec = static_cast<errc>(failure_);
  } else if (state_ != State::name_len || len_have_ != 0) {
    ec = errc::truncated_params;
  }
}

namespace {

void append_length(std::string& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<char>(len));
    return;
  }
  out.push_back(static_cast<char>(((len >> 24) & 0x7f) | 0x80));
  out.push_back(static_cast<char>((len >> 16) & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  out.push_back(static_cast<char>(len & 0xff));
}

}  // namespace

void append_name_value(std::string& out, std::string_view name, std::string_view value) {
  append_length(out, name.size());
  append_length(out, value.size());
  out.append(name);
  out.append(value);
}

}  // namespace fcgi
