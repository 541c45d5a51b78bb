#pragma once

#include <chrono>
#include <cstddef>

namespace fcgi {

// Every resource a peer can make the server spend is bounded here.
struct Limits {
  // Connections beyond this are accepted and closed at once.
  std::size_t max_connections = 50000;
  // Concurrent requests on one connection (FCGI_MAX_REQS); more are answered
  // END_REQUEST/FCGI_OVERLOADED.
  std::size_t max_requests_per_connection = 10000;
  // Sum of name and value bytes of one request's params.
  std::size_t max_params_bytes = 64 * 1024;
  // STDIN bytes of one request (HTTP publish bodies).
  std::size_t max_stdin_bytes = 1024 * 1024;
  // Params and STDIN bytes of the requests of one connection that have not
  // been dispatched yet (input still arriving), plus a fixed cost per such
  // request. Over it the connection is closed: only a multiplexing peer can
  // get there, since the budget is never less than twice what one request
  // may hold (max_params_bytes + max_stdin_bytes). 0 = unlimited.
  std::size_t max_pending_input_bytes = 4 * 1024 * 1024;
  // The same, summed over all connections. Over it, the request whose input
  // would pass it is answered 503 (load shedding; the connection stays).
  // Never less than the per-connection budget. 0 = unlimited.
  std::size_t max_pending_input_bytes_total = 256 * 1024 * 1024;
  // From the first byte of a request (BEGIN_REQUEST) until its STDIN is
  // complete, and from the first byte of any record until its last: slow or
  // stalled peers are cut off.
  std::chrono::milliseconds read_timeout{10000};
  // A connection without requests (between keep-alive requests, or never
  // used) is closed after this, plus up to 1/16 of it as jitter (0 = never).
  // Longer than a web server keeps idle upstream connections (nginx: 60 s
  // by default, 120 s in nginx.conf.example) so that it is nginx that closes
  // them: a close from our side can cross a request nginx has just sent on
  // the connection. It only reclaims slots from peers that went away without
  // closing, or hold a connection open doing nothing.
  std::chrono::milliseconds idle_timeout{300000};
  // Bytes queued for writing on one connection before it is closed as a
  // slow reader (0 = unlimited).
  std::size_t max_write_queue_bytes = 64 * 1024 * 1024;
  // Bytes queued for writing on all connections together. Past it, the
  // connection with the most queued is closed (as slow readers hold most),
  // so that many slow SSE readers under the per-connection limit cannot
  // exhaust memory together. 0 = unlimited.
  std::size_t max_write_queue_bytes_total = 512 * 1024 * 1024;
};

}  // namespace fcgi
