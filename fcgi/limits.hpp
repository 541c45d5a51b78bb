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
  // From the first byte of a request (BEGIN_REQUEST) until its STDIN is
  // complete: slow or stalled peers are cut off.
  std::chrono::milliseconds read_timeout{10000};
  // Bytes queued for writing on one connection before it is closed as a
  // slow reader (0 = unlimited).
  std::size_t max_write_queue_bytes = 64 * 1024 * 1024;
};

}  // namespace fcgi
