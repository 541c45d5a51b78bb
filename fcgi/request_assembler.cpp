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

std::size_t RequestAssembler::put(const std::uint8_t* data, std::size_t size) {
  if (has_action()) action_ = {};
  if (failure_) {
    action_.step = Step::close;
    action_.error = failure_;
    return 0;
  }
  std::size_t used = 0;
  while (used < size) {
    std::error_code ec;
    used += parser_.put(data + used, size - used, ec);
    if (ec) {
      fail(ec);
      return used;
    }
    if (parser_.has_fragment()) {
      on_fragment(parser_.fragment());
      if (has_action()) return used;
    }
  }
  return used;
}

void RequestAssembler::fail(std::error_code ec) {
  failure_ = ec;
  action_ = {};
  action_.step = Step::close;
  action_.error = ec;
}

void RequestAssembler::on_fragment(const RecordParser::Fragment& f) {
  const std::uint16_t id = f.header.request_id;
  if (id == FCGI_NULL_REQUEST_ID) {
    on_management(f);
    return;
  }
  switch (f.header.type) {
    case FCGI_BEGIN_REQUEST:
      on_begin(id, decode_begin_request(reinterpret_cast<const std::uint8_t*>(f.data.data())));
      return;
    case FCGI_ABORT_REQUEST:
      on_abort(id);
      return;
    default:
      break;
  }
  // Records of ids that are not active (never begun, rejected, or ended) are
  // ignored, as the spec says.
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  if (f.header.type == FCGI_PARAMS) {
    on_params(id, *e, f);
  } else if (f.header.type == FCGI_STDIN) {
    on_stdin(id, *e, f);
  }
  // FCGI_DATA belongs to the filter role, which is refused at BEGIN_REQUEST.
}

void RequestAssembler::on_management(const RecordParser::Fragment& f) {
  if (!f.last) return;
  if (f.header.type == FCGI_GET_VALUES) {
    std::string out;
    if (!encode_get_values_result(
            f.data, {limits_->max_connections, limits_->max_requests_per_connection, true}, out)) {
      fail(errc::bad_name_value_length);
      return;
    }
    action_.step = Step::answer;
    action_.bytes = std::move(out);
  } else {
    const auto rec = encode_unknown_type(f.header.type);
    action_.step = Step::answer;
    action_.bytes.assign(reinterpret_cast<const char*>(rec.data()), rec.size());
  }
}

void RequestAssembler::on_begin(std::uint16_t id, const BeginRequest& begin) {
  if (requests_.contains(id)) {
    fail(errc::duplicate_request);
    return;
  }
  if (begin.role != FCGI_RESPONDER || requests_.size() >= limits_->max_requests_per_connection) {
    action_.step = Step::end_request;
    action_.id = id;
    action_.keep_conn = begin.keep_conn();
    action_.protocol_status = begin.role != FCGI_RESPONDER ? FCGI_UNKNOWN_ROLE : FCGI_OVERLOADED;
    return;
  }
  Entry entry;
  entry.input = std::make_unique<Input>(limits_->max_params_bytes);
  entry.keep_conn = begin.keep_conn();
  Entry& e = requests_.insert(id, std::move(entry));
  if (!charge(id, e, kRequestCost)) return;
  action_.step = Step::begin;
  action_.id = id;
  action_.keep_conn = begin.keep_conn();
}

void RequestAssembler::on_abort(std::uint16_t id) {
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  action_.step = Step::abort;
  action_.id = id;
  action_.keep_conn = e->keep_conn;
  erase(id);
}

void RequestAssembler::on_params(std::uint16_t id, Entry& e, const RecordParser::Fragment& f) {
  Input* in = e.input.get();
  if (in == nullptr || in->params_done) {
    fail(errc::stream_after_end);
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
           "request params exceed " + std::to_string(limits_->max_params_bytes) + " bytes");
    return;
  }
  if (ec) {
    fail(ec);
    return;
  }
  if (!charge(id, e, param_bytes(in->decoder, in->params) - before)) return;
  maybe_dispatch(id, e);
}

void RequestAssembler::on_stdin(std::uint16_t id, Entry& e, const RecordParser::Fragment& f) {
  Input* in = e.input.get();
  if (in == nullptr || in->stdin_done) {
    fail(errc::stream_after_end);
    return;
  }
  if (f.header.content_length == 0) {
    in->stdin_done = true;
    maybe_dispatch(id, e);
    return;
  }
  if (in->body.size() + f.data.size() > limits_->max_stdin_bytes) {
    reject(id, 413, "Payload Too Large", "body_too_large",
           "request body exceeds " + std::to_string(limits_->max_stdin_bytes) + " bytes");
    return;
  }
  if (!charge(id, e, f.data.size())) return;
  in->body.append(f.data);
}

void RequestAssembler::maybe_dispatch(std::uint16_t id, Entry& e) {
  Input& in = *e.input;
  if (!in.params_done || !in.stdin_done) return;
  action_.step = Step::dispatch;
  action_.id = id;
  action_.keep_conn = e.keep_conn;
  action_.params = std::move(in.params);
  action_.body = std::move(in.body);
  // A dispatched request holds no input budget: it may be parked for long.
  release(in);
  e.input.reset();
}

bool RequestAssembler::charge(std::uint16_t id, Entry& e, std::size_t n) {
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
    fail(errc::input_budget_exceeded);
    return false;
  }
  if (total != 0 && server_ != nullptr && server_->bytes > total) {
    // Too many peers are sending at once: shed this request, as a 503 that
    // nginx passes on (an early END_REQUEST would be a 502).
    reject(id, 503, "Service Unavailable", "overloaded",
           "the server is receiving too many requests at once", "Retry-After: 1\r\n");
    return false;
  }
  return true;
}

void RequestAssembler::reject(std::uint16_t id, int status, std::string_view reason,
                              std::string_view code, std::string message,
                              std::string_view extra_headers) {
  Entry* e = requests_.find(id);
  action_.step = Step::reject;
  action_.id = id;
  action_.keep_conn = e != nullptr && e->keep_conn;
  action_.reject = {status, reason, code, std::move(message), extra_headers};
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
