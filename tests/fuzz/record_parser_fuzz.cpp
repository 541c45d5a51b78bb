// fcgi::RecordParser on any bytes, cut anywhere: the records (headers and
// whole contents), the error and the parser's state at the end must be the
// same whatever the cuts, and each record's fragments must add up to its
// content length.
#include <string>
#include <system_error>

#include "fcgi/error.hpp"
#include "fcgi/record_parser.hpp"
#include "fuzz_input.hpp"

namespace {

struct Outcome {
  std::string records;  // header fields and content of each complete record
  std::uint64_t headers = 0;
  int error = 0;
  bool between_records = false;
  bool operator==(const Outcome&) const = default;
};

Outcome parse(const comet::fuzz::SplitInput& in) {
  fcgi::RecordParser parser;
  Outcome out;
  std::string content;
  bool open = false;  // a record has given fragments but not its last
  fcgi::Header current;
  comet::fuzz::for_each_piece(in, [&](std::string_view piece) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(piece.data());
    std::size_t from = 0;
    while (from < piece.size() && out.error == 0) {
      std::error_code ec;
      const std::size_t used = parser.put(data + from, piece.size() - from, ec);
      FUZZ_CHECK(used <= piece.size() - from);
      from += used;
      if (ec) {
        out.error = ec.value();
        FUZZ_CHECK(ec.category() == fcgi::error_category());
        break;
      }
      // put() stops early only at a fragment.
      FUZZ_CHECK(parser.has_fragment() || from == piece.size());
      if (!parser.has_fragment()) continue;
      const auto& f = parser.fragment();
      if (open) {
        FUZZ_CHECK(f.header == current);
      } else {
        current = f.header;
        open = true;
      }
      // Non-stream records come out whole.
      FUZZ_CHECK(fcgi::RecordParser::is_stream(f.header) || f.last);
      content.append(f.data);
      if (!f.last) continue;
      FUZZ_CHECK(content.size() == f.header.content_length);
      out.records += std::to_string(f.header.type) + ' ' + std::to_string(f.header.request_id) +
                     ' ' + std::to_string(f.header.padding_length) + ' ' + content + '\n';
      content.clear();
      open = false;
    }
  });
  if (out.error != 0) {
    // It stays failed, with the same error.
    std::error_code ec;
    const std::uint8_t byte = 0;
    FUZZ_CHECK(parser.put(&byte, 1, ec) == 0 && ec.value() == out.error);
  }
  out.headers = parser.records();
  out.between_records = parser.between_records();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = comet::fuzz::split_input(data, size);
  auto whole = in;
  whole.cuts.clear();
  FUZZ_CHECK(parse(in) == parse(whole));
  return 0;
}
