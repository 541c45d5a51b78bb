// One FastCGI request as the application sees it: its params, its STDIN, and
// the way to answer it. Owned jointly by its connection (until the request
// ends) and by the application (for as long as it parks the request).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fcgi/params.hpp"

namespace fcgi {

class Connection;

// Bytes of one response. `head` and `tail` are per-request; `body` may be
// shared by thousands of responses (fan-out encodes a batch once). The
// STDOUT stream written is head + *body + tail, cut into records.
struct Response {
  std::string head;
  std::shared_ptr<const std::string> body;
  std::string tail;
};

// Told when the peer gives up on a request it has not had an answer to:
// FCGI_ABORT_REQUEST, or EOF/RST/error on its connection. Called once, from
// the connection's executor; the request is finished afterwards.
class AbortListener {
 public:
  virtual void on_abort() = 0;

 protected:
  ~AbortListener() = default;
};

class Request {
 public:
  using Params = fcgi::Params;

  Request(std::shared_ptr<Connection> connection, std::uint16_t id, std::uint16_t role,
          bool keep_conn);
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  std::uint16_t id() const { return id_; }
  std::uint16_t role() const { return role_; }
  bool keep_conn() const { return keep_conn_; }

  // Value of a param, empty when absent.
  std::string_view param(std::string_view name) const;
  const Params& params() const { return params_; }
  const std::string& body() const { return body_; }
  // Frees params and body once the application has taken what it needs:
  // a parked request should cost little more than its socket.
  void drop_inputs();

  // Appends to the STDOUT stream without ending the request (SSE). May be
  // called several times; a no-op once the request is finished.
  void write(Response part);
  // Ends the request: empty STDOUT, then END_REQUEST (REQUEST_COMPLETE,
  // app status 0). A no-op once finished.
  void end();
  // write(r) then end().
  void respond(Response r);

  bool finished() const { return finished_; }
  bool aborted() const { return aborted_; }
  void set_abort_listener(AbortListener* listener) { abort_listener_ = listener; }

  // Internal to fcgi/: input assembly and the abort notice.
  Params& mutable_params() { return params_; }
  std::string& mutable_body() { return body_; }
  void abort();

 private:
  std::shared_ptr<Connection> connection_;
  Params params_;
  std::string body_;
  AbortListener* abort_listener_ = nullptr;
  std::uint16_t id_;
  std::uint16_t role_;
  bool keep_conn_;
  bool finished_ = false;
  bool aborted_ = false;
};

using RequestPtr = std::shared_ptr<Request>;

// The application. on_request is called once params and STDIN are complete.
class Handler {
 public:
  virtual void on_request(const RequestPtr& request) = 0;

 protected:
  ~Handler() = default;
};

}  // namespace fcgi
