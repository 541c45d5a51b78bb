// Sans-IO assembly of the requests of one connection: fed the bytes a web
// server sends, it tells its driver what to do, one action at a time. It
// parses records (RecordParser), multiplexes them by request id, decodes
// params, collects STDIN, checks the role, the per-connection request cap
// and the input budgets, and answers management records. It opens no socket
// and reads no clock: deadlines and writes are its driver's (Connection).
//
// put() consumes bytes up to and including the next action, Beast-style: the
// driver performs the action, then calls put() again with the rest of its
// input. The action is the driver's (on its stack: an idle connection holds
// none) and may be moved from. put() resets only its step: each step sets
// every field it names, and a dispatch hands over the request's input
// object whole, so no string is built, moved or cleared for an action that
// does not need it.
//
// The assembler's table of active requests also holds the driver's state of
// each (Payload: for Connection, its Request), so that a connection keeps one
// table, not two: a web server opens a connection per parked request, and
// each costs the bytes of its tables. What the driver keeps only while a
// request's input arrives (InputPayload: Connection's input deadline) goes in
// the same allocation as the assembler's input state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "fcgi/detail/request_table.hpp"
#include "fcgi/error.hpp"
#include "fcgi/limits.hpp"
#include "fcgi/name_value.hpp"
#include "fcgi/params.hpp"
#include "fcgi/record.hpp"
#include "fcgi/record_parser.hpp"
#include "fcgi/reject.hpp"

namespace fcgi {

namespace detail {

// What does not depend on the driver's payload: records, params and STDIN
// decoding, budgets, management records. Kept out of the template, in its
// own unit.
class AssemblerCore {
 public:
  // Undispatched input bytes of all the connections of a server, so that
  // Limits::max_pending_input_bytes_total bounds their sum. One per server,
  // shared by the assemblers of its connections.
  struct ServerInput {
    std::size_t bytes = 0;
  };

  enum class Step : std::uint8_t {
    none,
    // Request `id` began (BEGIN_REQUEST accepted): its input phase, which the
    // driver times, starts. Its payload is there from now on.
    begin,
    // Request `id` is complete: hand `input`'s params and body to the
    // application.
    dispatch,
    // Answer request `id` with `reject` and end it; the application never
    // sees it, and its later records are ignored.
    reject,
    // Write END_REQUEST for `id` with `protocol_status` (unknown role,
    // overloaded): the request never began.
    end_request,
    // FCGI_ABORT_REQUEST for active request `id`: end it (empty STDOUT first
    // if a stream is open) and tell the application, if it has it.
    abort,
    // Write `bytes` (GET_VALUES_RESULT, UNKNOWN_TYPE).
    answer,
    // Close the connection for `error`; every active request is aborted.
    close,
  };

  struct Action {
    Step step = Step::none;
    std::uint16_t id = 0;
    // FCGI_KEEP_CONN of request `id`: unset, the connection is to be closed
    // after its END_REQUEST.
    bool keep_conn = false;
    std::uint8_t protocol_status = 0;
    std::error_code error;
    Reject reject;
    std::string bytes;
  };

  // Input state of a request whose params or STDIN are still arriving.
  struct Input {
    explicit Input(std::size_t max_params) : decoder(max_params, Params::kPairCost) {}
    NameValueDecoder decoder;
    Params params;
    std::string body;
    // Bytes charged to the connection's and the server's input budgets.
    std::size_t charged = 0;
    bool params_done = false;
    bool stdin_done = false;
  };

  // What an undispatched request costs besides its params and STDIN bytes:
  // its objects, its table entry, a few allocations. An estimate, so that
  // empty BEGIN_REQUESTs are not free.
  static constexpr std::size_t kRequestCost = 512;

  AssemblerCore(const AssemblerCore&) = delete;
  AssemblerCore& operator=(const AssemblerCore&) = delete;

  // The server is going away: never touch its total again.
  void detach() { server_ = nullptr; }

  // Undispatched input bytes charged by this connection's requests.
  std::size_t pending_input() const { return pending_input_; }
  // No partial record is held; records() tells partial records apart.
  bool between_records() const { return parser_.between_records(); }
  std::uint64_t records() const { return parser_.records(); }

 protected:
  // `limits` must outlive the assembler; `server` may be null (no
  // server-wide budget) and must outlive it unless detach()ed.
  AssemblerCore(const Limits& limits, ServerInput* server);
  ~AssemblerCore() = default;

  // True, with the close in `a`, once failed: put() consumes nothing more.
  // Inline, as parse() and charge(): they run for every record.
  bool stays_failed(Action& a) {
    if (failure_ == 0) return false;
    fail(static_cast<errc>(failure_), a);
    return true;
  }
  // Parses up to the next fragment, which it points `f` at, or the end of
  // `data`. A parse error is stored in `a` as a close.
  std::size_t parse(const std::uint8_t* data, std::size_t size, const RecordParser::Fragment*& f,
                    Action& a) {
    std::error_code ec;
    const std::size_t used = parser_.put(data, size, ec);
    if (ec) {
      // The parser's errors are all errc.
      fail(static_cast<errc>(ec.value()), a);
    } else if (parser_.has_fragment()) {
      f = &parser_.fragment();
    }
    return used;
  }
  void on_management(const RecordParser::Fragment& f, Action& a);
  // False, with `a` set to END_REQUEST, when a request can not begin: an
  // unknown role, or `active` requests already.
  bool admit(std::uint16_t id, const BeginRequest& begin, std::size_t active, Action& a);
  // A PARAMS or STDIN fragment of a request whose input is `in` (null once
  // dispatched). May set a close, or a reject that the caller completes
  // (id, keep_conn, payload) and erases the request for.
  void add_params(Input* in, const RecordParser::Fragment& f, Action& a);
  void add_stdin(Input* in, const RecordParser::Fragment& f, Action& a);
  // Charges `n` more bytes of `in` to the budgets. False when that closes
  // the connection or rejects the request (then `a` is set).
  bool charge(Input& in, std::size_t n, Action& a) {
    in.charged += n;
    pending_input_ += n;
    if (server_ == nullptr) return pending_input_ <= per_connection_budget_ || over_budget(in, a);
    server_->bytes += n;
    return (pending_input_ <= per_connection_budget_ && server_->bytes <= total_budget_) ||
           over_budget(in, a);
  }
  // True, with `in`'s budget given back, when `in` is complete (then the
  // caller dispatches it).
  bool take_complete(Input& in);
  void fail(errc e, Action& a);
  // Gives back what `in` charged to the budgets.
  void release(Input& in);

  const Limits* limits_;

 private:
  void refuse(int status, std::string_view reason, std::string_view code, std::string message,
              Action& a, std::string_view extra_headers = {});

  // A budget of charge() is passed: sets `a` (a close, or a reject of `in`)
  // and returns false.
  bool over_budget(Input& in, Action& a);
  // A reject of `in` carries its Origin when its params are complete.
  static void note_origin(const Input& in, Action& a);

  ServerInput* server_;
  // The budgets of charge(), worked out once from limits_ (SIZE_MAX when
  // unlimited): charge() runs for every record of a request.
  std::size_t per_connection_budget_ = SIZE_MAX;
  std::size_t total_budget_ = SIZE_MAX;
  RecordParser parser_;
  std::size_t pending_input_ = 0;
  std::uint8_t failure_ = 0;  // an errc once failed
};

}  // namespace detail

// Payload: the driver's state of each active request, default-constructible
// and move-assignable; created empty as the request begins, destroyed as it
// ends (finished, clear), or handed back with the action that ends it.
// InputPayload: the driver's state of a request's input phase,
// default-constructible; created with the request, destroyed with its input
// (at dispatch, in the driver's hands, or as the request ends).
struct NoInputPayload {};

template <class Payload, class InputPayload = NoInputPayload>
class RequestAssembler : public detail::AssemblerCore {
 public:
  struct RequestInput : Input {
    explicit RequestInput(std::size_t max_params) : Input(max_params) {}
    [[no_unique_address]] InputPayload payload{};
  };

  struct Action : detail::AssemblerCore::Action {
    // begin, dispatch: the payload of request `id`, valid until the driver
    // ends the request or calls put() again (it saves a lookup).
    Payload* active = nullptr;
    // begin: the input payload of request `id`, valid as long as its input.
    InputPayload* input_payload = nullptr;
    // dispatch: the complete input of request `id` (params, body), the
    // driver's now; the assembler keeps none of it.
    std::unique_ptr<RequestInput> input;
    // The payload of request `id` when this action ends it (abort, reject):
    // the assembler has forgotten the request.
    Payload payload{};
  };

  RequestAssembler(const Limits& limits, ServerInput* server) : AssemblerCore(limits, server) {}
  ~RequestAssembler() { clear(); }

  // Consumes bytes from `data` up to and including the next action, which
  // it stores in `action` (Step::none when there was none in them all).
  // After a close the assembler stays failed: put() consumes nothing and
  // gives the same close again.
  std::size_t put(const std::uint8_t* data, std::size_t size, Action& action);

  // The payload of active request `id`, null when it is not active.
  Payload* payload(std::uint16_t id) {
    Entry* e = requests_.find(id);
    return e == nullptr ? nullptr : &e->payload;
  }
  // f(id, payload) for every active request; f must not end any.
  template <class F>
  void for_each_payload(F&& f) {
    requests_.for_each([&](std::uint16_t id, Entry& e) { f(id, e.payload); });
  }

  // A dispatched request ended (the application answered it): its id is
  // free again.
  void finished(std::uint16_t id) { erase(id); }
  // Forgets every request, giving back their input (the connection closes).
  void clear();

  // Active requests: begun and neither ended, rejected nor aborted.
  std::size_t requests() const { return requests_.size(); }

 private:
  struct Entry {
    std::unique_ptr<RequestInput> input;  // null once dispatched
    // keep_conn goes in the payload's tail padding, if it has some.
    [[no_unique_address]] Payload payload{};
    bool keep_conn = false;
  };

  void on_fragment(const RecordParser::Fragment& f, Action& a);
  void on_begin(std::uint16_t id, const BeginRequest& begin, Action& a);
  void on_abort(std::uint16_t id, Action& a);
  // After a fragment of request `id`: completes a reject, or dispatches.
  void after_input(std::uint16_t id, Entry& e, Action& a);
  // `a` is a reject of `id`: gives it the request's keep_conn and payload,
  // and forgets the request.
  void end_rejected(std::uint16_t id, Action& a);
  // Erases `id`, giving back its input.
  void erase(std::uint16_t id);

  detail::RequestTable<Entry> requests_;
};

template <class Payload, class InputPayload>
std::size_t RequestAssembler<Payload, InputPayload>::put(const std::uint8_t* data, std::size_t size,
                                                         Action& a) {
  // Only the step: the rest is what the last action handed over, which the
  // driver may have moved from, and the next action sets what it names.
  a.step = Step::none;
  if (stays_failed(a)) return 0;
  std::size_t used = 0;
  while (used < size) {
    const RecordParser::Fragment* f = nullptr;
    used += parse(data + used, size - used, f, a);
    if (a.step != Step::none) return used;
    if (f != nullptr) {
      on_fragment(*f, a);
      if (a.step != Step::none) return used;
    }
  }
  return used;
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::on_fragment(const RecordParser::Fragment& f,
                                                          Action& a) {
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
    add_params(e->input.get(), f, a);
    after_input(id, *e, a);
  } else if (f.header.type == FCGI_STDIN) {
    add_stdin(e->input.get(), f, a);
    after_input(id, *e, a);
  }
  // FCGI_DATA belongs to the filter role, which is refused at BEGIN_REQUEST.
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::on_begin(std::uint16_t id, const BeginRequest& begin,
                                                       Action& a) {
  if (requests_.contains(id)) {
    fail(errc::duplicate_request, a);
    return;
  }
  if (!admit(id, begin, requests_.size(), a)) return;
  Entry& e = requests_.emplace(id);
  e.input = std::make_unique<RequestInput>(limits_->max_params_bytes);
  e.keep_conn = begin.keep_conn();
  if (!charge(*e.input, kRequestCost, a)) {
    if (a.step == Step::reject) end_rejected(id, a);
    return;
  }
  a.step = Step::begin;
  a.id = id;
  a.keep_conn = begin.keep_conn();
  a.active = &e.payload;
  a.input_payload = &e.input->payload;
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::on_abort(std::uint16_t id, Action& a) {
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  a.step = Step::abort;
  a.id = id;
  a.keep_conn = e->keep_conn;
  a.payload = std::move(e->payload);
  erase(id);
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::after_input(std::uint16_t id, Entry& e, Action& a) {
  if (a.step == Step::reject) {
    end_rejected(id, a);
    return;
  }
  if (a.step != Step::none || !take_complete(*e.input)) return;
  a.step = Step::dispatch;
  a.id = id;
  a.keep_conn = e.keep_conn;
  a.active = &e.payload;
  // A dispatched request holds no input: it may be parked for long. The
  // driver takes params and body from it, without a copy or a move here.
  a.input = std::move(e.input);
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::end_rejected(std::uint16_t id, Action& a) {
  Entry* e = requests_.find(id);
  a.id = id;
  a.keep_conn = e != nullptr && e->keep_conn;
  // Never the payload of an earlier action.
  a.payload = e != nullptr ? std::move(e->payload) : Payload{};
  erase(id);
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::erase(std::uint16_t id) {
  Entry* e = requests_.find(id);
  if (e == nullptr) return;
  if (e->input) release(*e->input);
  requests_.erase(id);
}

template <class Payload, class InputPayload>
void RequestAssembler<Payload, InputPayload>::clear() {
  requests_.for_each([this](std::uint16_t, Entry& e) {
    if (e.input) release(*e.input);
  });
  requests_.clear();
}

}  // namespace fcgi
