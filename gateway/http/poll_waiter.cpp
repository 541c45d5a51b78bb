#include "gateway/http/poll_waiter.hpp"

#include "gateway/http/delivery.hpp"

namespace comet {

PollWaiter::PollWaiter(Delivery& delivery, fcgi::RequestPtr request, std::string callback,
                       std::string origin)
    : delivery_(delivery),
      request_(std::move(request)),
      callback_(std::move(callback)),
      origin_(std::move(origin)) {
  request_->set_abort_listener(this);
}

PollWaiter::~PollWaiter() {
  request_->set_abort_listener(nullptr);
}

void PollWaiter::on_release(const BatchPtr& batch) {
  delivery_.responder().batch(*request_, *batch, callback_, origin_);
  delete this;
}

void PollWaiter::on_abort() {
  // The web server closed the connection (client gone, or nginx gave up):
  // leave the queues now so the parked gauge and fan-out cost drop at once.
  delivery_.hub().cancel(*this);
  delete this;
}

}  // namespace comet
