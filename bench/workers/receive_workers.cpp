// Processes or threads for one gateway per core (README "Several cores"):
// what N workers on one host spend on each message they receive from
// Redis, in the two designs, built from the gateway's own RedisClient, Hub
// and JSON encoder. The poll side (FastCGI, batches, responses) is the
// same work in both designs and is left out; receiving is where they
// differ.
//
//   own     every worker has its own subscription, Redis client, Hub and
//           io_context: what N gateway processes do. Run here as N threads
//           of one process, which spends the CPU that N processes would.
//   shared  one thread holds the only subscription; every read burst it
//           parses is copied once and handed to the N worker threads, each
//           of which numbers, encodes and buffers it in its own Hub: what
//           worker threads sharing one subscription would do.
//
// It subscribes, prints "ready", and exits once every worker's Hub has
// received --count messages (published by the caller, bench/
// receive_workers.sh), printing the CPU time the process spent meanwhile
// (all threads) per message. Bounded: it gives up after --timeout seconds.
//
//   receive_workers --redis redis://127.0.0.1:PORT --mode own|shared
//                   --workers N --count M [--timeout S]
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/hub.hpp"
#include "gateway/http/poll_json.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/util/log.hpp"

namespace {

namespace asio = boost::asio;

struct Args {
  std::string redis;
  std::string mode = "own";
  int workers = 2;
  std::uint64_t count = 1'000'000;
  int timeout = 120;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--redis") {
      a.redis = v;
    } else if (k == "--mode") {
      a.mode = v;
    } else if (k == "--workers") {
      a.workers = std::atoi(v.c_str());
    } else if (k == "--count") {
      a.count = std::strtoull(v.c_str(), nullptr, 10);
    } else if (k == "--timeout") {
      a.timeout = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "receive_workers: unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.redis.empty() || (a.mode != "own" && a.mode != "shared") || a.workers < 1) {
    std::fprintf(stderr,
                 "usage: receive_workers --redis URL --mode own|shared --workers N --count M\n");
    std::exit(2);
  }
  return a;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// What every thread reports to main: subscribed, and all messages in.
struct Progress {
  std::mutex m;
  std::condition_variable cv;
  int subscribed = 0;
  int done = 0;
  void add(int Progress::*field) {
    std::lock_guard lock(m);
    ++(this->*field);
    cv.notify_all();
  }
  bool wait_for(int Progress::*field, int n, std::chrono::seconds limit) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] { return this->*field >= n; });
  }
};

comet::RedisClientOptions client_options(const Args& a) {
  comet::RedisClientOptions o;
  o.url = comet::parse_redis_url(a.redis);
  return o;
}

// One Hub on its own thread and io_context.
struct Worker {
  explicit Worker(std::uint64_t epoch) : hub(comet::HubOptions{}, epoch, encoder) {}
  asio::io_context io{1};
  comet::PollJson encoder;
  comet::Hub hub;
  bool reported = false;
  void check(const Args& a, Progress& p) {
    if (!reported && hub.counters().messages_received >= a.count) {
      reported = true;
      p.add(&Progress::done);
    }
  }
};

// A read burst as the shared subscriber hands it on: its messages and
// marks, in stream order, copied once and read by every worker.
struct Item {
  bool mark = false;
  std::uint64_t mark_id = 0;
  std::string channel, payload;
};
using Burst = std::shared_ptr<const std::vector<Item>>;

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  comet::Logger log(comet::LogLevel::warn);
  Progress progress;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < a.workers; ++i) workers.push_back(std::make_unique<Worker>(i + 1));
  std::vector<std::thread> threads;
  // Keeps each worker's io_context running until the end.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers) guards.push_back(asio::make_work_guard(w->io));

  asio::io_context receiver_io{1};
  std::unique_ptr<comet::RedisClient> shared_client;
  std::vector<std::unique_ptr<comet::RedisClient>> own_clients;
  auto pending = std::make_shared<std::vector<Item>>();

  if (a.mode == "own") {
    for (auto& wp : workers) {
      Worker* w = wp.get();
      own_clients.push_back(std::make_unique<comet::RedisClient>(
          w->io, client_options(a),
          comet::RedisClientCallbacks{
              [w](std::string_view ch, std::string_view payload, const comet::StreamId* id) {
                w->hub.receive(ch, payload, comet::Clock::now(), id);
              },
              [w, &a, &progress] {
                w->hub.flush(comet::Clock::now());
                w->check(a, progress);
              },
              [&progress](bool) { progress.add(&Progress::subscribed); }, [] {}, [] {},
              [w](std::uint64_t id) { w->hub.mark(id); },
              [](std::string_view, const comet::PresenceEvent&) {}},
          log));
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
      asio::post(workers[i]->io, [c = own_clients[i].get()] { c->start(); });
    }
  } else {
    shared_client = std::make_unique<comet::RedisClient>(
        receiver_io, client_options(a),
        comet::RedisClientCallbacks{
            [&pending](std::string_view ch, std::string_view payload, const comet::StreamId*) {
              pending->push_back(Item{false, 0, std::string(ch), std::string(payload)});
            },
            [&] {
              Burst burst = std::move(pending);
              pending = std::make_shared<std::vector<Item>>();
              for (auto& wp : workers) {
                Worker* w = wp.get();
                asio::post(w->io, [w, burst, &a, &progress] {
                  const auto now = comet::Clock::now();
                  for (const Item& it : *burst) {
                    if (it.mark) {
                      w->hub.mark(it.mark_id);
                    } else {
                      w->hub.receive(it.channel, it.payload, now, nullptr);
                    }
                  }
                  w->hub.flush(now);
                  w->check(a, progress);
                });
              }
            },
            [&progress, n = a.workers](bool) {
              for (int i = 0; i < n; ++i) progress.add(&Progress::subscribed);
            },
            [] {}, [] {},
            [&pending](std::uint64_t id) {
              pending->push_back(Item{true, id, {}, {}});
            },
            [](std::string_view, const comet::PresenceEvent&) {}},
        log);
    shared_client->start();
    threads.emplace_back([&] { receiver_io.run(); });
  }
  for (auto& w : workers) threads.emplace_back([w = w.get()] { w->io.run(); });

  const auto limit = std::chrono::seconds(a.timeout);
  int rc = 0;
  if (!progress.wait_for(&Progress::subscribed, a.workers, limit)) {
    std::fprintf(stderr, "receive_workers: not subscribed within %d s\n", a.timeout);
    rc = 1;
  } else {
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    std::printf("ready\n");
    std::fflush(stdout);
    if (!progress.wait_for(&Progress::done, a.workers, limit)) {
      std::fprintf(stderr, "receive_workers: not every worker received %llu messages in %d s\n",
                   static_cast<unsigned long long>(a.count), a.timeout);
      rc = 1;
    } else {
      const double cpu = process_cpu_seconds() - cpu0;
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf(
          "mode %s, %d workers, %llu messages: CPU %.2f s (%.3f us per message, %.3f per message "
          "and worker), wall %.2f s\n",
          a.mode.c_str(), a.workers, static_cast<unsigned long long>(a.count), cpu,
          cpu * 1e6 / static_cast<double>(a.count),
          cpu * 1e6 / static_cast<double>(a.count) / a.workers, wall);
    }
  }
  // Each client stops on its own thread, then every loop ends.
  if (shared_client) asio::post(receiver_io, [&] { shared_client->stop(); });
  for (std::size_t i = 0; i < own_clients.size(); ++i) {
    asio::post(workers[i]->io, [c = own_clients[i].get()] { c->stop(); });
  }
  guards.clear();
  if (shared_client) {
    asio::post(receiver_io, [&] { receiver_io.stop(); });
  }
  for (auto& w : workers) asio::post(w->io, [w = w.get()] { w->io.stop(); });
  for (auto& t : threads) t.join();
  return rc;
}
