// fcgi::Server over real sockets: requests, keep-alive, multiplexing,
// aborts, rejects, load shedding, listeners and shutdown. What the request
// assembler decides is unit-tested without sockets
// (tests/unit/fcgi/request_assembler_test.cpp); here, that the server
// performs it on the wire.
#include <gtest/gtest.h>

#include "tests/integration/fcgi_server_fixture.hpp"

#include <grp.h>

namespace fcgi::test {
namespace {

TEST_F(FcgiServer, RespondsAndClosesWithoutKeepConn) {
  start();
  EXPECT_EQ(server->local_endpoint(0).rfind("127.0.0.1:", 0), 0u);
  Client c = connect();
  c.send(request(1, "/comet/poll", false, "payload"));
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/comet/poll|payload");
  EXPECT_EQ(end_status(c.in, 1), FCGI_REQUEST_COMPLETE);
  // Order on the wire: STDOUT data, empty STDOUT, END_REQUEST last.
  const auto recs = records(c.in);
  ASSERT_GE(recs.size(), 3u);
  EXPECT_EQ(recs.back().type, FCGI_END_REQUEST);
  EXPECT_EQ(recs[recs.size() - 2].type, FCGI_STDOUT);
  EXPECT_EQ(recs[recs.size() - 2].content, "");
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  ASSERT_EQ(handler.requests.size(), 1u);
  EXPECT_EQ(handler.requests[0]->param("SCRIPT_NAME"), "/comet/poll");
  EXPECT_EQ(handler.requests[0]->param("MISSING"), "");
  EXPECT_TRUE(handler.requests[0]->finished());
  EXPECT_FALSE(handler.requests[0]->aborted());
}

TEST_F(FcgiServer, KeepConnServesSeveralRequestsInTurn) {
  start();
  Client c = connect();
  c.send(request(1, "/a", true));
  ASSERT_TRUE(wait_end(c, 1));
  c.in.clear();
  c.send(request(1, "/b", true));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/b|");
  pump_until([] { return false; }, 20ms);
  c.poll();
  EXPECT_FALSE(c.eof);
  EXPECT_EQ(server->connections(), 1u);
}

TEST_F(FcgiServer, MultiplexedRequestsAnsweredOutOfOrder) {
  start();
  handler.park = true;
  Client c = connect();
  // Interleaved records of two requests.
  c.send(begin(1, true) + begin(2, true) + params(2, {{"SCRIPT_NAME", "/two"}}) +
         params(1, {{"SCRIPT_NAME", "/one"}}) + stdin_of(2, "") + stdin_of(1, "x"));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  EXPECT_EQ(handler.requests[0]->id(), 2);
  EXPECT_EQ(handler.requests[1]->id(), 1);
  EXPECT_TRUE(handler.requests[1]->keep_conn());
  EXPECT_EQ(handler.requests[1]->body(), "x");
  handler.requests[0]->respond({"second", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_FALSE(end_status(c.in, 1));
  handler.requests[1]->respond({"first", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 2), "second");
  EXPECT_EQ(stdout_of(c.in, 1), "first");
}

TEST_F(FcgiServer, PeerCloseAbortsParkedRequests) {
  start();
  handler.park = true;
  CountingListener listener;
  {
    Client c = connect();
    c.send(request(1, "/p", true) + request(2, "/q", true));
    ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
    handler.requests[0]->set_abort_listener(&listener);
    handler.requests[0]->drop_inputs();
    EXPECT_TRUE(handler.requests[0]->params().empty());
  }
  ASSERT_TRUE(pump_until([&] { return listener.aborts == 1; }));
  EXPECT_TRUE(handler.requests[0]->aborted());
  EXPECT_TRUE(handler.requests[1]->aborted());
  EXPECT_TRUE(handler.requests[1]->finished());
  EXPECT_EQ(server->connections(), 0u);
  // Answering an aborted request is harmless.
  handler.requests[0]->respond({"late", nullptr, ""});
  handler.requests[1]->write({"late", nullptr, ""});
  EXPECT_EQ(listener.aborts, 1);
}

TEST_F(FcgiServer, AbortRequestRecordAbortsOneRequest) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true) + request(2, "/q", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[0]->set_abort_listener(&listener);
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 1, "");
  c.send(abort);
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(end_status(c.in, 1), FCGI_REQUEST_COMPLETE);
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_FALSE(handler.requests[1]->finished());
  handler.requests[1]->respond({"ok", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(stdout_of(c.in, 2), "ok");
}

// SSE writes without ending; an ABORT_REQUEST then must still close the
// STDOUT stream before END_REQUEST. A request that wrote nothing gets
// END_REQUEST alone.
TEST_F(FcgiServer, AbortOfAnOpenStreamClosesStdoutBeforeEndRequest) {
  start();
  handler.park = true;
  Client c = connect();
  c.send(request(1, "/sse", true) + request(2, "/quiet", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[0]->write({"Content-Type: text/event-stream\r\n\r\n", nullptr, ""});
  handler.requests[0]->write({"data: x\n\n", nullptr, ""});
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 1, "");
  append_record(abort, FCGI_ABORT_REQUEST, 2, "");
  c.send(abort);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) {
    return end_status(cl.in, 1).has_value() && end_status(cl.in, 2).has_value();
  }));
  std::vector<Rec> one;
  std::vector<Rec> two;
  for (const auto& r : records(c.in)) (r.id == 1 ? one : two).push_back(r);
  ASSERT_EQ(one.size(), 4u);
  EXPECT_EQ(one[0].type, FCGI_STDOUT);
  EXPECT_EQ(one[1].type, FCGI_STDOUT);
  EXPECT_EQ(one[2].type, FCGI_STDOUT);
  EXPECT_EQ(one[2].content, "");
  EXPECT_EQ(one[3].type, FCGI_END_REQUEST);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].type, FCGI_END_REQUEST);
  EXPECT_TRUE(handler.requests[0]->aborted());
}

// Web servers send one request per connection; a multiplexing peer's first
// request is kept apart from the others, so requests coming and going in
// every order must find their own slots.
TEST_F(FcgiServer, MultiplexedRequestsComeAndGoInEveryOrder) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/one", true) + request(2, "/two", true) + request(3, "/three", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 3; }));
  handler.requests[0]->respond({"first", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 1));
  // A new request takes the freed place; one of the others is aborted.
  c.send(request(4, "/four", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 4; }));
  EXPECT_EQ(handler.requests[3]->id(), 4);
  EXPECT_EQ(handler.requests[3]->param("SCRIPT_NAME"), "/four");
  handler.requests[2]->set_abort_listener(&listener);
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 3, "");
  c.send(abort);
  ASSERT_TRUE(wait_end(c, 3));
  EXPECT_EQ(listener.aborts, 1);
  // Management records still work beside them.
  std::string get_values;
  std::string names;
  append_name_value(names, FCGI_MPXS_CONNS, "");
  append_record(get_values, FCGI_GET_VALUES, 0, names);
  c.send(get_values);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) {
    return cl.in.find(std::string(FCGI_MPXS_CONNS) + "1") != std::string::npos;
  }));
  // A duplicate of a request in flight is a protocol error, wherever it is
  // kept; before that, the others answer normally.
  handler.requests[3]->respond({"fourth", nullptr, ""});
  handler.requests[1]->respond({"second", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 4));
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(stdout_of(c.in, 4), "fourth");
  EXPECT_EQ(stdout_of(c.in, 2), "second");
  EXPECT_EQ(server->connections(), 1u);
  c.send(request(5, "/five", true) + begin(5, true));
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
}

TEST_F(FcgiServer, UnknownRoleAndOverload) {
  Limits limits;
  limits.max_requests_per_connection = 1;
  start(limits);
  handler.park = true;
  Client c = connect();
  c.send(begin(5, true, FCGI_AUTHORIZER) + params(5, {}) + stdin_of(5, ""));
  ASSERT_TRUE(wait_end(c, 5));
  EXPECT_EQ(end_status(c.in, 5), FCGI_UNKNOWN_ROLE);
  c.send(request(1, "/a", true) + request(2, "/b", true));
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(end_status(c.in, 2), FCGI_OVERLOADED);
  EXPECT_EQ(handler.requests.size(), 1u);
}

TEST_F(FcgiServer, OversizedParamsAndStdinAreAnsweredCleanly) {
  Limits limits;
  limits.max_params_bytes = 100;
  limits.max_stdin_bytes = 10;
  start(limits);
  std::vector<int> rejected;
  server->set_reject_sink([&](int status) { rejected.push_back(status); });
  Client c = connect();
  c.send(begin(1, true) + params(1, {{"BIG", std::string(200, 'x')}}) + stdin_of(1, ""));
  ASSERT_TRUE(wait_end(c, 1));
  // Without a reject writer: plain text.
  EXPECT_EQ(stdout_of(c.in, 1),
            "Status: 413 Payload Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 32\r\n\r\nrequest params exceed 100 bytes\n");
  // The application's wording, from what fcgi/ tells it.
  std::vector<Reject> told;
  server->set_reject_writer([&](const Reject& r) {
    told.push_back(r);
    return Response{
        "Status: " + std::to_string(r.status) + " " + std::string(r.reason) + "\r\n\r\n",
        std::make_shared<const std::string>(r.code), "|" + r.message};
  });
  c.in.clear();
  c.send(request(1, "/a", true, std::string(11, 'b')));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1),
            "Status: 413 Payload Too Large\r\n\r\nbody_too_large|request body exceeds 10 bytes");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], (Reject{413, "Payload Too Large", "body_too_large",
                             "request body exceeds 10 bytes", ""}));
  // The connection is still usable.
  c.in.clear();
  c.send(request(1, "/ok", true, "0123456789"));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/ok|0123456789");
  EXPECT_TRUE(handler.requests.size() == 1);
  // The application never saw the two refused requests; the sink did.
  EXPECT_EQ(rejected, (std::vector<int>{413, 413}));
}

// A multiplexing peer that begins many requests and finishes none holds
// their input; past the connection's budget it is closed at once rather
// than after the read timeout.
TEST_F(FcgiServer, UndispatchedInputOverTheConnectionBudgetCloses) {
  Limits limits;
  limits.max_params_bytes = 1000;
  limits.max_stdin_bytes = 1000;
  limits.max_pending_input_bytes = 64 * 1024;
  start(limits);
  std::vector<std::string> lines;
  server->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  Client c = connect();
  std::string in;
  for (std::uint16_t id = 1; id <= 200; ++id) {
    // Params announcing a 900-byte value and sending it, but never ended.
    std::string content;
    append_name_value(content, "A", std::string(900, 'a'));
    in += begin(id, true);
    append_record(in, FCGI_PARAMS, id, content);
  }
  c.send(in);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_TRUE(any_contains(lines, "budget")) << (lines.empty() ? "" : lines[0]);
  EXPECT_TRUE(handler.requests.empty());
}

// Over the server-wide budget the request that passes it is shed with a
// 503 and Retry-After; its connection and the others go on, and
// the budget is given back as requests are dispatched.
TEST_F(FcgiServer, UndispatchedInputOverTheServerBudgetIsShedWith503) {
  Limits limits;
  limits.max_params_bytes = 1000;
  limits.max_stdin_bytes = 1000;
  limits.max_pending_input_bytes = 8192;
  limits.max_pending_input_bytes_total = 10240;
  start(limits);
  Client a = connect();
  Client b = connect();
  // About 1.5 KB charged each: 512 for the request, the param, 950 of STDIN.
  std::string in;
  for (std::uint16_t id = 1; id <= 5; ++id) {
    in += begin(id, true) + params(id, {{"SCRIPT_NAME", "/a"}}) + partial_stdin(id, 950);
  }
  a.send(in);
  b.send(begin(1, true) + params(1, {{"SCRIPT_NAME", "/b"}}) + partial_stdin(1, 950));
  pump_until([] { return false; }, 20ms);
  b.send(begin(2, true) + params(2, {{"SCRIPT_NAME", "/b2"}}) + partial_stdin(2, 950));
  ASSERT_TRUE(wait_end(b, 2));
  const std::string shed = stdout_of(b.in, 2);
  EXPECT_EQ(shed.rfind("Status: 503 Service Unavailable\r\n", 0), 0u) << shed;
  EXPECT_NE(shed.find("\r\nRetry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(shed.find("\r\n\r\nthe server is receiving too many requests at once\n"),
            std::string::npos);
  EXPECT_FALSE(end_status(b.in, 1));

  // Everyone else finishes normally.
  in.clear();
  for (std::uint16_t id = 1; id <= 5; ++id) in += stdin_of(id, "");
  a.send(in);
  b.send(stdin_of(1, ""));
  for (std::uint16_t id = 1; id <= 5; ++id) ASSERT_TRUE(wait_end(a, id));
  ASSERT_TRUE(wait_end(b, 1));
  EXPECT_EQ(stdout_of(b.in, 1), "Content-Type: text/plain\r\n\r\n/b|" + std::string(950, 'i'));
  EXPECT_EQ(handler.requests.size(), 6u);

  // All of it was given back: the same load again fits.
  b.in.clear();
  b.send(begin(3, true) + params(3, {{"SCRIPT_NAME", "/b3"}}) + partial_stdin(3, 950) +
         stdin_of(3, ""));
  ASSERT_TRUE(wait_end(b, 3));
  EXPECT_EQ(stdout_of(b.in, 3).rfind("Content-Type: text/plain", 0), 0u);
  EXPECT_EQ(server->connections(), 2u);
}

// Garbage ends in a close: at once (a protocol error), or after the read
// timeout (a record or a request left incomplete) or the idle timeout (a
// request that happened to be whole, answered). Then the server serves a
// well-formed request on a new connection as if nothing had happened.
TEST_F(FcgiServer, GarbageIsClosedAndTheServerGoesOn) {
  Limits limits;
  limits.read_timeout = 100ms;
  limits.idle_timeout = 200ms;
  start(limits);
  std::mt19937 rng(4242);
  for (int round = 0; round < 30; ++round) {
    std::string junk = request(1, "/x", true, "body");
    if (round < 20) {
      for (std::size_t i = 0; i < junk.size(); i += 7) junk[i] = static_cast<char>(i * 31 + round);
    } else {
      for (int k = 0; k < 3; ++k) junk[rng() % junk.size()] = static_cast<char>(rng());
    }
    Client c = connect();
    c.send(junk);
    ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; })) << "round " << round;
  }
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  Client good = connect();
  good.send(request(1, "/after", false, "ok"));
  ASSERT_TRUE(wait_for(good, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(good.in, 1), "Content-Type: text/plain\r\n\r\n/after|ok");
  EXPECT_EQ(end_status(good.in, 1), FCGI_REQUEST_COMPLETE);
}

TEST_F(FcgiServer, MaxConnectionsClosesTheExtraOnes) {
  Limits limits;
  limits.max_connections = 1;
  start(limits);
  Client a = connect();
  ASSERT_TRUE(pump_until([&] { return server->connections() == 1; }));
  Client b = connect();
  ASSERT_TRUE(wait_for(b, [](const Client& cl) { return cl.eof; }));
  a.send(request(1, "/a", false));
  ASSERT_TRUE(wait_end(a, 1));
}

TEST_F(FcgiServer, UnixSocketAndShutdown) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_test_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  // A stale file from an earlier run is replaced.
  {
    asio::local::stream_protocol::acceptor stale(client_io,
                                                 asio::local::stream_protocol::endpoint(path));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  start({}, "unix:" + path);
  EXPECT_EQ(server->local_endpoint(0), "unix:" + path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);  // its owner and group, not every local user

  handler.park = true;
  Client idle = connect();
  Client busy = connect();
  busy.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  bool done = false;
  server->shutdown(5000ms, [&] { done = true; });
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(wait_for(idle, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(server->connections(), 1u);
  EXPECT_FALSE(done);
  handler.requests[0]->respond({"bye", nullptr, ""});
  ASSERT_TRUE(wait_for(busy, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(busy.in, 1), "bye");
  ASSERT_TRUE(pump_until([&] { return done; }));
  EXPECT_FALSE(handler.requests[0]->aborted());
}

TEST_F(FcgiServer, ShutdownGraceAbortsWhatIsLeft) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  handler.requests[0]->set_abort_listener(&listener);
  bool done = false;
  server->shutdown(50ms, [&] { done = true; });
  ASSERT_TRUE(pump_until([&] { return done; }));
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_EQ(server->connections(), 0u);
}

TEST_F(FcgiServer, ShutdownWithNothingOpenCompletes) {
  start();
  bool done = false;
  server->shutdown(10s, [&] { done = true; });
  ASSERT_TRUE(pump_until([&] { return done; }, 500ms));
}

TEST_F(FcgiServer, SecondShutdownCallbackRunsToo) {
  start();
  int done = 0;
  server->shutdown(10s, [&] { ++done; });
  server->shutdown(10s, [&] { ++done; });
  ASSERT_TRUE(pump_until([&] { return done == 2; }, 500ms));
  server->shutdown(10s, [&] { ++done; });
  ASSERT_TRUE(pump_until([&] { return done == 3; }, 500ms));
}

TEST_F(FcgiServer, DestroyingTheServerAbortsParkedRequests) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  handler.requests[0]->set_abort_listener(&listener);
  server.reset();
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_TRUE(pump_until([&] {
    c.poll();
    return c.eof;
  }));
}

TEST_F(FcgiServer, ListenFailuresThrow) {
  start();
  EXPECT_THROW(server->listen("nonsense"), std::runtime_error);
  EXPECT_THROW(server->listen(server->local_endpoint(0)), std::runtime_error);
  EXPECT_THROW(server->listen("unix:/nonexistent-dir/x.sock"), std::runtime_error);
  EXPECT_THROW(server->listen("192.0.2.1:0"), std::runtime_error);
  EXPECT_THROW(server->local_endpoint(5), std::out_of_range);
  server->listen("localhost:0");
  EXPECT_EQ(server->local_endpoint(1).find("127.0.0.1:") == 0 ||
                server->local_endpoint(1).find("[::1]:") == 0,
            true);
}

TEST_F(FcgiServer, UnixSocketTakesTheModeAndGroupAsked) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_mode_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  const group* nogroup = ::getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr);
  const gid_t gid = nogroup->gr_gid;
  ListenOptions o;
  o.unix_mode = 0600;
  o.unix_group = ::geteuid() == 0 ? "nogroup" : "";
  start({}, "unix:" + path, o);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_gid, gid);
  }
  Client c = connect();
  c.send(request(1, "/mode", false));
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/mode|");

  ListenOptions unknown;
  unknown.unix_group = "no-such-group-here";
  try {
    server->listen("unix:" + path + ".2", unknown);
    ADD_FAILURE() << "an unknown group was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no group named \"no-such-group-here\""),
              std::string::npos)
        << e.what();
  }
  ::unlink((path + ".2").c_str());
}

TEST_F(FcgiServer, TcpPeersThatAreNotAdmittedAreClosedAtOnce) {
  ListenOptions o;
  std::vector<std::string> asked;
  o.admit_peer = [&](std::string_view peer) {
    asked.emplace_back(peer);
    return peer == "127.0.0.1";
  };
  std::vector<std::string> logged;
  start({}, "127.0.0.1:0", o);
  server->set_log_sink([&](std::string_view text) { logged.emplace_back(text); });

  for (int i = 0; i < 10; ++i) {
    Client outside = connect(0, "127.0.0.2");
    outside.send(request(1, "/stats", false));
    ASSERT_TRUE(wait_for(outside, [](const Client& cl) { return cl.eof; }));
    EXPECT_EQ(outside.in, "");
  }
  EXPECT_TRUE(handler.requests.empty());
  EXPECT_EQ(server->refused_peers(), 10u);
  EXPECT_EQ(server->connections(), 0u);
  // The 1st and the 10th refusal are logged, not every one.
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("refused a connection from 127.0.0.2"), std::string::npos) << logged[0];
  EXPECT_NE(logged[1].find("10 refused so far"), std::string::npos) << logged[1];

  Client inside = connect(0, "127.0.0.1");
  inside.send(request(1, "/ok", false));
  ASSERT_TRUE(wait_for(inside, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(inside.in, 1), "Content-Type: text/plain\r\n\r\n/ok|");
  EXPECT_EQ(asked.back(), "127.0.0.1");
  EXPECT_EQ(server->refused_peers(), 10u);
}

TEST_F(FcgiServer, Ipv6Loopback) {
  try {
    start({}, "[::1]:0");
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  EXPECT_EQ(server->local_endpoint(0).rfind("[::1]:", 0), 0u);
  Client c = connect();
  c.send(request(1, "/v6", false));
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/v6|");
}

}  // namespace
}  // namespace fcgi::test
