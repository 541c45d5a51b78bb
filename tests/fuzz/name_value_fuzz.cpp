// fcgi::NameValueDecoder on any bytes, cut anywhere: into pairs and into
// Params the same pairs and the same error whatever the cuts; the pairs,
// encoded again, decode to themselves; the limit holds and the decoder's
// buffers grow with what arrived, not with the lengths announced. Also
// encode_get_values_result on the same bytes: a valid record answering
// only the names it knows.
#include <fastcgi.h>

#include <string>
#include <system_error>

#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"
#include "fuzz_input.hpp"

namespace {

using Pairs = fcgi::NameValueDecoder::Pairs;

struct Outcome {
  Pairs pairs;
  int error = 0;
  bool finished = false;  // finish() found the stream between pairs
  bool operator==(const Outcome&) const = default;
};

template <class Sink>
Outcome decode(const comet::fuzz::SplitInput& in, std::size_t max_bytes, Sink& sink) {
  fcgi::NameValueDecoder decoder(max_bytes);
  Outcome out;
  std::size_t fed = 0;
  comet::fuzz::for_each_piece(in, [&](std::string_view piece) {
    if (out.error != 0) return;
    std::error_code ec;
    decoder.put(piece, sink, ec);
    fed += piece.size();
    out.error = ec.value();
    FUZZ_CHECK(decoder.total() <= max_bytes);
    FUZZ_CHECK(decoder.buffered_capacity() <=
               2 * (2 * fcgi::NameValueDecoder::kMaxReserve + fed) + 64);
  });
  if (out.error == 0) {
    std::error_code ec;
    decoder.finish(ec);
    out.finished = !ec;
  }
  return out;
}

Outcome decode_pairs(const comet::fuzz::SplitInput& in, std::size_t max_bytes) {
  Pairs pairs;
  Outcome out = decode(in, max_bytes, pairs);
  out.pairs = std::move(pairs);
  return out;
}

Outcome decode_params(const comet::fuzz::SplitInput& in, std::size_t max_bytes) {
  fcgi::Params params;
  Outcome out = decode(in, max_bytes, params);
  for (std::size_t i = 0; i < params.size(); ++i) {
    out.pairs.emplace_back(params[i].first, params[i].second);
  }
  return out;
}

void check_get_values_result(std::string_view content) {
  std::string out;
  if (!fcgi::encode_get_values_result(content, fcgi::ServerValues{10, 20, true}, out)) return;
  FUZZ_CHECK(out.size() >= fcgi::kHeaderLen);
  const fcgi::Header h = fcgi::decode_header(reinterpret_cast<const std::uint8_t*>(out.data()));
  FUZZ_CHECK(h.type == FCGI_GET_VALUES_RESULT && h.request_id == 0);
  FUZZ_CHECK(out.size() == fcgi::kHeaderLen + h.content_length + h.padding_length);
  fcgi::NameValueDecoder decoder(fcgi::kMaxContentLen);
  Pairs answered;
  std::error_code ec;
  decoder.put(std::string_view(out).substr(fcgi::kHeaderLen, h.content_length), answered, ec);
  if (!ec) decoder.finish(ec);
  FUZZ_CHECK(!ec);
  for (const auto& [name, value] : answered) {
    FUZZ_CHECK(name == FCGI_MAX_CONNS || name == FCGI_MAX_REQS || name == FCGI_MPXS_CONNS);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = comet::fuzz::split_input(data, size);
  auto whole = in;
  whole.cuts.clear();
  // A small limit too, so that the fuzzer reaches it.
  for (std::size_t max_bytes : {std::size_t{64}, std::size_t{64 * 1024}}) {
    const Outcome expected = decode_pairs(whole, max_bytes);
    FUZZ_CHECK(decode_pairs(in, max_bytes) == expected);
    FUZZ_CHECK(decode_params(in, max_bytes) == expected);
    if (expected.error != 0 || !expected.finished) continue;
    std::string again;
    for (const auto& [name, value] : expected.pairs) fcgi::append_name_value(again, name, value);
    comet::fuzz::SplitInput reencoded{again, {}};
    FUZZ_CHECK(decode_pairs(reencoded, max_bytes) == expected);
  }
  check_get_values_result(in.bytes);
  return 0;
}
