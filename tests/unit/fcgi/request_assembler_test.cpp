#include "fcgi/request_assembler.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "request_assembler_driver.hpp"

namespace fcgi::test {
namespace {

TEST(RequestAssembler, WholeInputs) {
  for (const auto& c : realistic_cases()) EXPECT_EQ(run(c, {}), c.expected) << c.name;
}

TEST(RequestAssembler, EverySplitPointGivesTheSameActions) {
  for (const auto& c : realistic_cases()) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      ASSERT_EQ(run(c, {split}), c.expected) << c.name << " split " << split;
    }
  }
}

TEST(RequestAssembler, EveryPairOfSplitPointsGivesTheSameActions) {
  for (const auto& c : realistic_cases()) {
    for (std::size_t a = 0; a <= c.input.size(); a += 3) {
      for (std::size_t b = a; b <= c.input.size(); b += 5) {
        ASSERT_EQ(run(c, {a, b}), c.expected) << c.name << " splits " << a << "," << b;
      }
    }
  }
}

TEST(RequestAssembler, ByteByByte) {
  for (const auto& c : realistic_cases()) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < c.input.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(run(c, cuts), c.expected) << c.name;
  }
}

TEST(RequestAssembler, AllInputsBackToBackOnOneConnection) {
  Driver d(get_values_limits());
  d.answer_at_once = true;
  d.feed(full_request() + multiplexed() + get_values());
  Trace expected = kFullRequest;
  expected.insert(expected.end(), kMultiplexed.begin(), kMultiplexed.end());
  expected.insert(expected.end(), kGetValues.begin(), kGetValues.end());
  EXPECT_EQ(d.trace, expected);
  EXPECT_EQ(d.assembler.requests(), 0u);
  EXPECT_EQ(d.assembler.pending_input(), 0u);
}

TEST(RequestAssembler, DispatchedRequestsStayActiveUntilFinished) {
  Driver d;
  d.feed(request(1, "/a"));
  EXPECT_EQ(d.assembler.requests(), 1u);
  EXPECT_EQ(d.assembler.pending_input(), 0u);  // dispatched input is the application's
  // An abort of a dispatched request is passed on too.
  d.feed(record(FCGI_ABORT_REQUEST, 1, ""));
  EXPECT_EQ(d.trace.back(), "abort 1 keep");
  EXPECT_EQ(d.assembler.requests(), 0u);
  d.feed(request(2, "/b"));
  d.assembler.finished(2);
  d.feed(record(FCGI_ABORT_REQUEST, 2, "") + request(2, "/c"));
  EXPECT_EQ(d.trace,
            (Trace{"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", "abort 1 keep",
                   "begin 2 keep", "dispatch 2 keep [SCRIPT_NAME=/b] body=", "begin 2 keep",
                   "dispatch 2 keep [SCRIPT_NAME=/c] body="}));
}

TEST(RequestAssembler, ProtocolErrorsClose) {
  const std::string bad_version = bytes({2, 1, 0, 1, 0, 8, 0, 0});
  const std::vector<Case> cases = {
      {"bad version", request(1, "/a") + bad_version, {}, {}},
      {"duplicate id in its input phase", begin(1) + begin(1), {}, {}},
      {"duplicate of a dispatched id", request(1, "/a") + begin(1), {}, {}},
      {"params after their end", begin(1) + params(1, {}) + params(1, {}), {}, {}},
      {"stdin after its end", begin(1) + stdin_of(1, "") + stdin_of(1, ""), {}, {}},
      {"params of a dispatched request", request(1, "/a") + record(FCGI_PARAMS, 1, "x"), {}, {}},
      {"stdin of a dispatched request", request(1, "/a") + stdin_of(1, ""), {}, {}},
      {"params ending inside a pair",
       begin(1) + record(FCGI_PARAMS, 1, pairs({{"NAME", "value"}}).substr(0, 4)) +
           record(FCGI_PARAMS, 1, ""),
       {},
       {}},
      {"get values not name-value pairs", record(FCGI_GET_VALUES, 0, "\x05"), {}, {}},
  };
  const std::vector<Trace> expected = {
      {"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", closed(errc::bad_version)},
      {"begin 1 keep", closed(errc::duplicate_request)},
      {"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", closed(errc::duplicate_request)},
      {"begin 1 keep", closed(errc::stream_after_end)},
      {"begin 1 keep", closed(errc::stream_after_end)},
      {"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", closed(errc::stream_after_end)},
      {"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", closed(errc::stream_after_end)},
      {"begin 1 keep", closed(errc::truncated_params)},
      {closed(errc::bad_name_value_length)},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (std::size_t split = 0; split <= cases[i].input.size(); ++split) {
      ASSERT_EQ(run(cases[i], {split}), expected[i]) << cases[i].name << " split " << split;
    }
  }
}

TEST(RequestAssembler, StaysClosedAfterAnError) {
  Driver d;
  d.feed(begin(1) + begin(1));
  ASSERT_TRUE(d.is_closed);
  const std::string more = request(2, "/b");
  Assembler::Action a;
  EXPECT_EQ(d.assembler.put(reinterpret_cast<const std::uint8_t*>(more.data()), more.size(), a),
            0u);
  EXPECT_EQ(describe(a), closed(errc::duplicate_request));
  // What the connection does as it closes: the budgets get everything back.
  d.assembler.clear();
  EXPECT_EQ(d.assembler.requests(), 0u);
  EXPECT_EQ(d.assembler.pending_input(), 0u);
}

TEST(RequestAssembler, UnknownRoleIsEndedAndItsRecordsIgnored) {
  const Case c{"unknown role",
               begin(5, true, FCGI_AUTHORIZER) + params(5, {{"A", "b"}}) + stdin_of(5, "") +
                   begin(6, false, FCGI_FILTER) + request(5, "/ok"),
               {"end_request 5 keep " + std::to_string(FCGI_UNKNOWN_ROLE),
                "end_request 6 " + std::to_string(FCGI_UNKNOWN_ROLE), "begin 5 keep",
                "dispatch 5 keep [SCRIPT_NAME=/ok] body="},
               {}};
  for (std::size_t split = 0; split <= c.input.size(); ++split) {
    ASSERT_EQ(run(c, {split}), c.expected) << split;
  }
}

TEST(RequestAssembler, RecordsOfUnknownIdsAreIgnored) {
  const Case c{"unknown ids",
               record(FCGI_PARAMS, 9, pairs({{"A", "b"}})) + record(FCGI_STDIN, 9, "data", 1) +
                   record(FCGI_DATA, 9, "filter") + record(FCGI_ABORT_REQUEST, 9, "") +
                   stdin_of(9, "") + request(1, "/a") + record(FCGI_DATA, 2, "z"),
               {"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body="},
               {}};
  for (std::size_t split = 0; split <= c.input.size(); ++split) {
    Driver d;
    d.feed(c.input, {split});
    ASSERT_EQ(d.trace, c.expected) << split;
    ASSERT_FALSE(d.is_closed);
  }
}

TEST(RequestAssembler, ParamsOverTheLimitAreRejected) {
  Limits l;
  l.max_params_bytes = 100;
  const std::string reject =
      " 413 Payload Too Large params_too_large: request params exceed 100 bytes";
  // One pair over the limit; the sum over it; a name length no stream could
  // hold. Each request's later records are ignored, and the connection goes
  // on.
  std::string absurd = begin(3) + record(FCGI_PARAMS, 3, bytes({0xff, 0xff, 0xff, 0xff, 1}));
  const std::vector<Case> cases = {
      {"one pair",
       begin(1) + params(1, {{"BIG", std::string(200, 'x')}}) + stdin_of(1, ""),
       {"begin 1 keep", "reject 1 keep" + reject},
       l},
      {"sum",
       begin(2, false) + params(2, {{"A", std::string(60, 'a')}, {"B", std::string(60, 'b')}}),
       {"begin 2", "reject 2" + reject},
       l},
      {"absurd length", absurd + params(3, {}), {"begin 3 keep", "reject 3 keep" + reject}, l},
      // Empty pairs carry no name or value bytes, but each costs its
      // bookkeeping: nine of them (12 bytes each) pass 100 bytes.
      {"empty pairs",
       begin(4) + record(FCGI_PARAMS, 4, std::string(18, '\0')) + params(4, {}),
       {"begin 4 keep", "reject 4 keep" + reject},
       l},
  };
  for (const auto& c : cases) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      Driver d(c.limits);
      d.feed(c.input + request(1, "/next"), {split});
      Trace expected = c.expected;
      expected.push_back("begin 1 keep");
      expected.push_back("dispatch 1 keep [SCRIPT_NAME=/next] body=");
      ASSERT_EQ(d.trace, expected) << c.name << " split " << split;
      EXPECT_EQ(d.assembler.pending_input(), 0u);
    }
  }
}

TEST(RequestAssembler, BodyOverTheLimitIsRejected) {
  Limits l;
  l.max_stdin_bytes = 10;
  // 10 bytes pass, over two records; 11 do not, however they are cut.
  const std::string in =
      begin(1) + params(1, {}) + record(FCGI_STDIN, 1, "01234") + record(FCGI_STDIN, 1, "56789") +
      record(FCGI_STDIN, 1, "") + begin(2) + params(2, {}) + record(FCGI_STDIN, 2, "0123456") +
      record(FCGI_STDIN, 2, "7890") + record(FCGI_STDIN, 2, "late") + record(FCGI_STDIN, 2, "");
  const Trace expected = {
      "begin 1 keep", "dispatch 1 keep [] body=0123456789", "begin 2 keep",
      "reject 2 keep 413 Payload Too Large body_too_large: request body exceeds 10 bytes"};
  for (std::size_t split = 0; split <= in.size(); ++split) {
    Driver d(l);
    d.feed(in, {split});
    ASSERT_EQ(d.trace, expected) << split;
  }
}

// The web server's Origin goes with a reject whose params were complete, so
// that the application can give it its CORS headers.
TEST(RequestAssembler, ARejectAfterTheParamsCarriesTheOrigin) {
  Limits l;
  l.max_stdin_bytes = 4;
  const std::string in = begin(1) + params(1, {{"HTTP_ORIGIN", "https://site.example"}}) +
                         record(FCGI_STDIN, 1, "too long") + record(FCGI_STDIN, 1, "");
  for (std::size_t split = 0; split <= in.size(); ++split) {
    Driver d(l);
    d.feed(in, {split});
    ASSERT_EQ(d.trace.back(),
              "reject 1 keep 413 Payload Too Large body_too_large: request body exceeds 4 bytes "
              "origin=https://site.example")
        << split;
  }
}

// Budgets of 512 bytes per request plus its params and STDIN bytes.

}  // namespace
}  // namespace fcgi::test
