// One accepted socket: feeds what it reads to its RequestAssembler, performs
// the assembler's actions (dispatch to the Handler, writes, closes), times
// requests' input, and writes their responses. Lives as long as an operation
// or a Request holds a shared_ptr to it; the server only keeps a raw pointer
// while open.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "fcgi/detail/deadline_queue.hpp"
#include "fcgi/detail/write_queue.hpp"
#include "fcgi/request.hpp"
#include "fcgi/request_assembler.hpp"
#include "fcgi/server.hpp"

namespace fcgi {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  Connection(Server& server, Socket socket);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  // Closes the socket at once and aborts every unfinished request.
  void close(std::error_code why);
  // Shutdown: close once no request is in flight and writes have drained.
  void drain();
  // The server is going away: never call back into it.
  void detach() {
    server_ = nullptr;
    assembler_.detach();
  }

  // From Request. `end` finishes the request.
  void send(std::uint16_t id, Response&& r, bool end, bool keep_conn);

 private:
  // What the connection keeps of each active request, in the assembler's
  // table. The flag last: the table packs its own bytes after it.
  struct Slot {
    RequestPtr request;  // null until dispatched
    // Some STDOUT went out without ending the request (a stream): an abort
    // must close the stream before END_REQUEST.
    bool stdout_open = false;
  };
  // What the connection keeps of a request in its input phase, in the
  // assembler's input state: one allocation for both, gone at dispatch.
  struct InputSlot {
    // Limits::read_timeout of the input phase; its connection is set as the
    // request begins.
    detail::Deadline deadline{nullptr};
  };
  using Assembler = RequestAssembler<Slot, InputSlot>;

  void wait_read();
  void on_readable(std::error_code ec);
  // Feeds `size` bytes of the server's shared read buffer to the assembler.
  void consume(const std::uint8_t* data, std::size_t size);
  // Performs one action of the assembler.
  void perform(Assembler::Action& a);
  void on_begin(const Assembler::Action& a);
  void on_dispatch(Assembler::Action& a);
  void on_reject(Assembler::Action& a);
  void on_abort(Assembler::Action& a);
  // After parsing: a partial record has read_timeout to complete.
  void update_record_deadline();
  // After requests come and go: a connection without any has idle_timeout.
  void update_idle_deadline();
  void send_end_request(std::uint16_t id, std::uint8_t protocol_status, bool keep_conn);

  // A lone response with nothing queued before it: written straight from
  // its parts, without queueing. Returns the bytes the socket took, or
  // nullopt when the response must go through the queue as a whole: it
  // needs more than one STDOUT record, it is an empty part of an open
  // stream, or the write failed (then the connection is closing).
  std::optional<std::size_t> write_direct(std::uint16_t id, const Response& r, bool end,
                                          std::size_t& total);
  // Writes what the socket takes now, then checks the queue limits.
  void flush();
  void write_now();
  // Reports this queue's size to the server's total.
  void sync_queued();
  // After a write that took `sent` whole buffers of bufs[0, n) and `partial`
  // bytes of the next: keeps the rest as the gather list to continue with.
  void keep_unsent(const boost::asio::const_buffer* bufs, std::size_t n, std::size_t sent,
                   std::size_t partial);
  // flush() at the end of the current handler turn (once, however many
  // responses are queued meanwhile).
  void flush_later();
  void check_queue_limit();
  void wait_write();
  // Closes from a later handler: used where the application is on the stack,
  // so it is never re-entered with abort notices in the middle of a call.
  void close_later(std::error_code why);
  // Tells the server's log sink why it closes, when that is worth telling.
  void log_close(std::error_code why);
  bool idle() const { return assembler_.requests() == 0 && out_.empty(); }

  Server* server_;
  Socket socket_;
  // Also the table of this connection's requests.
  Assembler assembler_;
  detail::WriteQueue out_;
  // out_.bytes() as last added to the server's total.
  std::size_t queued_ = 0;
  detail::Deadline record_deadline_{this};
  // assembler_.records() when record_deadline_ was armed: the partial record it
  // times.
  std::uint64_t record_timed_ = 0;
  detail::Deadline idle_deadline_{this};
  // The unsent tail of the gather list of a partial write (empty unless the
  // socket is full), and the position of its first entry.
  std::vector<boost::asio::const_buffer> unsent_;
  // At most kMaxIovecs (512): with the flags, in one word.
  std::uint16_t unsent_pos_ = 0;
  bool closed_ = false;
  bool closing_ = false;  // close_later() pending
  bool write_waiting_ = false;
  bool flush_posted_ = false;
  bool draining_ = false;
};

}  // namespace fcgi
