// CGI response heads and the JSON error body, as FastCGI STDOUT bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "fcgi/reject.hpp"
#include "fcgi/request.hpp"
#include "gateway/http/http_error.hpp"

namespace comet {

std::string_view status_text(int status);

// "Status: 200 OK\r\nContent-Type: ..\r\n...": without the closing blank
// line, so callers may add headers; finish with "\r\n".
std::string response_head(int status, std::string_view content_type, std::size_t content_length);

// {"error":"code","message":"text"}
std::string error_body(const HttpError& e);

// A request fcgi/ refuses on its own (413, 503), in the API's JSON error
// form (Server::set_reject_writer); `extra_headers` (whole lines: CORS)
// go with the head.
fcgi::Response reject_response(const fcgi::Reject& r, std::string_view extra_headers = {});

}  // namespace comet
