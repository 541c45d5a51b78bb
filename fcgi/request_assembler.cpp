#include "fcgi/request_assembler.hpp"

#include <algorithm>
#include <utility>

#include "fcgi/error.hpp"
#include "fcgi/record.hpp"

namespace fcgi {

namespace {

std::size_t param_bytes(const NameValueDecoder& d, const Params& p) {
  return d.total() + p.size() * Params::kPairCost;
}

}  // namespace

RequestAssembler::RequestAssembler(const Limits& limits, ServerInput* server)
    : limits_(&limits), server_(server) {}

RequestAssembler::~RequestAssembler() {
  clear();
}

std::size_t RequestAssembler::put(const std::uint8_t* data, std::size_t size, Action& a) {
  if (a.step != Step::none) a = {};
  if (failure_ != 0) {
    fail(static_cast<errc>(failure_), a);
    return 0;
  }
  std::size_t used = 0;
  while (used < size) {
    std::error_code ec;
    used += parser_.put(data + used, size - used, ec);
    if (ec) {
      // The parser's errors are all errc.
      fail(static_cast<errc>(ec.value()), a);
      return used;
    }
    if (parser_.has_fragment()) {
      on_fragment(parser_.fragment(), a);
      if (a.step != Step::none) return used;
    }
  }
  return used;
}

void RequestAssembler::fail(errc e, Action& a) {
  failure_ = static_cast<std::uint8_t>(e);
  a = {};
  a.step = Step::close;
  a.error = e;
}

void RequestAssembler::on_fragment(const RecordParser::Fragment& f, Action& a) {
  const std::uint16_t id = f.header.request_id;
  if (id == FCGI_NULL_REQUEST_ID) {
    on_management(f, a);
    return;
  }
  switch (f.header.type) {
    case FCGI_BEGIN_REQUEST:
      on_begin(id, decode_begin_request(reinterpret_cast<const std::uint8_t*>(f.data.data())), a);
      return;
    case FCGI_ABORT_REQUEST:
      on_abort(id, a);
      return;
    default:
      break;
  }
  // Records of ids that are not active (never begun, rejected, or ended) are
  // ignored, as the spec says.
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  if (f.header.type == FCGI_PARAMS) {
    on_params(id, *e, f, a);
  } else if (f.header.type == FCGI_STDIN) {
    on_stdin(id, *e, f, a);
  }
  // FCGI_DATA belongs to the filter role, which is refused at BEGIN_REQUEST.
}

void RequestAssembler::on_management(const RecordParser::Fragment& f, Action& a) {
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

void RequestAssembler::on_begin(std::uint16_t id, const BeginRequest& begin, Action& a) {
  if (requests_.contains(id)) {
    fail(errc::duplicate_request, a);
    return;
  }
  if (begin.role != FCGI_RESPONDER || requests_.size() >= limits_->max_requests_per_connection) {
    a.step = Step::end_request;
    a.id = id;
    a.keep_conn = begin.keep_conn();
    a.protocol_status = begin.role != FCGI_RESPONDER ? FCGI_UNKNOWN_ROLE : FCGI_OVERLOADED;
    return;
  }
  Entry entry;
  entry.input = std::make_unique<Input>(limits_->max_params_bytes);
  entry.keep_conn = begin.keep_conn();
  Entry& e = requests_.insert(id, std::move(entry));
  if (!charge(id, e, kRequestCost, a)) return;
  a.step = Step::begin;
  a.id = id;
  a.keep_conn = begin.keep_conn();
}

void RequestAssembler::on_abort(std::uint16_t id, Action& a) {
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  a.step = Step::abort;
  a.id = id;
  a.keep_conn = e->keep_conn;
  erase(id);
}

void RequestAssembler::on_params(std::uint16_t id, Entry& e, const RecordParser::Fragment& f,
                                 Action& a) {
  Input* in = e.input.get();
  if (in == nullptr || in->params_done) {
    fail(errc::stream_after_end, a);
    return;
  }
  std::error_code ec;
  const std::size_t before = param_bytes(in->decoder, in->params);
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
    reject(id, 413, "Payload Too Large", "params_too_large",
           "request params exceed " + std::to_string(limits_->max_params_bytes) + " bytes", a);
    return;
  }
  if (ec) {
    fail(static_cast<errc>(ec.value()), a);
    return;
  }
  if (!charge(id, e, param_bytes(in->decoder, in->params) - before, a)) return;
  maybe_dispatch(id, e, a);
}

void RequestAssembler::on_stdin(std::uint16_t id, Entry& e, const RecordParser::Fragment& f,
                                Action& a) {
  Input* in = e.input.get();
  if (in == nullptr || in->stdin_done) {
    fail(errc::stream_after_end, a);
    return;
  }
  if (f.header.content_length == 0) {
    in->stdin_done = true;
    maybe_dispatch(id, e, a);
    return;
  }
  if (in->body.size() + f.data.size() > limits_->max_stdin_bytes) {
    reject(id, 413, "Payload Too Large", "body_too_large",
           "request body exceeds " + std::to_string(limits_->max_stdin_bytes) + " bytes", a);
    return;
  }
  if (!charge(id, e, f.data.size(), a)) return;
  in->body.append(f.data);
}

void RequestAssembler::maybe_dispatch(std::uint16_t id, Entry& e, Action& a) {
  Input& in = *e.input;
  if (!in.params_done || !in.stdin_done) return;
  a.step = Step::dispatch;
  a.id = id;
  a.keep_conn = e.keep_conn;
  a.params = std::move(in.params);
  a.body = std::move(in.body);
  // A dispatched request holds no input budget: it may be parked for long.
  release(in);
  e.input.reset();
}

bool RequestAssembler::charge(std::uint16_t id, Entry& e, std::size_t n, Action& a) {
  e.input->charged += n;
  pending_input_ += n;
  if (server_ != nullptr) server_->bytes += n;
  // One legitimate request never trips the connection's budget; a
  // connection that may use it all never trips the server's.
  const std::size_t one_request = 2 * (limits_->max_params_bytes + limits_->max_stdin_bytes);
  const std::size_t per_connection = limits_->max_pending_input_bytes == 0
                                         ? 0
                                         : std::max(limits_->max_pending_input_bytes, one_request);
  const std::size_t total = limits_->max_pending_input_bytes_total == 0
                                ? 0
                                : std::max(limits_->max_pending_input_bytes_total, per_connection);
  if (per_connection != 0 && pending_input_ > per_connection) {
    // Only a multiplexing peer gets here, with more unfinished requests
    // than it has any use for.
    fail(errc::input_budget_exceeded, a);
    return false;
  }
  if (total != 0 && server_ != nullptr && server_->bytes > total) {
    // Too many peers are sending at once: shed this request, as a 503 that
    // nginx passes on (an early END_REQUEST would be a 502).
    reject(id, 503, "Service Unavailable", "overloaded",
           "the server is receiving too many requests at once", a, "Retry-After: 1\r\n");
    return false;
  }
  return true;
}

void RequestAssembler::reject(std::uint16_t id, int status, std::string_view reason,
                              std::string_view code, std::string message, Action& a,
                              std::string_view extra_headers) {
  Entry* e = requests_.find(id);
  a.step = Step::reject;
  a.id = id;
  a.keep_conn = e != nullptr && e->keep_conn;
  a.reject = {status, reason, code, std::move(message), extra_headers};
  erase(id);
}

void RequestAssembler::release(Input& in) {
  pending_input_ -= in.charged;
  if (server_ != nullptr) server_->bytes -= in.charged;
  in.charged = 0;
}

void RequestAssembler::erase(std::uint16_t id) {
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  if (e->input) release(*e->input);
  requests_.erase(id);
}

void RequestAssembler::finished(std::uint16_t id) {
  erase(id);
}

void RequestAssembler::clear() {
  requests_.for_each([this](std::uint16_t, Entry& e) {
    if (e.input) release(*e.input);
  });
  requests_.clear();
}

}  // namespace fcgi
