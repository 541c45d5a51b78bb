// RequestAssembler's budgets: input per connection and per server, the
// request cap, and random input against its invariants.
#include "fcgi/request_assembler.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "request_assembler_driver.hpp"

namespace fcgi::test {
namespace {

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
  Assembler::ServerInput total;
  Driver d(budget_limits(), &total);
  d.feed(in);
  EXPECT_EQ(d.trace, expected);
  EXPECT_EQ(d.assembler.pending_input(), 17u * Assembler::kRequestCost);
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
  Assembler::ServerInput total;
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
    Assembler::ServerInput total{static_cast<std::size_t>(rng() % 2000)};
    const std::size_t others = total.bytes;  // other connections' input
    Assembler a(l, &total);
    std::set<std::uint16_t> in_input;    // begun, not dispatched
    std::set<std::uint16_t> dispatched;  // not finished yet
    const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t pos = 0;
    bool closed_now = false;
    Assembler::Action act;
    while (pos < in.size() && !closed_now) {
      const std::size_t end = std::min(in.size(), pos + 1 + rng() % 64);
      while (pos < end && !closed_now) {
        const std::size_t used = a.put(data + pos, end - pos, act);
        ASSERT_LE(used, end - pos);
        pos += used;
        if (act.step == Step::none) {
          ASSERT_GT(used, 0u) << "round " << round << ": no progress, no action";
          continue;
        }
        const std::uint16_t id = act.id;
        switch (act.step) {
          case Step::none:
            break;
          case Step::begin:
            ASSERT_FALSE(in_input.count(id) || dispatched.count(id)) << "round " << round;
            in_input.insert(id);
            break;
          case Step::dispatch: {
            // Only a begun request, once, with input within the limits.
            ASSERT_EQ(in_input.erase(id), 1u) << "round " << round;
            ASSERT_NE(act.input, nullptr) << "round " << round;
            const Params& params = act.input->params;
            std::size_t bytes = 0;
            for (std::size_t i = 0; i < params.size(); ++i) {
              bytes += params[i].first.size() + params[i].second.size();
            }
            ASSERT_LE(bytes, l.max_params_bytes);
            ASSERT_LE(act.input->body.size(), l.max_stdin_bytes);
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
      ASSERT_EQ(a.put(data, in.size(), act), 0u);
      ASSERT_EQ(act.step, Step::close);
    }
    a.clear();
    ASSERT_EQ(total.bytes, others) << "round " << round;
  }
  // The garbage was varied enough to reach both ends.
  EXPECT_GT(closes, 100);
  EXPECT_GT(dispatches, 100);
}

}  // namespace
}  // namespace fcgi::test
