#include "fcgi/error.hpp"

#include <string>

namespace fcgi {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fcgi"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_version:
        return "unsupported FastCGI version";
      case errc::unknown_type:
        return "unknown FastCGI record type";
      case errc::unexpected_type:
        return "record type not expected by a responder";
      case errc::bad_request_id:
        return "record type not allowed on this request id";
      case errc::bad_content_length:
        return "content length not allowed for this record type";
      case errc::bad_name_value_length:
        return "bad name-value length";
      case errc::truncated_params:
        return "params stream ended inside a name-value pair";
      case errc::params_too_large:
        return "params too large";
      case errc::stdin_too_large:
        return "stdin too large";
      case errc::duplicate_request:
        return "BEGIN_REQUEST for an active request id";
      case errc::stream_after_end:
        return "stream record after the end of the stream";
      case errc::read_timeout:
        return "request or record not complete before the read timeout";
      case errc::write_queue_full:
        return "write queue limit exceeded";
      case errc::write_budget_exceeded:
        return "server-wide write queue budget exceeded; this connection queued the most";
      case errc::input_budget_exceeded:
        return "undispatched request input over the connection's budget";
      case errc::idle_timeout:
        return "idle timeout";
    }
    return "unknown fcgi error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace fcgi
