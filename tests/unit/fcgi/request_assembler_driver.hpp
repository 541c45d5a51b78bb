// What the RequestAssembler tests share: a driver that feeds bytes and
// writes down each action as one line, record builders, and realistic
// inputs with the actions they must give.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fcgi/error.hpp"
#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"
#include "fcgi/request_assembler.hpp"
#include "test_bytes.hpp"

namespace fcgi::test {

// The driver's state of a request, as a connection keeps its Request: set
// at begin, it must come back unchanged at dispatch and with the action that
// ends the request.
struct Payload {
  std::string begun;
};
using Assembler = RequestAssembler<Payload>;
using Step = Assembler::Step;
using Trace = std::vector<std::string>;

inline std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// One line per action, with everything the driver is told.
inline std::string describe(const Assembler::Action& a) {
  const std::string id = std::to_string(a.id);
  const std::string keep = a.keep_conn ? " keep" : "";
  switch (a.step) {
    case Step::none:
      return "none";
    case Step::begin:
      return "begin " + id + keep;
    case Step::dispatch: {
      if (!a.input) return "dispatch " + id + " without input";
      const Params& params = a.input->params;
      std::string s = "dispatch " + id + keep + " [";
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (i != 0) s += ",";
        s += std::string(params[i].first) + "=" + std::string(params[i].second);
      }
      return s + "] body=" + a.input->body;
    }
    case Step::reject: {
      std::string s = "reject " + id + keep + " " + std::to_string(a.reject.status) + " " +
                      std::string(a.reject.reason) + " " + std::string(a.reject.code) + ": " +
                      a.reject.message;
      if (!a.reject.extra_headers.empty()) s += " +" + hex(std::string(a.reject.extra_headers));
      if (!a.reject.origin.empty()) s += " origin=" + a.reject.origin;
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

inline std::string closed(errc e) {
  return "close " + make_error_code(e).message();
}

// The assembler with what a connection does around it: feeds bytes, writes
// down each action, and stops at a close.
struct Driver {
  explicit Driver(Limits l = {}, Assembler::ServerInput* server = nullptr)
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
    Assembler::Action a;
    while (from < to && !is_closed) {
      const std::size_t used = assembler.put(data + from, to - from, a);
      from += used;
      if (a.step == Step::none) {
        if (used == 0) {
          ADD_FAILURE() << "no progress and no action";
          return;
        }
        continue;
      }
      trace.push_back(describe(a));
      check_payload(a);
      if (a.step == Step::close) is_closed = true;
      if (a.step == Step::dispatch && answer_at_once) assembler.finished(a.id);
    }
  }

  void check_payload(Assembler::Action& a) {
    const std::string mark = "begun " + std::to_string(a.id);
    Payload* p = assembler.payload(a.id);
    switch (a.step) {
      case Step::begin:
        ASSERT_NE(p, nullptr) << "no payload at begin " << a.id;
        EXPECT_EQ(a.active, p);
        EXPECT_NE(a.input_payload, nullptr);
        EXPECT_EQ(p->begun, "") << "a payload not new at begin " << a.id;
        p->begun = mark;
        return;
      case Step::dispatch:
        ASSERT_NE(p, nullptr) << "no payload at dispatch " << a.id;
        EXPECT_EQ(a.active, p);
        EXPECT_EQ(p->begun, mark);
        return;
      case Step::abort:
        EXPECT_EQ(p, nullptr) << "aborted " << a.id << " still active";
        EXPECT_EQ(a.payload.begun, mark);
        return;
      case Step::reject:
        EXPECT_EQ(p, nullptr) << "rejected " << a.id << " still active";
        // A request refused as it begins was never begun.
        if (!a.payload.begun.empty()) {
          EXPECT_EQ(a.payload.begun, mark);
        }
        return;
      default:
        return;
    }
  }

  Limits limits;
  Assembler assembler;
  Trace trace;
  // Like an application that answers every request as it comes.
  bool answer_at_once = false;
  bool is_closed = false;
};

inline std::string begin(std::uint16_t id, bool keep_conn = true,
                         std::uint16_t role = FCGI_RESPONDER) {
  return as_string(encode_begin_request(id, role, keep_conn ? FCGI_KEEP_CONN : 0));
}

inline std::string record(std::uint8_t type, std::uint16_t id, const std::string& content,
                          std::uint8_t padding = 0) {
  std::string out;
  append_record(out, type, id, content, padding);
  return out;
}

inline std::string pairs(const NameValueDecoder::Pairs& list) {
  std::string out;
  for (const auto& [n, v] : list) append_name_value(out, n, v);
  return out;
}

// PARAMS records and the empty one that ends them.
inline std::string params(std::uint16_t id, const NameValueDecoder::Pairs& list) {
  const std::string content = pairs(list);
  return (content.empty() ? "" : record(FCGI_PARAMS, id, content, 3)) + record(FCGI_PARAMS, id, "");
}

inline std::string stdin_of(std::uint16_t id, const std::string& body) {
  return (body.empty() ? "" : record(FCGI_STDIN, id, body)) + record(FCGI_STDIN, id, "");
}

inline std::string request(std::uint16_t id, const std::string& script,
                           const std::string& body = "", bool keep_conn = true) {
  return begin(id, keep_conn) + params(id, {{"SCRIPT_NAME", script}}) + stdin_of(id, body);
}

// A request as nginx sends it: params over three records, one pair
// straddling two of them, with and without padding; STDIN in two records.
inline std::string full_request() {
  const std::string p = pairs({{"SCRIPT_NAME", "/comet/poll"},
                               {"QUERY_STRING", std::string(300, 'q')},
                               {"HTTP_HOST", "example.com"}});
  return begin(1, false) + record(FCGI_PARAMS, 1, p.substr(0, 40)) +
         record(FCGI_PARAMS, 1, p.substr(40, 200), 3) + record(FCGI_PARAMS, 1, p.substr(240), 7) +
         record(FCGI_PARAMS, 1, "") + record(FCGI_STDIN, 1, "hel", 5) +
         record(FCGI_STDIN, 1, "lo") + record(FCGI_STDIN, 1, "");
}
inline const Trace kFullRequest = {
    "begin 1",
    "dispatch 1 [SCRIPT_NAME=/comet/poll,QUERY_STRING=" + std::string(300, 'q') +
        ",HTTP_HOST=example.com] body=hello",
};

// Two requests, their records interleaved, dispatched in the order they
// complete.
inline std::string multiplexed() {
  const std::string one = pairs({{"SCRIPT_NAME", "/one"}, {"A", "1"}});
  const std::string two = pairs({{"SCRIPT_NAME", "/two"}});
  return begin(1) + begin(2) + record(FCGI_PARAMS, 1, one.substr(0, 5)) +
         record(FCGI_PARAMS, 2, two, 2) + record(FCGI_PARAMS, 1, one.substr(5)) +
         record(FCGI_PARAMS, 2, "") + record(FCGI_STDIN, 1, "x") + record(FCGI_STDIN, 2, "") +
         record(FCGI_PARAMS, 1, "") + record(FCGI_STDIN, 1, "y") + record(FCGI_STDIN, 1, "");
}
inline const Trace kMultiplexed = {
    "begin 1 keep",
    "begin 2 keep",
    "dispatch 2 keep [SCRIPT_NAME=/two] body=",
    "dispatch 1 keep [SCRIPT_NAME=/one,A=1] body=xy",
};

// An abort in the middle of params; the rest of that request's records are
// ignored, and the id may begin again.
inline std::string abort_mid_params() {
  const std::string p = pairs({{"SCRIPT_NAME", "/gone"}});
  return begin(1) + record(FCGI_PARAMS, 1, p.substr(0, 6)) + record(FCGI_ABORT_REQUEST, 1, "") +
         record(FCGI_PARAMS, 1, p.substr(6)) + record(FCGI_PARAMS, 1, "") + stdin_of(1, "") +
         record(FCGI_ABORT_REQUEST, 1, "") + request(1, "/again");
}
inline const Trace kAbortMidParams = {
    "begin 1 keep",
    "abort 1 keep",
    "begin 1 keep",
    "dispatch 1 keep [SCRIPT_NAME=/again] body=",
};

// Management records between a request's records.
inline std::string get_values() {
  const std::string names = pairs({{FCGI_MAX_CONNS, ""}, {FCGI_MAX_REQS, ""}, {"OTHER", ""}});
  return begin(3) + record(FCGI_GET_VALUES, 0, names, 4) + params(3, {{"SCRIPT_NAME", "/m"}}) +
         record(0x40, 0, "xyz", 5) + stdin_of(3, "");
}
inline Limits get_values_limits() {
  Limits l;
  l.max_connections = 7;
  l.max_requests_per_connection = 3;
  return l;
}
inline const Trace kGetValues = {
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

inline std::vector<Case> realistic_cases() {
  return {
      {"full request", full_request(), kFullRequest, {}},
      {"multiplexed", multiplexed(), kMultiplexed, {}},
      {"abort mid params", abort_mid_params(), kAbortMidParams, {}},
      {"get values", get_values(), kGetValues, get_values_limits()},
  };
}

inline Trace run(const Case& c, const std::vector<std::size_t>& cuts) {
  Driver d(c.limits);
  d.feed(c.input, cuts);
  return d.trace;
}

}  // namespace fcgi::test
