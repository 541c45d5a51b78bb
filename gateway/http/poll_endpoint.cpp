#include "gateway/http/poll_endpoint.hpp"

#include "gateway/http/poll_waiter.hpp"

namespace comet {

PollEndpoint::PollEndpoint(Delivery& delivery, Placement& placement, const AccessControl& access,
                           ClientBudget& clients, PresenceDesk& presence, PollLimits limits)
    : delivery_(delivery),
      placement_(placement),
      access_(access),
      clients_(clients),
      presence_(presence),
      limits_(limits) {}

void PollEndpoint::answer(const fcgi::RequestPtr& request, const BatchPtr& batch,
                          const std::string& callback, const std::string& origin) {
  auto lists =
      batch->gaps.empty() ? std::vector<std::string>{} : gapped_presence(*batch, presence_);
  if (lists.empty()) {
    delivery_.responder().batch(*request, *batch, callback, origin);
    return;
  }
  presence_.prepare(lists, [this, request, batch, lists, callback, origin](bool) {
    // Without the lists (Redis away again) the answer still goes: the next
    // gap brings them.
    delivery_.responder().batch(*request, *with_members(batch, lists, presence_), callback, origin);
  });
}

void PollEndpoint::handle(const fcgi::RequestPtr& request, const Query& query) {
  Responder& respond = delivery_.responder();
  if (delivery_.draining()) {
    respond.error(*request, errors::shutting_down);
    return;
  }
  auto admitted = admit_poll_params(query, {}, limits_, access_);
  if (auto* err = std::get_if<HttpError>(&admitted)) {
    respond.error(*request, *err);
    return;
  }
  auto& p = std::get<PollParams>(admitted);
  if (const HttpError* e = presence_refusal(presence_, p)) {
    respond.error(*request, *e);
    return;
  }
  std::string client = ClientBudget::client_key(request->param("REMOTE_ADDR"));
  if (p.timeout.count() > 0) {
    // Refused before any stream is read for it.
    std::string_view reason;
    if (const HttpError* e =
            parking_refusal(delivery_.hub(), clients_, client, p.channels.size(), reason)) {
      respond.refused(reason, client);
      respond.error(*request, *e);
      return;
    }
  }
  std::string origin = respond.allowed_origin(*request);
  request->drop_inputs();
  if (!p.user) {  // presence_refusal: so on no presence channel
    place(request, std::move(p), std::move(origin), std::move(client));
    return;
  }
  // Member lists first: the answer may carry them.
  auto channels = p.channels;
  presence_.prepare(channels, [this, request, p = std::move(p), origin = std::move(origin),
                               client = std::move(client)](bool ok) mutable {
    if (!ok) {
      delivery_.responder().error_after_inputs(*request, errors::presence_unavailable, origin);
      return;
    }
    place(request, std::move(p), std::move(origin), std::move(client));
  });
}

void PollEndpoint::place(const fcgi::RequestPtr& request, PollParams p, std::string origin,
                         std::string client) {
  auto channels = p.channels;
  const Since since = p.since;
  placement_.place(request, std::move(channels), since,
                   [this, request, p = std::move(p), origin = std::move(origin),
                    client = std::move(client)](const PollReads* reads) mutable {
                     if (delivery_.draining()) {
                       // Shutting down while reading: the client resumes from the
                       // cursor it sent, elsewhere or after the restart.
                       delivery_.responder().batch(*request,
                                                   *delivery_.hub().unchanged(p.since.cursor),
                                                   p.callback, origin);
                       return;
                     }
                     run(request, p, std::move(origin), client, reads);
                   });
}

void PollEndpoint::run(const fcgi::RequestPtr& request, PollParams& p, std::string origin,
                       const std::string& client, const PollReads* reads) {
  Responder& respond = delivery_.responder();
  // A client new to a presence channel (no cursor) gets its members now.
  PresenceHold hold;
  std::vector<std::string> lists;
  if (auto on = presence_channels(presence_, p.channels); !on.empty()) {
    if (p.since.kind != Since::Kind::cursor) {
      lists = on;
      p.timeout = std::chrono::milliseconds(0);
    }
    hold = PresenceHold(presence_, *p.user, p.user_info.value_or(""), std::move(on));
  }
  auto waiter =
      std::make_unique<PollWaiter>(*this, request, std::move(p.callback), std::move(origin));
  // Others may have parked while this one was placed.
  if (p.timeout.count() > 0) {
    std::string_view reason;
    if (const HttpError* e =
            parking_refusal(delivery_.hub(), clients_, client, p.channels.size(), reason)) {
      respond.refused(reason, client);
      respond.error_after_inputs(*request, *e, waiter->origin());
      return;
    }
  }
  PollResult r = delivery_.hub().poll(*waiter, p.channels, p.since, p.timeout, Clock::now(), reads);
  switch (r.status) {
    case PollStatus::parked:
      waiter->charge(clients_, client);
      if (!hold.channels().empty()) holds_.emplace(waiter.get(), std::move(hold));
      waiters_.adopt(std::move(waiter));
      delivery_.schedule_wakeup();
      return;
    case PollStatus::answered:
      answer(request, with_members(r.batch, lists, presence_), waiter->callback(),
             waiter->origin());
      break;
    case PollStatus::bad_cursor:
      respond.error_after_inputs(*request, errors::cursor_ahead, waiter->origin());
      break;
    case PollStatus::no_channel:  // parse_poll_params has refused it already
      respond.error_after_inputs(*request, errors::missing_channel, waiter->origin());
      break;
    case PollStatus::full:  // filled up while this poll read its streams
      respond.refused("parked_total", client);
      respond.error_after_inputs(*request, errors::overloaded, waiter->origin());
      break;
    case PollStatus::channels_full:
      respond.refused("channels_total", client);
      respond.error_after_inputs(*request, errors::channels_full, waiter->origin());
      break;
  }
}

}  // namespace comet
