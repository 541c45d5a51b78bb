// Errors of the FastCGI codec and server, as std::error_code so that async
// paths report them without exceptions.
#pragma once

#include <system_error>

namespace fcgi {

enum class errc {
  // Record header version is not FCGI_VERSION_1.
  bad_version = 1,
  // A record type the spec does not define, on a request id.
  unknown_type,
  // A type a responder never receives (STDOUT, END_REQUEST, ...).
  unexpected_type,
  // A request record on id 0, or a management record on a request id.
  bad_request_id,
  // Content length not allowed for the record type.
  bad_content_length,
  // A name-value length that overruns its stream or is absurdly large.
  bad_name_value_length,
  // The params stream ended in the middle of a name-value pair.
  truncated_params,
  // Params exceed Limits::max_params_bytes.
  params_too_large,
  // STDIN exceeds Limits::max_stdin_bytes.
  stdin_too_large,
  // BEGIN_REQUEST for a request id that is still active.
  duplicate_request,
  // A stream record (PARAMS, STDIN) after that stream ended.
  stream_after_end,
  // Limits::read_timeout passed before a request's input or a record was
  // complete.
  read_timeout,
  // Limits::max_write_queue_bytes exceeded: the peer reads too slowly.
  write_queue_full,
  // Limits::max_write_queue_bytes_total exceeded; this connection queued
  // the most.
  write_budget_exceeded,
  // Limits::max_pending_input_bytes exceeded: too much undispatched input.
  input_budget_exceeded,
  // Limits::idle_timeout passed on a connection without requests.
  idle_timeout,
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace fcgi

template <>
struct std::is_error_code_enum<fcgi::errc> : std::true_type {};
