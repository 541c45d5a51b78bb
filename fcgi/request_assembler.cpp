#include "fcgi/request_assembler.hpp"

#include <algorithm>
#include <utility>

#include "fcgi/error.hpp"
#include "fcgi/record.hpp"

namespace fcgi::detail {

AssemblerCore::AssemblerCore(const Limits& limits, ServerInput* server)
    : limits_(&limits), server_(server) {
  // One legitimate request never trips the connection's budget; a
  // connection that may use it all never trips the server's.
  const std::size_t one_request = 2 * (limits.max_params_bytes + limits.max_stdin_bytes);
  const std::size_t per_connection = limits.max_pending_input_bytes == 0
                                         ? 0
                                         : std::max(limits.max_pending_input_bytes, one_request);
  if (per_connection != 0) per_connection_budget_ = per_connection;
  if (limits.max_pending_input_bytes_total != 0)
    total_budget_ = std::max(limits.max_pending_input_bytes_total, per_connection);
}

void AssemblerCore::fail(errc e, Action& a) {
  failure_ = static_cast<std::uint8_t>(e);
  a = {};
  a.step = Step::close;
  a.error = e;
}

void AssemblerCore::on_management(const RecordParser::Fragment& f, Action& a) {
  if (!f.last) return;
  if (f.header.type == FCGI_GET_VALUES) {
    std::string out;
    if (!encode_get_values_result(
            f.data, {limits_->max_connections, limits_->max_requests_per_connection, true}, out)) {
      fail(errc::bad_name_value_length, a);
      return;
    }
    a.step = Step::answer;
    a.bytes = std::move(out);
  } else {
    const auto rec = encode_unknown_type(f.header.type);
    a.step = Step::answer;
    a.bytes.assign(reinterpret_cast<const char*>(rec.data()), rec.size());
  }
}

bool AssemblerCore::admit(std::uint16_t id, const BeginRequest& begin, std::size_t active,
                          Action& a) {
  if (begin.role == FCGI_RESPONDER && active < limits_->max_requests_per_connection) return true;
  a.step = Step::end_request;
  a.id = id;
  a.keep_conn = begin.keep_conn();
  a.protocol_status = begin.role != FCGI_RESPONDER ? FCGI_UNKNOWN_ROLE : FCGI_OVERLOADED;
  return false;
}

void AssemblerCore::add_params(Input* in, const RecordParser::Fragment& f, Action& a) {
  if (in == nullptr || in->params_done) {
    fail(errc::stream_after_end, a);
    return;
  }
  std::error_code ec;
  const std::size_t before = in->decoder.total();
  if (f.header.content_length == 0) {
    in->decoder.finish(ec);
    in->params_done = true;
  } else {
    // The bytes are there: room for them at once rather than by doubling
    // (the pairs take at most their record's content).
    if (in->params.empty()) in->params.reserve(f.data.size(), 32);
    in->decoder.put(f.data, in->params, ec);
  }
  if (ec == errc::params_too_large || ec == errc::bad_name_value_length) {
    refuse(413, "Payload Too Large", "params_too_large",
           "request params exceed " + std::to_string(limits_->max_params_bytes) + " bytes", a);
    return;
  }
  if (ec) {
    fail(static_cast<errc>(ec.value()), a);
    return;
  }
  charge(*in, in->decoder.total() - before, a);
}

void AssemblerCore::add_stdin(Input* in, const RecordParser::Fragment& f, Action& a) {
  if (in == nullptr || in->stdin_done) {
    fail(errc::stream_after_end, a);
    return;
  }
  if (f.header.content_length == 0) {
    in->stdin_done = true;
    return;
  }
  if (in->body.size() + f.data.size() > limits_->max_stdin_bytes) {
    refuse(413, "Payload Too Large", "body_too_large",
           "request body exceeds " + std::to_string(limits_->max_stdin_bytes) + " bytes", a);
    note_origin(*in, a);
    return;
  }
  if (!charge(*in, f.data.size(), a)) return;
  in->body.append(f.data);
}

bool AssemblerCore::take_complete(Input& in) {
  if (!in.params_done || !in.stdin_done) return false;
  // A dispatched request holds no input budget: it may be parked for long.
  release(in);
  return true;
}

void AssemblerCore::note_origin(const Input& in, Action& a) {
  if (a.step == Step::reject && in.params_done) a.reject.origin = in.params.get("HTTP_ORIGIN");
}

bool AssemblerCore::over_budget(Input& in, Action& a) {
  if (pending_input_ > per_connection_budget_) {
    // Only a multiplexing peer gets here, with more unfinished requests
    // than it has any use for.
    fail(errc::input_budget_exceeded, a);
    return false;
  }
  // Too many peers are sending at once: shed this request, as a 503 that
  // nginx passes on (an early END_REQUEST would be a 502).
  refuse(503, "Service Unavailable", "overloaded",
         "the server is receiving too many requests at once", a, "Retry-After: 1\r\n");
  note_origin(in, a);
  return false;
}

void AssemblerCore::refuse(int status, std::string_view reason, std::string_view code,
                           std::string message, Action& a, std::string_view extra_headers) {
  a.step = Step::reject;
  a.reject = {status, reason, code, std::move(message), extra_headers};
}

void AssemblerCore::release(Input& in) {
  pending_input_ -= in.charged;
  if (server_ != nullptr) server_->bytes -= in.charged;
  in.charged = 0;
}

}  // namespace fcgi::detail
