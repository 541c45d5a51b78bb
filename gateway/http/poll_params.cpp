#include "gateway/http/poll_params.hpp"

#include <algorithm>
#include <charconv>

#include "gateway/core/channel_name.hpp"

namespace comet {
namespace {

HttpError bad(std::string code, std::string message) {
  return HttpError{400, std::move(code), std::move(message)};
}

// Seconds as "25" or "2.5" (up to millisecond precision); nullopt otherwise.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty()) || frac.size() > 3)
    return std::nullopt;
  std::uint64_t secs = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    ms *= 10;
    if (i < frac.size()) {
      if (frac[i] < '0' || frac[i] > '9') return std::nullopt;
      ms += static_cast<std::uint64_t>(frac[i] - '0');
    }
  }
  if (secs > 1'000'000) secs = 1'000'000;  // clamped later anyway; avoids overflow
  return std::chrono::milliseconds(secs * 1000 + ms);
}

}  // namespace

bool is_valid_jsonp_callback(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  const auto ident_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
  };
  if (!ident_start(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '.'; });
}

std::variant<PollParams, HttpError> parse_poll_params(const Query& query,
                                                      std::string_view last_event_id,
                                                      const PollLimits& limits) {
  PollParams p;
  for (std::size_t i = 0; i < query.size(); ++i) {
    auto [key, value] = query[i];
    if (key != "channel") continue;
    while (true) {
      const auto comma = value.find(',');
      const std::string_view name = value.substr(0, comma);
      if (!is_valid_channel_name(name)) {
        return bad("bad_channel", "channel names are 1 to 128 characters of A-Z a-z 0-9 _ . : @ -");
      }
      if (std::find(p.channels.begin(), p.channels.end(), name) == p.channels.end()) {
        if (p.channels.size() == limits.max_channels) {
          return HttpError{
              413, "too_many_channels",
              "at most " + std::to_string(limits.max_channels) + " channels per request"};
        }
        p.channels.emplace_back(name);
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (p.channels.empty()) return errors::missing_channel;

  // Last-Event-ID wins: a browser sends it only when its EventSource
  // reconnects, with the URL (and any since= in it) of the first request,
  // so it is where the client really is.
  std::string_view since = last_event_id;
  if (auto s = query.get("since"); s && last_event_id.empty()) since = *s;
  if (since.empty()) {
    p.since.kind = Since::Kind::now;
  } else if (since == "earliest") {
    p.since.kind = Since::Kind::earliest;
  } else if (auto c = parse_cursor(since)) {
    p.since.kind = Since::Kind::cursor;
    p.since.cursor = *c;
  } else {
    return bad("bad_cursor", "since is not a cursor this gateway issues");
  }

  p.timeout = limits.default_timeout;
  if (auto t = query.get("timeout")) {
    auto parsed = parse_seconds(*t);
    if (!parsed) return bad("bad_timeout", "timeout is a number of seconds, 0 or more");
    p.timeout = *parsed;
  }
  p.timeout = std::min(p.timeout, limits.max_timeout);

  if (auto cb = query.get("callback")) {
    if (!is_valid_jsonp_callback(*cb))
      return bad("bad_callback", "callback must match [A-Za-z_$][A-Za-z0-9_$.]{0,63}");
    p.callback = std::string(*cb);
  }
  if (auto tok = query.get("token")) p.token = std::string(*tok);
  return p;
}

std::variant<PollParams, HttpError> admit_poll_params(const Query& query,
                                                      std::string_view last_event_id,
                                                      const PollLimits& limits,
                                                      const AccessControl& access) {
  auto parsed = parse_poll_params(query, last_event_id, limits);
  if (auto* p = std::get_if<PollParams>(&parsed)) {
    std::optional<TokenClaims> claims;
    if (auto refused = access.refusal(p->token, p->channels, &claims)) return *refused;
    if (claims) {
      p->token_expires = claims->expires;
      p->user = std::move(claims->user);
      p->user_info = std::move(claims->info);
    }
  }
  return parsed;
}

}  // namespace comet
