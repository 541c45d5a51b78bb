#include "bench/common/fcgi_client.hpp"

#include <unistd.h>

#include <string_view>

#include "bench/common/fcgi_codec.hpp"
#include "bench/common/sockets.hpp"

namespace bench {

void fcgi_request(std::string& out, std::uint16_t id, const std::string& uri,
                  const std::string& query) {
  fcgi::append_begin_request(out, id, FCGI_RESPONDER, FCGI_KEEP_CONN);
  std::string p;
  fcgi::append_name_value(p, "REQUEST_METHOD", "GET");
  fcgi::append_name_value(p, "DOCUMENT_URI", uri);
  fcgi::append_name_value(p, "QUERY_STRING", query);
  fcgi::append_record(out, FCGI_PARAMS, id, p);
  fcgi::append_record(out, FCGI_PARAMS, id, {});
  fcgi::append_record(out, FCGI_STDIN, id, {});
}

std::string fcgi_get(const std::string& address, const std::string& uri) {
  const std::string_view a = address;
  int fd = -1;
  if (a.starts_with("unix:"))
    fd = unix_connect(address.substr(5));
  else if (a.starts_with("127.0.0.1:"))
    fd = tcp_connect(std::stoi(address.substr(10)), false);
  else
    fd = unix_connect(address);
  if (fd < 0) return {};
  std::string req;
  fcgi_request(req, 1, uri, "");
  write_all(fd, req);
  std::string in, out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    std::size_t p = 0;
    bool ended = false;
    while (in.size() - p >= fcgi::kHeaderLen) {
      const fcgi::Header h = fcgi::decode_header(in.data() + p);
      if (in.size() - p < h.record_len()) break;
      if (h.type == FCGI_STDOUT) out.append(in, p + fcgi::kHeaderLen, h.content_length);
      if (h.type == FCGI_END_REQUEST) ended = true;
      p += h.record_len();
    }
    in.erase(0, p);
    if (ended) break;
  }
  ::close(fd);
  return out;
}

}  // namespace bench
