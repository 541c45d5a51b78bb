// fcgi::Params filled with any pairs (any bytes, repeated names, reserve()
// calls in between): it gives back exactly the pairs added, in order, and
// get() finds the first value of a name.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <utility>
#include <vector>

#include "fcgi/params.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  fcgi::Params params;
  std::vector<std::pair<std::string, std::string>> added;
  std::size_t bytes = 0;
  while (in.remaining_bytes() > 0) {
    if (in.ConsumeBool()) {
      params.reserve(in.ConsumeIntegralInRange<std::size_t>(0, 4096),
                     in.ConsumeIntegralInRange<std::size_t>(0, 64));
    }
    std::string name = in.ConsumeRandomLengthString(64);
    std::string value = in.ConsumeRandomLengthString(256);
    params.add(name, value);
    bytes += name.size() + value.size();
    added.emplace_back(std::move(name), std::move(value));
  }
  FUZZ_CHECK(params.size() == added.size());
  FUZZ_CHECK(params.empty() == added.empty());
  FUZZ_CHECK(params.bytes() == bytes);
  for (std::size_t i = 0; i < added.size(); ++i) {
    FUZZ_CHECK(params[i].first == added[i].first && params[i].second == added[i].second);
    std::size_t first = 0;
    while (added[first].first != added[i].first) ++first;
    FUZZ_CHECK(params.get(added[i].first) == added[first].second);
  }
  params.clear();
  FUZZ_CHECK(params.empty() && params.bytes() == 0);
  return 0;
}
