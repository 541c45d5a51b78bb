#include "fcgi/request.hpp"

#include "fcgi/detail/connection.hpp"

namespace fcgi {

Request::Request(std::shared_ptr<Connection> connection, std::uint16_t id, std::uint16_t role,
                 bool keep_conn)
    : connection_(std::move(connection)), id_(id), role_(role), keep_conn_(keep_conn) {}

std::string_view Request::param(std::string_view name) const {
  return params_.get(name);
}

void Request::drop_inputs() {
  params_.clear();
  std::string().swap(body_);
}

void Request::write(Response part) {
  if (finished_ || !connection_) return;
  connection_->send(id_, std::move(part), false, keep_conn_);
}

void Request::end() {
  respond({});
}

void Request::respond(Response r) {
  if (finished_) return;
  finished_ = true;
  // Finished requests let go of their connection, so a parked-then-ended
  // request kept by the application does not keep a closed socket alive.
  auto c = std::move(connection_);
  if (c) c->send(id_, std::move(r), true, keep_conn_);
}

void Request::abort() {
  if (finished_) return;
  finished_ = true;
  aborted_ = true;
  connection_.reset();
  AbortListener* l = abort_listener_;
  abort_listener_ = nullptr;
  if (l != nullptr) l->on_abort();
}

}  // namespace fcgi
