#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "gateway/http/json.hpp"

namespace comet {
namespace {

std::string js(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string b64(std::string_view s) {
  std::string out;
  append_base64(out, s);
  return out;
}

using namespace std::string_view_literals;

TEST(JsonStringTest, PlainAndQuoted) {
  EXPECT_EQ(js(""), R"("")");
  EXPECT_EQ(js("hello"), R"("hello")");
  EXPECT_EQ(js(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(js("</script>"), R"("</script>")");  // '/' needs no escape
}

TEST(JsonStringTest, ControlCharacters) {
  EXPECT_EQ(js("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(js("\x01\x1f"sv), R"("\u0001\u001f")");
  EXPECT_EQ(js("a\0b"sv), R"("a\u0000b")");
  EXPECT_EQ(js("\x7f"), "\"\x7f\"");  // DEL is legal JSON
}

TEST(JsonStringTest, Utf8PassesThroughExceptLineSeparators) {
  EXPECT_EQ(js("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(js("a\xe2\x80\xa8"
               "b\xe2\x80\xa9"
               "c"),
            R"("a\u2028b\u2029c")");
  EXPECT_EQ(js("\xe2\x80\xa7"), "\"\xe2\x80\xa7\"");  // neighbour of U+2028
}

TEST(JsonStringTest, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(js("a\xff"
               "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(js("\xc0\xaf"), R"("\ufffd\ufffd")");  // overlong '/'
  EXPECT_EQ(js("\xe2\x82"), R"("\ufffd\ufffd")");  // truncated
}

// The scan takes eight bytes at a time: a byte that needs care is found at
// every offset of a word, and in the tail after the last whole word.
TEST(JsonStringTest, SpecialBytesAtEveryOffsetOfAWord) {
  const std::string plain(21, 'a');
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"\"", "\\\""},   {"\\", "\\\\"},           {"\n", "\\n"},       {"\x1f", "\\u001f"},
      {"\x7f", "\x7f"}, {"\xc3\xa9", "\xc3\xa9"}, {"\xff", "\\ufffd"}, {" ", " "}};
  for (const auto& [in, out] : cases) {
    for (std::size_t at = 0; at <= plain.size(); ++at) {
      const std::string s = plain.substr(0, at) + std::string(in) + plain.substr(at);
      EXPECT_EQ(js(s), "\"" + plain.substr(0, at) + std::string(out) + plain.substr(at) + "\"")
          << "at " << at;
      EXPECT_EQ(is_valid_utf8(s), in != "\xff") << "at " << at;
    }
  }
}

TEST(Utf8Test, Valid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("ascii \x01\x7f"));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(is_valid_utf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xe0\xa0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF, below surrogates
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000, above surrogates
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\0"sv));
}

TEST(Utf8Test, Overlong) {
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));
}

TEST(Utf8Test, SurrogatesAndBeyondMax) {
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xfe"));
}

TEST(Utf8Test, TruncatedAndStrayContinuation) {
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));
  EXPECT_FALSE(
      is_valid_utf8("a\xf0\x9f\x98"
                    "a"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc3\xa9\xa9"));
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));  // continuation missing
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, HighBytesUseStandardAlphabet) {
  EXPECT_EQ(b64("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(b64("\0\0\0"sv), "AAAA");
  EXPECT_EQ(b64("\xff"), "/w==");
}

TEST(Base64Test, Appends) {
  std::string out = "x";
  append_base64(out, "foo");
  EXPECT_EQ(out, "xZm9v");
}

}  // namespace
}  // namespace comet
