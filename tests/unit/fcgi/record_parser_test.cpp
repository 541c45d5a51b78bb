#include "fcgi/record_parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <tuple>
#include <vector>

#include "fcgi/error.hpp"
#include "fcgi/name_value.hpp"
#include "test_bytes.hpp"

namespace fcgi {
namespace {

using test::as_string;
using test::bytes;

// A record as reassembled from fragments.
struct Parsed {
  std::uint8_t type;
  std::uint16_t id;
  std::string content;
  friend bool operator==(const Parsed&, const Parsed&) = default;
};

struct Result {
  std::vector<Parsed> records;
  std::error_code ec;
  std::size_t fragments = 0;
};

// Feeds `in` in pieces cut at `cuts` (ascending offsets).
Result parse(const std::string& in, const std::vector<std::size_t>& cuts) {
  RecordParser p;
  Result r;
  std::string partial;
  std::size_t start = 0;
  auto feed = [&](std::size_t end) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t pos = start;
    while (pos < end && !r.ec) {
      const std::size_t used = p.put(data + pos, end - pos, r.ec);
      pos += used;
      if (p.has_fragment()) {
        const auto& f = p.fragment();
        ++r.fragments;
        partial.append(f.data);
        if (f.last) {
          r.records.push_back({f.header.type, f.header.request_id, partial});
          partial.clear();
        }
      } else if (used == 0 && !r.ec) {
        ADD_FAILURE() << "no progress at " << pos;
        return;
      }
    }
    start = end;
  };
  for (std::size_t c : cuts) feed(c);
  feed(in.size());
  return r;
}

std::string sample_input() {
  std::string in = as_string(encode_begin_request(1, FCGI_RESPONDER, FCGI_KEEP_CONN));
  std::string params;
  append_name_value(params, "SCRIPT_NAME", "/comet/poll");
  append_name_value(params, "QUERY_STRING", std::string(300, 'q'));
  append_name_value(params, "HTTP_HOST", "example.com");
  // PARAMS over three records, the middle pair straddling two of them, with
  // and without padding.
  append_record(in, FCGI_PARAMS, 1, params.substr(0, 40), 0);
  append_record(in, FCGI_PARAMS, 1, params.substr(40, 200), 3);
  append_record(in, FCGI_PARAMS, 1, params.substr(240), 7);
  append_record(in, FCGI_PARAMS, 1, "");
  append_record(in, FCGI_STDIN, 1, "hello", 3);
  append_record(in, FCGI_STDIN, 1, "");
  std::string names;
  append_name_value(names, FCGI_MAX_CONNS, "");
  append_name_value(names, FCGI_MPXS_CONNS, "");
  append_record(in, FCGI_GET_VALUES, 0, names, 2);
  // A management type nobody defined: passed on, to be answered UNKNOWN_TYPE.
  append_record(in, 0x40, 0, "xyz", 5);
  append_record(in, FCGI_ABORT_REQUEST, 1, "");
  return in;
}

std::vector<Parsed> expected_records() {
  std::string params;
  append_name_value(params, "SCRIPT_NAME", "/comet/poll");
  append_name_value(params, "QUERY_STRING", std::string(300, 'q'));
  append_name_value(params, "HTTP_HOST", "example.com");
  std::string names;
  append_name_value(names, FCGI_MAX_CONNS, "");
  append_name_value(names, FCGI_MPXS_CONNS, "");
  return {
      {FCGI_BEGIN_REQUEST, 1, bytes({0, 1, 1, 0, 0, 0, 0, 0})},
      {FCGI_PARAMS, 1, params.substr(0, 40)},
      {FCGI_PARAMS, 1, params.substr(40, 200)},
      {FCGI_PARAMS, 1, params.substr(240)},
      {FCGI_PARAMS, 1, ""},
      {FCGI_STDIN, 1, "hello"},
      {FCGI_STDIN, 1, ""},
      {FCGI_GET_VALUES, 0, names},
      {0x40, 0, "xyz"},
      {FCGI_ABORT_REQUEST, 1, ""},
  };
}

TEST(RecordParser, WholeInput) {
  const Result r = parse(sample_input(), {});
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.records, expected_records());
  EXPECT_EQ(r.fragments, r.records.size());
}

TEST(RecordParser, EverySplitPointGivesTheSameRecords) {
  const std::string in = sample_input();
  const auto expected = expected_records();
  for (std::size_t split = 0; split <= in.size(); ++split) {
    const Result r = parse(in, {split});
    ASSERT_FALSE(r.ec) << split;
    ASSERT_EQ(r.records, expected) << split;
  }
}

TEST(RecordParser, EveryPairOfSplitPointsGivesTheSameRecords) {
  const std::string in = sample_input();
  const auto expected = expected_records();
  for (std::size_t a = 0; a <= in.size(); a += 3) {
    for (std::size_t b = a; b <= in.size(); b += 5) {
      const Result r = parse(in, {a, b});
      ASSERT_FALSE(r.ec) << a << "," << b;
      ASSERT_EQ(r.records, expected) << a << "," << b;
    }
  }
}

TEST(RecordParser, ByteByByte) {
  const std::string in = sample_input();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
  const Result r = parse(in, cuts);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.records, expected_records());
}

TEST(RecordParser, ParamsStreamDecodesAcrossRecordsAtEverySplit) {
  const std::string in = sample_input();
  for (std::size_t split = 0; split <= in.size(); ++split) {
    RecordParser p;
    NameValueDecoder d(64 * 1024);
    NameValueDecoder::Pairs pairs;
    std::error_code ec;
    for (auto [lo, hi] : {std::pair{std::size_t{0}, split}, std::pair{split, in.size()}}) {
      while (lo < hi) {
        lo += p.put(reinterpret_cast<const std::uint8_t*>(in.data()) + lo, hi - lo, ec);
        ASSERT_FALSE(ec);
        if (p.has_fragment() && p.fragment().header.type == FCGI_PARAMS) {
          if (p.fragment().header.content_length == 0) {
            d.finish(ec);
          } else {
            d.put(p.fragment().data, pairs, ec);
          }
          ASSERT_FALSE(ec);
        }
      }
    }
    ASSERT_EQ(pairs.size(), 3u) << split;
    EXPECT_EQ(pairs[1].second, std::string(300, 'q'));
  }
}

TEST(RecordParser, MaxSizeStdinRecordWithMaxPadding) {
  std::string in;
  append_record(in, FCGI_STDIN, 3, std::string(kMaxContentLen, 's'), 255);
  append_record(in, FCGI_STDIN, 3, "");
  for (std::size_t split :
       {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{9}, std::size_t{65543},
        std::size_t{65544}, std::size_t{65600}, in.size() - 1}) {
    const Result r = parse(in, {split});
    ASSERT_FALSE(r.ec);
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(r.records[0].content.size(), kMaxContentLen);
    EXPECT_EQ(r.records[1].content, "");
  }
}

TEST(RecordParser, StreamContentIsNotCopied) {
  std::string in;
  append_record(in, FCGI_STDIN, 1, "abcdef");
  RecordParser p;
  std::error_code ec;
  const auto* data = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t used = p.put(data, 10, ec);
  ASSERT_TRUE(p.has_fragment());
  EXPECT_EQ(p.fragment().data, "ab");
  EXPECT_EQ(p.fragment().data.data(), in.data() + 8);
  EXPECT_FALSE(p.fragment().last);
  used += p.put(data + used, in.size() - used, ec);
  ASSERT_TRUE(p.has_fragment());
  EXPECT_EQ(p.fragment().data, "cdef");
  EXPECT_TRUE(p.fragment().last);
  EXPECT_TRUE(p.between_records());
}

struct Bad {
  std::string input;
  errc expected;
};

TEST(RecordParser, MalformedInputIsAnError) {
  std::string stdout_record;
  append_record(stdout_record, FCGI_STDOUT, 1, "x");
  std::string big_get_values;
  append_record(big_get_values, FCGI_GET_VALUES, 0, std::string(2000, 'a'));
  const std::vector<Bad> cases = {
      {bytes({0, 1, 0, 1, 0, 8, 0, 0}), errc::bad_version},
      {bytes({2, 5, 0, 1, 0, 0, 0, 0}), errc::bad_version},
      {bytes({1, 1, 0, 1, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0}), errc::bad_content_length},
      {bytes({1, 1, 0, 1, 0xff, 0xff, 0, 0}), errc::bad_content_length},
      {bytes({1, 2, 0, 1, 0, 1, 0, 0, 0}), errc::bad_content_length},
      {big_get_values, errc::bad_content_length},
      {bytes({1, 9, 0, 1, 0, 0, 0, 0}), errc::bad_request_id},
      {stdout_record, errc::unexpected_type},
      {bytes({1, 3, 0, 1, 0, 0, 0, 0}), errc::unexpected_type},
      {bytes({1, 0, 0, 1, 0, 0, 0, 0}), errc::unknown_type},
      {bytes({1, 12, 0, 1, 0, 0, 0, 0}), errc::unknown_type},
      {bytes({1, 0xff, 0, 1, 0, 0, 0, 0}), errc::unknown_type},
  };
  for (const auto& c : cases) {
    // A good record first: the error must come from the bad one.
    std::string in = as_string(encode_begin_request(1, FCGI_RESPONDER, 0)) + c.input;
    for (std::size_t split = 0; split <= in.size(); ++split) {
      const Result r = parse(in, {split});
      ASSERT_EQ(r.ec, c.expected) << split;
      ASSERT_EQ(r.records.size(), 1u);
    }
  }
}

TEST(RecordParser, StaysFailedAfterAnError) {
  RecordParser p;
  std::error_code ec;
  const std::string bad = bytes({9, 1, 0, 1, 0, 8, 0, 0});
  p.put(reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size(), ec);
  EXPECT_EQ(ec, errc::bad_version);
  ec.clear();
  const std::string good = as_string(encode_begin_request(1, FCGI_RESPONDER, 0));
  EXPECT_EQ(p.put(reinterpret_cast<const std::uint8_t*>(good.data()), good.size(), ec), 0u);
  EXPECT_EQ(ec, errc::bad_version);
}

TEST(RecordParser, RandomInputNeverCrashes) {
  std::mt19937 rng(12345);
  const std::string valid = sample_input();
  for (int round = 0; round < 2000; ++round) {
    std::string in = valid;
    // Flip a few bytes of a valid stream, or use pure noise.
    if (round % 4 == 0) {
      in.assign(1 + rng() % 512, '\0');
      for (char& c : in) c = static_cast<char>(rng());
      in[0] = 1;
    } else {
      for (int i = 0; i < 3; ++i) in[rng() % in.size()] = static_cast<char>(rng());
    }
    std::vector<std::size_t> cuts;
    for (std::size_t pos = rng() % 64; pos < in.size(); pos += 1 + rng() % 64) cuts.push_back(pos);
    const Result r = parse(in, cuts);
    (void)r;
  }
}

}  // namespace
}  // namespace fcgi
