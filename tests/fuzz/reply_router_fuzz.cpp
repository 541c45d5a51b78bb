// Whose each reply on a Redis connection is (gateway/redis/reply_router):
// any script of commands sent, subscriptions and bytes fed. Checked: a
// reply is handed over with its entry, a command's entry once and in the
// order sent, a subscription's for its confirmations and messages only;
// nothing is handed over after `failed`, which stays; the router never
// grows its waiting list by reading.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/redis/reply_router.hpp"

namespace {

struct Entry {
  int id = 0;
  bool subscription = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  comet::ReplyRouter<Entry> router;
  const std::vector<std::string> names = {"comet:*", "a", "b", "comet:#sync:1"};
  int next_id = 0;
  std::vector<int> commands;  // ids of plain commands sent, in order
  std::size_t answered = 0;
  bool failed = false;
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        router.sent(Entry{++next_id, false});
        commands.push_back(next_id);
        break;
      case 1: {
        std::vector<std::string> sub;
        const int n = in.ConsumeIntegralInRange<int>(1, 3);
        for (int i = 0; i < n; ++i) sub.push_back(names[in.ConsumeIntegralInRange<int>(0, 3)]);
        router.sent_subscribe(Entry{++next_id, true}, in.ConsumeBool(), std::move(sub));
        break;
      }
      default: {
        const std::string bytes = in.ConsumeRandomLengthString(256);
        if (!comet::fuzz::resp_sizes_are_small(bytes)) return 0;
        router.feed(bytes);
        for (;;) {
          const std::size_t waiting = router.waiting();
          auto step = router.next();
          FUZZ_CHECK(router.waiting() <= waiting);
          if (step.type == decltype(step)::Type::need_more) break;
          if (step.type == decltype(step)::Type::failed) {
            FUZZ_CHECK(!step.why.empty());
            FUZZ_CHECK(router.failed());
            failed = true;
            break;
          }
          FUZZ_CHECK(!failed);
          FUZZ_CHECK(step.entry != nullptr && step.reply != nullptr);
          if (!step.entry->subscription) {
            FUZZ_CHECK(answered < commands.size());
            FUZZ_CHECK(step.entry->id == commands[answered]);
            ++answered;
          }
        }
        break;
      }
    }
  }
  if (failed) FUZZ_CHECK(router.next().type == decltype(router.next())::Type::failed);
  return 0;
}
