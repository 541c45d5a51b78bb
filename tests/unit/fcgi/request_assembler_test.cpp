#include "fcgi/request_assembler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fcgi/error.hpp"
#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"
#include "test_bytes.hpp"

namespace fcgi {
namespace {

using test::as_string;
using Step = RequestAssembler::Step;
using Trace = std::vector<std::string>;

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// One line per action, with everything the driver is told.
std::string describe(const RequestAssembler::Action& a) {
  const std::string id = std::to_string(a.id);
  const std::string keep = a.keep_conn ? " keep" : "";
  switch (a.step) {
    case Step::none:
      return "none";
    case Step::begin:
      return "begin " + id + keep;
    case Step::dispatch: {
      std::string s = "dispatch " + id + keep + " [";
      for (std::size_t i = 0; i < a.params.size(); ++i) {
        if (i != 0) s += ",";
        s += std::string(a.params[i].first) + "=" + std::string(a.params[i].second);
      }
      return s + "] body=" + a.body;
    }
    case Step::reject: {
      std::string s = "reject " + id + keep + " " + std::to_string(a.reject.status) + " " +
                      std::string(a.reject.reason) + " " + std::string(a.reject.code) + ": " +
                      a.reject.message;
      if (!a.reject.extra_headers.empty()) s += " +" + hex(std::string(a.reject.extra_headers));
      return s;
    }
    case Step::end_request:
      return "end_request " + id + keep + " " + std::to_string(a.protocol_status);
    case Step::abort:
      return "abort " + id + keep;
    case Step::answer:
      return "answer " + hex(a.bytes);
    case Step::close:
      return "close " + a.error.message();
  }
  return "?";
}

std::string closed(errc e) {
  return "close " + make_error_code(e).message();
}

// The assembler with what a connection does around it: feeds bytes, writes
// down each action, and stops at a close.
struct Driver {
  explicit Driver(Limits l = {}, RequestAssembler::ServerInput* server = nullptr)
      : limits(l), assembler(limits, server) {}

  // Feeds `in` cut at `cuts` (ascending offsets).
  void feed(const std::string& in, const std::vector<std::size_t>& cuts = {}) {
    std::size_t start = 0;
    for (std::size_t c : cuts) {
      feed_piece(in, start, c);
      start = c;
    }
    feed_piece(in, start, in.size());
  }

  void feed_piece(const std::string& in, std::size_t from, std::size_t to) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
    while (from < to && !is_closed) {
      const std::size_t used = assembler.put(data + from, to - from);
      from += used;
      if (!assembler.has_action()) {
        if (used == 0) {
          ADD_FAILURE() << "no progress and no action";
          return;
        }
        continue;
      }
      auto& a = assembler.action();
      trace.push_back(describe(a));
      if (a.step == Step::close) is_closed = true;
      if (a.step == Step::dispatch && answer_at_once) assembler.finished(a.id);
    }
  }

  Limits limits;
  RequestAssembler assembler;
  Trace trace;
  // Like an application that answers every request as it comes.
  bool answer_at_once = false;
  bool is_closed = false;
};

std::string begin(std::uint16_t id, bool keep_conn = true, std::uint16_t role = FCGI_RESPONDER) {
  return as_string(encode_begin_request(id, role, keep_conn ? FCGI_KEEP_CONN : 0));
}

std::string record(std::uint8_t type, std::uint16_t id, const std::string& content,
                   std::uint8_t padding = 0) {
  std::string out;
  append_record(out, type, id, content, padding);
  return out;
}

std::string pairs(const NameValueDecoder::Pairs& list) {
  std::string out;
  for (const auto& [n, v] : list) append_name_value(out, n, v);
  return out;
}

// PARAMS records and the empty one that ends them.
std::string params(std::uint16_t id, const NameValueDecoder::Pairs& list) {
  const std::string content = pairs(list);
  return (content.empty() ? "" : record(FCGI_PARAMS, id, content, 3)) + record(FCGI_PARAMS, id, "");
}

std::string stdin_of(std::uint16_t id, const std::string& body) {
  return (body.empty() ? "" : record(FCGI_STDIN, id, body)) + record(FCGI_STDIN, id, "");
}

std::string request(std::uint16_t id, const std::string& script, const std::string& body = "",
                    bool keep_conn = true) {
  return begin(id, keep_conn) + params(id, {{"SCRIPT_NAME", script}}) + stdin_of(id, body);
}

// A request as nginx sends it: params over three records, one pair
// straddling two of them, with and without padding; STDIN in two records.
std::string full_request() {
  const std::string p = pairs({{"SCRIPT_NAME", "/comet/poll"},
                               {"QUERY_STRING", std::string(300, 'q')},
                               {"HTTP_HOST", "example.com"}});
  return begin(1, false) + record(FCGI_PARAMS, 1, p.substr(0, 40)) +
         record(FCGI_PARAMS, 1, p.substr(40, 200), 3) + record(FCGI_PARAMS, 1, p.substr(240), 7) +
         record(FCGI_PARAMS, 1, "") + record(FCGI_STDIN, 1, "hel", 5) +
         record(FCGI_STDIN, 1, "lo") + record(FCGI_STDIN, 1, "");
}
const Trace kFullRequest = {
    "begin 1",
    "dispatch 1 [SCRIPT_NAME=/comet/poll,QUERY_STRING=" + std::string(300, 'q') +
        ",HTTP_HOST=example.com] body=hello",
};

// Two requests, their records interleaved, dispatched in the order they
// complete.
std::string multiplexed() {
  const std::string one = pairs({{"SCRIPT_NAME", "/one"}, {"A", "1"}});
  const std::string two = pairs({{"SCRIPT_NAME", "/two"}});
  return begin(1) + begin(2) + record(FCGI_PARAMS, 1, one.substr(0, 5)) +
         record(FCGI_PARAMS, 2, two, 2) + record(FCGI_PARAMS, 1, one.substr(5)) +
         record(FCGI_PARAMS, 2, "") + record(FCGI_STDIN, 1, "x") + record(FCGI_STDIN, 2, "") +
         record(FCGI_PARAMS, 1, "") + record(FCGI_STDIN, 1, "y") + record(FCGI_STDIN, 1, "");
}
const Trace kMultiplexed = {
    "begin 1 keep",
    "begin 2 keep",
    "dispatch 2 keep [SCRIPT_NAME=/two] body=",
    "dispatch 1 keep [SCRIPT_NAME=/one,A=1] body=xy",
};

// An abort in the middle of params; the rest of that request's records are
// ignored, and the id may begin again.
std::string abort_mid_params() {
  const std::string p = pairs({{"SCRIPT_NAME", "/gone"}});
  return begin(1) + record(FCGI_PARAMS, 1, p.substr(0, 6)) + record(FCGI_ABORT_REQUEST, 1, "") +
         record(FCGI_PARAMS, 1, p.substr(6)) + record(FCGI_PARAMS, 1, "") + stdin_of(1, "") +
         record(FCGI_ABORT_REQUEST, 1, "") + request(1, "/again");
}
const Trace kAbortMidParams = {
    "begin 1 keep",
    "abort 1 keep",
    "begin 1 keep",
    "dispatch 1 keep [SCRIPT_NAME=/again] body=",
};

// Management records between a request's records.
std::string get_values() {
  const std::string names = pairs({{FCGI_MAX_CONNS, ""}, {FCGI_MAX_REQS, ""}, {"OTHER", ""}});
  return begin(3) + record(FCGI_GET_VALUES, 0, names, 4) + params(3, {{"SCRIPT_NAME", "/m"}}) +
         record(0x40, 0, "xyz", 5) + stdin_of(3, "");
}
Limits get_values_limits() {
  Limits l;
  l.max_connections = 7;
  l.max_requests_per_connection = 3;
  return l;
}
const Trace kGetValues = {
    "begin 3 keep",
    "answer " + hex(record(FCGI_GET_VALUES_RESULT, 0,
                           pairs({{FCGI_MAX_CONNS, "7"}, {FCGI_MAX_REQS, "3"}}))),
    "answer " + hex(as_string(encode_unknown_type(0x40))),
    "dispatch 3 keep [SCRIPT_NAME=/m] body=",
};

struct Case {
  const char* name;
  std::string input;
  Trace expected;
  Limits limits;
};

std::vector<Case> realistic_cases() {
  return {
      {"full request", full_request(), kFullRequest, {}},
      {"multiplexed", multiplexed(), kMultiplexed, {}},
      {"abort mid params", abort_mid_params(), kAbortMidParams, {}},
      {"get values", get_values(), kGetValues, get_values_limits()},
  };
}

Trace run(const Case& c, const std::vector<std::size_t>& cuts) {
  Driver d(c.limits);
  d.feed(c.input, cuts);
  return d.trace;
}

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
  const std::string bad_version = test::bytes({2, 1, 0, 1, 0, 8, 0, 0});
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
  EXPECT_EQ(d.assembler.put(reinterpret_cast<const std::uint8_t*>(more.data()), more.size()), 0u);
  ASSERT_TRUE(d.assembler.has_action());
  EXPECT_EQ(describe(d.assembler.action()), closed(errc::duplicate_request));
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
  std::string absurd = begin(3) + record(FCGI_PARAMS, 3, test::bytes({0xff, 0xff, 0xff, 0xff, 1}));
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

// Budgets of 512 bytes per request plus its params and STDIN bytes.
Limits budget_limits() {
  Limits l;
  l.max_params_bytes = 1000;
  l.max_stdin_bytes = 1000;
  l.max_pending_input_bytes = 8192;  // never below 2 x (1000 + 1000)
  l.max_pending_input_bytes_total = 10240;
  return l;
}

TEST(RequestAssembler, ConnectionBudgetCloses) {
  // 16 requests without input hold 16 x 512 = 8192 bytes: at the budget,
  // not over it. The 17th passes it.
  std::string in;
  Trace expected;
  for (std::uint16_t id = 1; id <= 17; ++id) {
    in += begin(id);
    if (id <= 16) expected.push_back("begin " + std::to_string(id) + " keep");
  }
  expected.push_back(closed(errc::input_budget_exceeded));
  RequestAssembler::ServerInput total;
  Driver d(budget_limits(), &total);
  d.feed(in);
  EXPECT_EQ(d.trace, expected);
  EXPECT_EQ(d.assembler.pending_input(), 17u * RequestAssembler::kRequestCost);
  d.assembler.clear();
  EXPECT_EQ(total.bytes, 0u);

  // Input bytes count as they arrive, whatever the cuts.
  std::string stdin_in;
  for (std::uint16_t id = 1; id <= 4; ++id) {
    stdin_in += begin(id) + params(id, {}) + record(FCGI_STDIN, id, std::string(999, 's'));
  }
  // 4 x (512 + 999) = 6044; a fifth request's 512 + 999 would make 7555,
  // its next 700 bytes 8255.
  stdin_in += begin(5) + params(5, {}) + record(FCGI_STDIN, 5, std::string(999, 's')) +
              record(FCGI_STDIN, 5, std::string(700, 's'));
  Limits l = budget_limits();
  l.max_stdin_bytes = 2000;  // per connection: max(8192, 2 x 3000) = 8192
  for (std::size_t split = 0; split <= stdin_in.size(); split += 97) {
    Driver s(l);
    s.feed(stdin_in, {split});
    ASSERT_EQ(s.trace.size(), 6u) << split;
    ASSERT_EQ(s.trace.back(), closed(errc::input_budget_exceeded)) << split;
  }
}

TEST(RequestAssembler, ServerBudgetShedsWith503AndGivesBack) {
  // Three connections of one server; the first two hold 9000 bytes of input.
  RequestAssembler::ServerInput total;
  const Limits l = budget_limits();
  Driver a1(l, &total);
  Driver a2(l, &total);
  for (Driver* a : {&a1, &a2}) {
    for (std::uint16_t id = 1; id <= 3; ++id) {
      a->feed(begin(id) + params(id, {}) + record(FCGI_STDIN, id, std::string(988, 'a')));
    }
    ASSERT_EQ(a->trace.size(), 3u);
  }
  ASSERT_EQ(total.bytes, 6u * (512 + 988));

  const std::string shed =
      " 503 Service Unavailable overloaded: the server is receiving too many requests at once +" +
      hex("Retry-After: 1\r\n");
  // 9000 + 512 fits; 800 bytes of STDIN more would pass 10240: shed, at
  // whichever cut.
  const std::string in = begin(1) + params(1, {}) + record(FCGI_STDIN, 1, std::string(800, 'b')) +
                         stdin_of(1, "") + record(FCGI_PARAMS, 1, "");
  for (std::size_t split = 0; split <= in.size(); split += 7) {
    Driver b(l, &total);
    b.feed(in, {split});
    // The shed request's later records are ignored; the connection goes on.
    ASSERT_EQ(b.trace, (Trace{"begin 1 keep", "reject 1 keep" + shed})) << split;
    ASSERT_FALSE(b.is_closed);
    ASSERT_EQ(b.assembler.requests(), 0u);
    ASSERT_EQ(total.bytes, 9000u);
  }
  // A BEGIN that alone passes the budget never begins.
  total.bytes += 800;
  Driver c(l, &total);
  c.feed(begin(2, false) + params(2, {}) + stdin_of(2, ""));
  EXPECT_EQ(c.trace, (Trace{"reject 2" + shed}));
  total.bytes -= 800;

  // Dispatching gives the budget back, and the same load fits again.
  for (Driver* a : {&a1, &a2}) {
    for (std::uint16_t id = 1; id <= 3; ++id) a->feed(stdin_of(id, ""));
    ASSERT_EQ(a->trace.size(), 6u);
  }
  EXPECT_EQ(total.bytes, 0u);
  Driver b(l, &total);
  b.feed(begin(1) + params(1, {}) + stdin_of(1, std::string(800, 'b')));
  EXPECT_EQ(b.trace.back(), "dispatch 1 keep [] body=" + std::string(800, 'b'));
  EXPECT_EQ(total.bytes, 0u);
}

TEST(RequestAssembler, RequestCapAnswersOverloaded) {
  Limits l;
  l.max_requests_per_connection = 2;
  Driver d(l);
  d.feed(request(1, "/a") + begin(2) + begin(3, false) + params(3, {}));
  d.assembler.finished(1);
  d.feed(begin(3));
  EXPECT_EQ(d.trace,
            (Trace{"begin 1 keep", "dispatch 1 keep [SCRIPT_NAME=/a] body=", "begin 2 keep",
                   "end_request 3 " + std::to_string(FCGI_OVERLOADED), "begin 3 keep"}));
}

// Garbage: valid inputs with bytes flipped, and noise. Whatever comes, the
// assembler keeps consuming or closes, dispatches only requests that began
// and are complete, and never holds more than its budgets.
TEST(RequestAssembler, RandomInputKeepsTheInvariants) {
  std::mt19937 rng(20240611);
  Limits l;
  l.max_params_bytes = 600;
  l.max_stdin_bytes = 400;
  l.max_pending_input_bytes = 4000;  // never below 2 x 1000
  l.max_pending_input_bytes_total = 5000;
  l.max_requests_per_connection = 5;
  const std::size_t per_connection = 4000;
  const std::size_t total_budget = 5000;
  const std::string valid = full_request() + multiplexed() + abort_mid_params() + get_values();
  int closes = 0;
  int dispatches = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string in = valid;
    if (round % 4 == 0) {
      in.assign(1 + rng() % 512, '\0');
      for (char& c : in) c = static_cast<char>(rng());
      in[0] = 1;
    } else {
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) in[rng() % in.size()] = static_cast<char>(rng());
    }
    RequestAssembler::ServerInput total{static_cast<std::size_t>(rng() % 2000)};
    const std::size_t others = total.bytes;  // other connections' input
    RequestAssembler a(l, &total);
    std::set<std::uint16_t> in_input;    // begun, not dispatched
    std::set<std::uint16_t> dispatched;  // not finished yet
    const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t pos = 0;
    bool closed_now = false;
    while (pos < in.size() && !closed_now) {
      const std::size_t end = std::min(in.size(), pos + 1 + rng() % 64);
      while (pos < end && !closed_now) {
        const std::size_t used = a.put(data + pos, end - pos);
        ASSERT_LE(used, end - pos);
        pos += used;
        if (!a.has_action()) {
          ASSERT_GT(used, 0u) << "round " << round << ": no progress, no action";
          continue;
        }
        auto& act = a.action();
        const std::uint16_t id = act.id;
        switch (act.step) {
          case Step::none:
            FAIL() << "has_action with Step::none";
          case Step::begin:
            ASSERT_FALSE(in_input.count(id) || dispatched.count(id)) << "round " << round;
            in_input.insert(id);
            break;
          case Step::dispatch: {
            // Only a begun request, once, with input within the limits.
            ASSERT_EQ(in_input.erase(id), 1u) << "round " << round;
            std::size_t bytes = 0;
            for (std::size_t i = 0; i < act.params.size(); ++i) {
              bytes += act.params[i].first.size() + act.params[i].second.size();
            }
            ASSERT_LE(bytes, l.max_params_bytes);
            ASSERT_LE(act.body.size(), l.max_stdin_bytes);
            ++dispatches;
            if (rng() % 2 == 0) {
              a.finished(id);
            } else {
              dispatched.insert(id);
            }
            break;
          }
          case Step::reject:
            // A request in its input phase, or a BEGIN shed at once.
            ASSERT_TRUE(in_input.erase(id) == 1 || act.reject.status == 503) << "round " << round;
            ASSERT_TRUE(act.reject.status == 413 || act.reject.status == 503);
            break;
          case Step::abort:
            ASSERT_EQ(in_input.erase(id) + dispatched.erase(id), 1u) << "round " << round;
            break;
          case Step::end_request:
            ASSERT_FALSE(in_input.count(id) || dispatched.count(id));
            break;
          case Step::answer:
            ASSERT_GE(act.bytes.size(), kHeaderLen);
            ASSERT_EQ(act.bytes[0], FCGI_VERSION_1);
            break;
          case Step::close:
            closed_now = true;
            ++closes;
            break;
        }
        ASSERT_EQ(a.requests(), in_input.size() + dispatched.size()) << "round " << round;
        ASSERT_LE(a.requests(), l.max_requests_per_connection);
        if (!closed_now) {
          ASSERT_LE(a.pending_input(), per_connection) << "round " << round;
          ASSERT_LE(total.bytes, total_budget) << "round " << round;
          ASSERT_EQ(total.bytes, others + a.pending_input());
          if (in_input.empty()) {
            ASSERT_EQ(a.pending_input(), 0u);
          }
        }
      }
    }
    if (closed_now) {
      // Closed for good.
      ASSERT_EQ(a.put(data, in.size()), 0u);
      ASSERT_TRUE(a.has_action() && a.action().step == Step::close);
    }
    a.clear();
    ASSERT_EQ(total.bytes, others) << "round " << round;
  }
  // The garbage was varied enough to reach both ends.
  EXPECT_GT(closes, 100);
  EXPECT_GT(dispatches, 100);
}

}  // namespace
}  // namespace fcgi
