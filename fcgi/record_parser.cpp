#include "fcgi/record_parser.hpp"

#include <algorithm>
#include <cstring>

#include "fcgi/error.hpp"

namespace fcgi {

std::error_code RecordParser::validate(const Header& h) {
  if (h.version != FCGI_VERSION_1) return errc::bad_version;
  if (h.request_id == FCGI_NULL_REQUEST_ID) {
    // Management records: GET_VALUES is bounded; any other type is answered
    // UNKNOWN_TYPE by the server, as the spec asks, so it is not an error.
    if (h.type == FCGI_GET_VALUES && h.content_length > kMaxGetValuesLen) {
      return errc::bad_content_length;
    }
    return {};
  }
  switch (h.type) {
    case FCGI_BEGIN_REQUEST:
      if (h.content_length != sizeof(FCGI_BeginRequestBody)) return errc::bad_content_length;
      return {};
    case FCGI_ABORT_REQUEST:
      if (h.content_length != 0) return errc::bad_content_length;
      return {};
    case FCGI_PARAMS:
    case FCGI_STDIN:
    case FCGI_DATA:
      return {};
    case FCGI_GET_VALUES:
      return errc::bad_request_id;
    case FCGI_END_REQUEST:
    case FCGI_STDOUT:
    case FCGI_STDERR:
    case FCGI_GET_VALUES_RESULT:
    case FCGI_UNKNOWN_TYPE:
      return errc::unexpected_type;
    default:
      return errc::unknown_type;
  }
}

bool RecordParser::is_stream(const Header& h) {
  if (h.request_id == FCGI_NULL_REQUEST_ID) return h.type != FCGI_GET_VALUES;
  return h.type != FCGI_BEGIN_REQUEST && h.type != FCGI_ABORT_REQUEST;
}

void RecordParser::emit(std::string_view data, bool last) {
  fragment_.data = data;
  fragment_.last = last;
  has_fragment_ = true;
}

void RecordParser::on_header(std::error_code& ec) {
  fragment_.header = decode_header(bytes_);
  have_ = 0;
  ++records_;
  if (auto e = validate(fragment_.header)) {
    state_ = State::failed;
    failure_ = static_cast<std::uint8_t>(e.value());
    ec = e;
    return;
  }
  remaining_ = fragment_.header.content_length;
  padding_ = fragment_.header.padding_length;
  if (remaining_ == 0) {
    emit({}, true);
    state_ = State::padding;
  } else {
    state_ = State::content;
  }
}

std::size_t RecordParser::put(const std::uint8_t* data, std::size_t size, std::error_code& ec) {
  has_fragment_ = false;
  // The header stays: it is the current record's.
  fragment_.data = {};
  fragment_.last = false;
  if (state_ == State::failed) {
    ec = static_cast<errc>(failure_);
    return 0;
  }
  std::size_t used = 0;
  while (used < size || (state_ == State::padding && padding_ == 0)) {
    switch (state_) {
      case State::header: {
        const std::size_t n = std::min<std::size_t>(kHeaderLen - have_, size - used);
        std::memcpy(bytes_ + have_, data + used, n);
        have_ = static_cast<std::uint8_t>(have_ + n);
        used += n;
        if (have_ < kHeaderLen) return used;
        on_header(ec);
        if (ec || has_fragment_) return used;
        break;
      }
      case State::content: {
        const std::size_t n = std::min<std::size_t>(remaining_, size - used);
        const auto* chunk = reinterpret_cast<const char*>(data + used);
        used += n;
        remaining_ = static_cast<std::uint16_t>(remaining_ - n);
        if (remaining_ == 0) state_ = State::padding;
        if (is_stream(fragment_.header)) {
          emit({chunk, n}, remaining_ == 0);
          return used;
        }
        if (remaining_ == 0 && buffered_.empty()) {
          // The whole record is in this input: no copy.
          emit({chunk, n}, true);
          return used;
        }
        buffered_.append(chunk, n);
        if (remaining_ != 0) return used;
        // The caller reads the fragment before the next put(), which frees
        // the buffer.
        emit(buffered_, true);
        return used;
      }
      case State::padding: {
        if (!buffered_.empty()) buffered_ = std::string();
        const std::size_t n = std::min<std::size_t>(padding_, size - used);
        used += n;
        padding_ = static_cast<std::uint8_t>(padding_ - n);
        if (padding_ == 0) state_ = State::header;
        break;
      }
      case State::failed:
        ec = static_cast<errc>(failure_);
        return used;
    }
  }
  return used;
}

}  // namespace fcgi
