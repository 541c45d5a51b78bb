// fcgi::RequestAssembler, two ways (the first byte's top bit chooses):
// - any bytes, cut anywhere: the actions are the same whatever the cuts,
//   every payload comes back with the action that ends its request, and
//   the input budget charged is what the connection holds, all of it given
//   back when the connection goes;
// - one valid request (BEGIN, params and STDIN in records of any sizes
//   and padding, stray records of other ids and management records in
//   between), cut anywhere: it is dispatched once, with exactly the params
//   and body that were encoded.
#include <fastcgi.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <utility>
#include <vector>

#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"
#include "fcgi/request_assembler.hpp"
#include "fuzz_input.hpp"

namespace {

struct Payload {
  std::string begun;
};
using Assembler = fcgi::RequestAssembler<Payload>;
using Step = Assembler::Step;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// The action, with the fields its step names (the others may be left from
// an earlier action).
std::string describe(const Assembler::Action& a) {
  const std::string s = std::to_string(static_cast<int>(a.step)) + ' ' + std::to_string(a.id) +
                        (a.keep_conn ? " keep" : "");
  switch (a.step) {
    case Step::none:
      return "none";
    case Step::begin:
    case Step::abort:
      return s;
    case Step::dispatch: {
      FUZZ_CHECK(a.input != nullptr);
      std::string d = s;
      for (std::size_t i = 0; i < a.input->params.size(); ++i) {
        d += ' ' + std::string(a.input->params[i].first) + '=' +
             std::string(a.input->params[i].second);
      }
      return d + " body=" + a.input->body;
    }
    case Step::reject:
      return s + ' ' + std::to_string(a.reject.status) + ' ' + std::string(a.reject.code);
    case Step::end_request:
      return s + ' ' + std::to_string(a.protocol_status);
    case Step::answer:
      return "answer " + a.bytes;
    case Step::close:
      return "close " + std::to_string(a.error.value());
  }
  return "?";
}

struct Connection {
  explicit Connection(const fcgi::Limits& l) : limits(l), assembler(limits, &server) {}
  ~Connection() {
    assembler.clear();
    FUZZ_CHECK(server.bytes == 0 && assembler.pending_input() == 0);
    FUZZ_CHECK(assembler.requests() == 0);
  }

  void feed(const comet::fuzz::SplitInput& in) {
    comet::fuzz::for_each_piece(in, [&](std::string_view piece) { feed(piece); });
  }

  void feed(std::string_view piece) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(piece.data());
    std::size_t from = 0;
    Assembler::Action a;
    while (from < piece.size() && !closed) {
      const std::size_t used = assembler.put(data + from, piece.size() - from, a);
      FUZZ_CHECK(used <= piece.size() - from);
      from += used;
      FUZZ_CHECK(server.bytes == assembler.pending_input());
      if (a.step == Step::none) {
        FUZZ_CHECK(from == piece.size());
        continue;
      }
      check_payload(a);
      trace.push_back(describe(a));
      if (a.step == Step::dispatch) {
        FUZZ_CHECK(a.input->params.bytes() <= limits.max_params_bytes);
        FUZZ_CHECK(a.input->body.size() <= limits.max_stdin_bytes);
        dispatched.push_back(std::move(a.input));
        // Some requests are answered at once, the others stay active.
        if (a.id % 2 == 1) assembler.finished(a.id);
      }
      if (a.step == Step::close) closed = true;
    }
  }

  void check_payload(Assembler::Action& a) {
    const std::string mark = "begun " + std::to_string(a.id);
    Payload* p = assembler.payload(a.id);
    switch (a.step) {
      case Step::begin:
        FUZZ_CHECK(p != nullptr && a.active == p && p->begun.empty());
        p->begun = mark;
        return;
      case Step::dispatch:
        FUZZ_CHECK(p != nullptr && a.active == p && p->begun == mark);
        return;
      case Step::abort:
        FUZZ_CHECK(p == nullptr && a.payload.begun == mark);
        return;
      case Step::reject:
        FUZZ_CHECK(p == nullptr && (a.payload.begun.empty() || a.payload.begun == mark));
        return;
      default:
        return;
    }
  }

  fcgi::Limits limits;
  Assembler::ServerInput server;
  Assembler assembler;
  std::vector<std::string> trace;
  std::vector<std::unique_ptr<Assembler::RequestInput>> dispatched;
  bool closed = false;
};

void any_bytes(const std::uint8_t* data, std::size_t size) {
  // Small limits, so that the fuzzer reaches each of them.
  fcgi::Limits limits;
  limits.max_requests_per_connection = 3;
  limits.max_params_bytes = 300;
  limits.max_stdin_bytes = 500;
  limits.max_pending_input_bytes = 2000;
  limits.max_pending_input_bytes_total = 2000;
  const auto in = comet::fuzz::split_input(data, size);
  auto whole = in;
  whole.cuts.clear();
  Connection cut(limits), uncut(limits);
  cut.feed(in);
  uncut.feed(whole);
  FUZZ_CHECK(cut.trace == uncut.trace);
}

// Appends `stream` as records of `type` of sizes the fuzzer chooses, then
// the empty record that ends it, with stray records between them.
void append_stream(FuzzedDataProvider& in, std::string& out, std::uint8_t type, std::uint16_t id,
                   std::string_view stream) {
  for (;;) {
    if (in.ConsumeBool()) {
      // Ignored: a record of a request that never began, or a management
      // record (answered, but nothing to do with the request).
      if (in.ConsumeBool()) {
        fcgi::append_record(out, FCGI_STDIN, static_cast<std::uint16_t>(id + 1), "x");
      } else {
        fcgi::append_record(out, 42, FCGI_NULL_REQUEST_ID, "?");
      }
    }
    if (stream.empty()) break;
    const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, stream.size());
    fcgi::append_record(out, type, id, stream.substr(0, n), in.ConsumeIntegral<std::uint8_t>());
    stream.remove_prefix(n);
  }
  fcgi::append_record(out, type, id, {}, in.ConsumeIntegral<std::uint8_t>());
}

void one_request(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto id = static_cast<std::uint16_t>(in.ConsumeIntegralInRange<int>(1, 65534));
  const bool keep = in.ConsumeBool();
  Pairs pairs(in.ConsumeIntegralInRange<std::size_t>(0, 20));
  std::string params;
  for (auto& [name, value] : pairs) {
    name = in.ConsumeRandomLengthString(200);
    value = in.ConsumeRandomLengthString(300);
    fcgi::append_name_value(params, name, value);
  }
  const std::string body = in.ConsumeRandomLengthString(3000);
  const auto begin = fcgi::encode_begin_request(id, FCGI_RESPONDER, keep ? FCGI_KEEP_CONN : 0);
  std::string bytes(begin.begin(), begin.end());
  append_stream(in, bytes, FCGI_PARAMS, id, params);
  append_stream(in, bytes, FCGI_STDIN, id, body);
  comet::fuzz::SplitInput split{bytes, {}};
  while (in.remaining_bytes() > 0 && split.cuts.size() < 16) {
    split.cuts.push_back(in.ConsumeIntegralInRange<std::size_t>(0, bytes.size()));
  }
  std::sort(split.cuts.begin(), split.cuts.end());

  Connection c{fcgi::Limits{}};
  c.feed(split);
  FUZZ_CHECK(!c.closed && c.dispatched.size() == 1);
  const auto& got = *c.dispatched.front();
  FUZZ_CHECK(got.params.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    FUZZ_CHECK(got.params[i].first == pairs[i].first && got.params[i].second == pairs[i].second);
  }
  FUZZ_CHECK(got.body == body);
  std::size_t begins = 0;
  for (const auto& line : c.trace) {
    if (line.starts_with(std::to_string(static_cast<int>(Step::begin)) + ' ')) ++begins;
  }
  FUZZ_CHECK(begins == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && (data[0] & 0x80) != 0) {
    one_request(data + 1, size - 1);
  } else {
    any_bytes(data, size);
  }
  return 0;
}
