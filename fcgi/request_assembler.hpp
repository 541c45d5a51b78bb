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
// none) and may be moved from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "fcgi/detail/request_table.hpp"
#include "fcgi/error.hpp"
#include "fcgi/limits.hpp"
#include "fcgi/name_value.hpp"
#include "fcgi/params.hpp"
#include "fcgi/record_parser.hpp"
#include "fcgi/reject.hpp"

namespace fcgi {

class RequestAssembler {
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
    // driver times, starts.
    begin,
    // Request `id` is complete: hand `params` and `body` to the application.
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
    Params params;
    std::string body;
    Reject reject;
    std::string bytes;
    std::error_code error;
  };

  // What an undispatched request costs besides its params and STDIN bytes:
  // its objects, its table entry, a few allocations. An estimate, so that
  // empty BEGIN_REQUESTs are not free.
  static constexpr std::size_t kRequestCost = 512;

  // `limits` must outlive the assembler; `server` may be null (no
  // server-wide budget) and must outlive it unless detach()ed.
  RequestAssembler(const Limits& limits, ServerInput* server);
  ~RequestAssembler();
  RequestAssembler(const RequestAssembler&) = delete;
  RequestAssembler& operator=(const RequestAssembler&) = delete;

  // Consumes bytes from `data` up to and including the next action, which
  // it stores in `action` (Step::none when there was none in them all).
  // After a close the assembler stays failed: put() consumes nothing and
  // gives the same close again.
  std::size_t put(const std::uint8_t* data, std::size_t size, Action& action);

  // A dispatched request ended (the application answered it): its id is
  // free again.
  void finished(std::uint16_t id);
  // Forgets every request, giving back their input (the connection closes).
  void clear();
  // The server is going away: never touch its total again.
  void detach() { server_ = nullptr; }

  // Active requests: begun and neither ended, rejected nor aborted.
  std::size_t requests() const { return requests_.size(); }
  // Undispatched input bytes charged by this connection's requests.
  std::size_t pending_input() const { return pending_input_; }
  // No partial record is held; records() tells partial records apart.
  bool between_records() const { return parser_.between_records(); }
  std::uint64_t records() const { return parser_.records(); }

 private:
  // Input state of a request whose params or STDIN are still arriving.
  struct Input {
    explicit Input(std::size_t max_params) : decoder(max_params) {}
    NameValueDecoder decoder;
    Params params;
    std::string body;
    // Bytes charged to the connection's and the server's input budgets.
    std::size_t charged = 0;
    bool params_done = false;
    bool stdin_done = false;
  };
  struct Entry {
    std::unique_ptr<Input> input;  // null once dispatched
    bool keep_conn = false;
  };

  void on_fragment(const RecordParser::Fragment& f, Action& a);
  void on_management(const RecordParser::Fragment& f, Action& a);
  void on_begin(std::uint16_t id, const BeginRequest& begin, Action& a);
  void on_abort(std::uint16_t id, Action& a);
  void on_params(std::uint16_t id, Entry& e, const RecordParser::Fragment& f, Action& a);
  void on_stdin(std::uint16_t id, Entry& e, const RecordParser::Fragment& f, Action& a);
  void maybe_dispatch(std::uint16_t id, Entry& e, Action& a);
  // Charges `n` more bytes of request `id`'s input to the budgets. False
  // when that closes the connection or rejects the request (then `a` is
  // set, and a rejected request's entry is gone).
  bool charge(std::uint16_t id, Entry& e, std::size_t n, Action& a);
  void reject(std::uint16_t id, int status, std::string_view reason, std::string_view code,
              std::string message, Action& a, std::string_view extra_headers = {});
  void fail(errc e, Action& a);
  // Gives back what `in` charged to the budgets.
  void release(Input& in);
  // Erases `id`, giving back its input.
  void erase(std::uint16_t id);

  const Limits* limits_;
  ServerInput* server_;
  RecordParser parser_;
  detail::RequestTable<Entry> requests_;
  std::size_t pending_input_ = 0;
  std::uint8_t failure_ = 0;  // an errc once failed
};

}  // namespace fcgi
