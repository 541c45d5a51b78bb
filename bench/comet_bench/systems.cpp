#include "bench/comet_bench/systems.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "bench/comet_bench/stack.hpp"

namespace bench {

const char* name_of(System s) {
  return s == System::comet ? "comet-gateway" : s == System::bare ? "bare" : "nchan";
}

std::string poll_request(System sys, const std::string& channel, const SubState& s) {
  std::string r;
  if (sys != System::nchan) {
    r = "GET /comet/poll?channel=" + channel + "&timeout=60";
    if (!s.cursor.empty()) r += "&since=" + s.cursor;
    r += " HTTP/1.1\r\nHost: bench\r\n\r\n";
  } else {
    r = "GET /sub?channel=" + channel + " HTTP/1.1\r\nHost: bench\r\n";
    if (!s.last_modified.empty()) r += "If-Modified-Since: " + s.last_modified + "\r\n";
    if (!s.etag.empty()) r += "If-None-Match: " + s.etag + "\r\n";
    r += "\r\n";
  }
  return r;
}

void take_payloads(System sys, const HttpResponse& r, SubState& s,
                   std::vector<std::string_view>& payloads, long& gaps) {
  payloads.clear();
  if (r.status != 200) return;
  if (sys == System::nchan) {
    s.last_modified = r.last_modified;
    s.etag = r.etag;
    payloads.push_back(r.body);
    return;
  }
  const std::string_view b = r.body;
  const auto c = b.find("\"cursor\":\"");
  if (c != std::string_view::npos) {
    const auto e = b.find('"', c + 10);
    s.cursor.assign(b.substr(c + 10, e - c - 10));
  }
  // Boyer-Moore-Horspool: string_view::find would call memchr at each of
  // the body's many quotes, glibc's memmem steps through nearly every byte,
  // and this loop reads every message the bench receives.
  static constexpr std::string_view kData = "\"data\":\"";
  static const std::boyer_moore_horspool_searcher data_key(kData.begin(), kData.end());
  for (auto from = b.begin(); from != b.end();) {
    const auto at = std::search(from, b.end(), data_key);
    if (at == b.end()) break;
    const std::size_t p = static_cast<std::size_t>(at - b.begin()) + kData.size();
    auto e = b.find('"', p);
    while (e != std::string_view::npos && b[e - 1] == '\\') e = b.find('"', e + 1);
    if (e == std::string_view::npos) break;
    payloads.push_back(b.substr(p, e - p));
    from = b.begin() + static_cast<std::ptrdiff_t>(e);
  }
  static constexpr std::string_view kGaps = "\"gaps\":";
  if (memmem(b.data(), b.size(), kGaps.data(), kGaps.size()) != nullptr) ++gaps;
}

long parked_now(System sys, const Stack& st) {
  if (sys != System::nchan) return st.gateway_metric("comet_parked_requests");
  const std::string s = http_get(st.nginx_port(), "/nchan_status");
  const auto p = s.find("subscribers: ");
  return p == std::string::npos ? -1 : std::atol(s.c_str() + p + 13);
}

}  // namespace bench
