#include "gateway/http/sse_endpoint.hpp"

#include "gateway/http/sse_waiter.hpp"

namespace comet {

SseEndpoint::SseEndpoint(Delivery& delivery, Placement& placement, const AccessControl& access,
                         ClientBudget& clients, PresenceDesk& presence, PollLimits limits,
                         std::chrono::milliseconds lifetime)
    : delivery_(delivery),
      placement_(placement),
      access_(access),
      clients_(clients),
      presence_(presence),
      limits_(limits),
      lifetime_(lifetime) {
  limits_.max_timeout = limits_.default_timeout = std::chrono::milliseconds(0);  // unused here
}

void SseEndpoint::handle(const fcgi::RequestPtr& request, const Query& query) {
  Responder& respond = delivery_.responder();
  Hub& hub = delivery_.hub();
  if (delivery_.draining()) {
    respond.error(*request, errors::shutting_down);
    return;
  }
  auto admitted = admit_poll_params(query, request->param("HTTP_LAST_EVENT_ID"), limits_, access_);
  if (auto* err = std::get_if<HttpError>(&admitted)) {
    respond.error(*request, *err);
    return;
  }
  auto& p = std::get<PollParams>(admitted);
  if (const HttpError* e = presence_refusal(presence_, p)) {
    respond.error(*request, *e);
    return;
  }
  if (p.since.kind == Since::Kind::cursor && p.since.cursor.epoch == hub.epoch() &&
      p.since.cursor.seq > hub.head().seq) {
    respond.error(*request, errors::cursor_ahead);
    return;
  }
  std::string client = ClientBudget::client_key(request->param("REMOTE_ADDR"));
  std::string_view reason;
  if (const HttpError* e = parking_refusal(hub, clients_, client, p.channels.size(), reason)) {
    respond.refused(reason, client);
    respond.error(*request, *e);
    return;
  }
  std::string head =
      "Status: 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\n";
  std::string origin = respond.allowed_origin(*request);
  respond.cors_headers(head, origin);
  head += "\r\nretry: 2000\n\n";
  request->drop_inputs();
  // Streams end after their lifetime, with jitter so that a restart's
  // reconnects spread out.
  const auto lifetime = std::chrono::duration_cast<Clock::duration>(
      lifetime_ * (1.0 - std::uniform_real_distribution<double>(0, 0.1)(rng_)));
  Clock::time_point end_at = Clock::now() + lifetime;
  if (p.token_expires) {
    // Not a moment past its token: the client comes back with a fresh one.
    const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    end_at = std::min(end_at, Clock::now() + std::chrono::seconds(*p.token_expires - now_unix));
  }
  if (!p.user) {  // presence_refusal: so on no presence channel
    place(request, std::move(p), std::move(head), std::move(origin), std::move(client), end_at);
    return;
  }
  // Member lists first: the stream may start with them.
  auto channels = p.channels;
  presence_.prepare(
      channels, [this, request, p = std::move(p), head = std::move(head),
                 origin = std::move(origin), client = std::move(client), end_at](bool ok) mutable {
        if (!ok) {
          delivery_.responder().error_after_inputs(*request, errors::presence_unavailable, origin);
          return;
        }
        place(request, std::move(p), std::move(head), std::move(origin), std::move(client), end_at);
      });
}

void SseEndpoint::place(const fcgi::RequestPtr& request, PollParams p, std::string head,
                        std::string origin, std::string client, Clock::time_point end_at) {
  auto channels = p.channels;
  const Since since = p.since;
  placement_.place(
      request, std::move(channels), since,
      [this, request, p = std::move(p), head = std::move(head), origin = std::move(origin),
       client = std::move(client), end_at](const PollReads* reads) mutable {
        if (delivery_.draining()) {
          delivery_.responder().error_after_inputs(*request, errors::shutting_down, origin);
          return;
        }
        // Others may have parked while this one was placed.
        std::string_view reason;
        if (const HttpError* e =
                parking_refusal(delivery_.hub(), clients_, client, p.channels.size(), reason)) {
          delivery_.responder().refused(reason, client);
          delivery_.responder().error_after_inputs(*request, *e, origin);
          return;
        }
        // Counted only now: it could still have been a 503.
        delivery_.responder().count(200);
        request->write(fcgi::Response{std::move(head), nullptr, {}});
        ClientBudget::Share* share = clients_.charge(client, p.channels.size());
        PresenceHold hold;
        std::vector<std::string> lists;
        if (auto on = presence_channels(presence_, p.channels); !on.empty()) {
          // A client new to a presence channel (no cursor) gets its members first.
          if (p.since.kind != Since::Kind::cursor) lists = on;
          hold = PresenceHold(presence_, *p.user, p.user_info.value_or(""), std::move(on));
        }
        streams_
            .adopt(std::make_unique<SseWaiter>(*this, request, std::move(p.channels), end_at, share,
                                               std::move(hold)))
            .start(p.since, reads, lists);
      });
}

}  // namespace comet
