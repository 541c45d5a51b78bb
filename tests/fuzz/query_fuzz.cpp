// Query strings (gateway/http/query): a query that parses, written again
// with every byte of its keys and values percent-encoded where needed,
// parses to the same entries; get() and all() agree with the entries; the
// decoding never lengthens the text; percent_decode agrees with itself on
// its own output's encoding.
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/http/query.hpp"

namespace {

void append_encoded(std::string& out, std::string_view s) {
  static const char* digits = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool plus : {false, true}) {
    if (auto d = comet::percent_decode(text, plus)) {
      FUZZ_CHECK(d->size() <= text.size());
      std::string again;
      append_encoded(again, *d);
      auto back = comet::percent_decode(again, true);
      FUZZ_CHECK(back && *back == *d);
    }
  }

  const auto q = comet::Query::parse(text);
  if (!q) return 0;
  std::size_t decoded = 0;
  std::string again;
  for (std::size_t i = 0; i < q->size(); ++i) {
    const auto [key, value] = (*q)[i];
    decoded += key.size() + value.size();
    if (i != 0) again.push_back('&');
    append_encoded(again, key);
    again.push_back('=');
    append_encoded(again, value);
    // get() finds the first entry of a key, all() every one in order.
    std::size_t first = 0;
    while ((*q)[first].first != key) ++first;
    FUZZ_CHECK(q->get(key) == (*q)[first].second);
    const auto all = q->all(key);
    std::size_t seen = 0;
    for (std::size_t j = 0; j <= i; ++j) seen += (*q)[j].first == key;
    FUZZ_CHECK(seen >= 1 && seen <= all.size() && all[seen - 1] == value);
  }
  FUZZ_CHECK(decoded <= text.size());
  const auto back = comet::Query::parse(again);
  FUZZ_CHECK(back && back->size() == q->size());
  for (std::size_t i = 0; i < q->size(); ++i) FUZZ_CHECK((*back)[i] == (*q)[i]);
  return 0;
}
