#include "gateway/app/config.hpp"

#include "gateway/core/channel_name.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/util/address_range.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace po = boost::program_options;

namespace comet {
namespace {

po::options_description make_options() {
  po::options_description d(
      "Options (each also settable as `name = value` in --config FILE; the command line wins, a "
      "repeatable flag there replacing the file's values)");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config", po::value<std::string>()->value_name("FILE"), "read options from FILE; command-line flags win")
    ("listen", po::value<std::vector<std::string>>()->value_name("ADDR")->composing(),
     "FastCGI address: HOST:PORT, [V6]:PORT or unix:/path.sock; repeatable "
     "(default 127.0.0.1:9000). One gateway uses one core: run one per core, each on "
     "its own address (comet-gateway@N.service), all in the web server's upstream")
    ("listen-mode", po::value<std::string>()->value_name("MODE")->default_value("0660"),
     "permission bits (octal) of a unix: socket: who may connect, with --listen-group "
     "(0660: the gateway's user and group)")
    ("listen-group", po::value<std::string>()->value_name("GROUP"),
     "group of a unix: socket, e.g. the web server's (www-data); the gateway must be a "
     "member of it (default: the gateway's own group)")
    ("listen-allow", po::value<std::vector<std::string>>()->value_name("ADDR")->composing(),
     "a peer address or CIDR block a TCP listener accepts FastCGI connections from; "
     "repeatable; others are closed at once (default 127.0.0.0/8 and ::1; 0.0.0.0/0 and "
     "::/0 for any). Whoever connects can publish if --publish-allow admits the "
     "REMOTE_ADDR it claims")
    ("redis", po::value<std::string>()->value_name("URL")->default_value("redis://127.0.0.1:6379"),
     "Redis URL: redis://[user:password@]host[:port][/db], unix:/path.sock[?db=N], "
     "redis-sentinel://[user:password@]host[:port][,host[:port]...]/MASTER[/db]"
     "[?sentinel_password=P] (Sentinel) or "
     "redis-cluster://[user:password@]host[:port][,host[:port]...] (Redis Cluster)")
    ("prefix", po::value<std::string>()->value_name("PREFIX")->default_value("comet:"),
     "Redis channel prefix: channel NAME is <prefix>NAME (matched literally, glob "
     "characters included)")
    ("default-timeout", po::value<double>()->value_name("SECONDS")->default_value(25),
     "seconds a poll parks when it names no timeout")
    ("max-timeout", po::value<double>()->value_name("SECONDS")->default_value(50),
     "upper bound on a poll's timeout in seconds; keep it below the web server's "
     "read timeout (nginx fastcgi_read_timeout, 60 s by default)")
    ("timeout-jitter", po::value<double>()->value_name("FRACTION")->default_value(0.1, "0.1"),
     "a parked poll returns after timeout * (1 - U[0, jitter]) so polls don't synchronise "
     "(0 to 0.5)")
    ("max-channels", po::value<std::size_t>()->value_name("N")->default_value(64),
     "channels one request may name (413 beyond; at most 4096)")
    ("max-parked", po::value<std::size_t>()->value_name("N")->default_value(100000),
     "parked requests (polls and SSE streams) in all (503 beyond)")
    ("max-parked-per-client", po::value<std::size_t>()->value_name("N")->default_value(1000),
     "parked requests of one client (REMOTE_ADDR; an IPv6 /64 counts as one) (429 beyond)")
    ("max-channels-per-client", po::value<std::size_t>()->value_name("N")->default_value(8192),
     "channel names one client's parked requests name together (429 beyond)")
    ("max-channels-total", po::value<std::size_t>()->value_name("N")->default_value(200000),
     "channels held in all; a poll that would park on new channels past it gets 503 "
     "(messages still create the channels they are published to)")
    ("buffer-messages", po::value<std::size_t>()->value_name("N")->default_value(1000),
     "messages kept per channel for clients catching up")
    ("buffer-bytes", po::value<std::size_t>()->value_name("BYTES")->default_value(8 * 1024 * 1024),
     "bytes kept per channel")
    ("buffer-bytes-total", po::value<std::size_t>()->value_name("BYTES")->default_value(256 * 1024 * 1024),
     "message bytes buffered in all channels together; past it the oldest are dropped "
     "(a gap for cursors before them), each channel's newest kept")
    ("buffer-age", po::value<double>()->value_name("SECONDS")->default_value(300),
     "seconds a message is kept")
    ("batch-messages", po::value<std::size_t>()->value_name("N")->default_value(1000),
     "messages in one response at most")
    ("batch-bytes", po::value<std::size_t>()->value_name("BYTES")->default_value(1024 * 1024),
     "message bytes in one response at most (a single larger message still goes out alone)")
    ("max-reads-per-poll", po::value<std::size_t>()->value_name("N")->default_value(4),
     "stream reads one poll or stream may make to place its durable positions (further "
     "positions are answered with a gap)")
    ("max-stream-reads", po::value<std::size_t>()->value_name("N")->default_value(64),
     "stream reads in flight and queued in all (positions beyond are answered with a gap)")
    ("max-stream-read-bytes",
     po::value<std::size_t>()->value_name("BYTES")->default_value(64 * 1024 * 1024),
     "bytes of stream reads in all: each read not answered reserves BYTES / "
     "--max-stream-reads, an answer its size until its polls are answered")
    ("max-connections", po::value<std::size_t>()->value_name("N")->default_value(50000),
     "open FastCGI connections at most (further ones are closed at once)")
    ("max-requests-per-connection", po::value<std::size_t>()->value_name("N")->default_value(10000),
     "multiplexed requests in flight on one FastCGI connection")
    ("max-params-bytes", po::value<std::size_t>()->value_name("BYTES")->default_value(64 * 1024),
     "bytes of FastCGI params (HTTP headers and CGI variables) per request, each name-value "
     "pair counting 12 bytes more")
    ("max-body-bytes", po::value<std::size_t>()->value_name("BYTES")->default_value(1024 * 1024),
     "bytes of request body (HTTP publish) per request")
    ("max-write-queue-bytes", po::value<std::size_t>()->value_name("BYTES")->default_value(64 * 1024 * 1024),
     "bytes queued for writing on one FastCGI connection; past it the connection is "
     "closed as a slow reader")
    ("max-write-queue-bytes-total", po::value<std::size_t>()->value_name("BYTES")->default_value(512 * 1024 * 1024),
     "bytes queued for writing on all connections; past it the connection with the most "
     "queued is closed")
    ("read-timeout", po::value<double>()->value_name("SECONDS")->default_value(10),
     "seconds a web server may take to send a whole request")
    ("cors-origin", po::value<std::vector<std::string>>()->value_name("ORIGIN")->composing(),
     "an Origin allowed to read responses (CORS); repeatable; none by default")
    ("sse-keepalive", po::value<double>()->value_name("SECONDS")->default_value(15),
     "seconds between keep-alive lines on an idle SSE stream")
    ("sse-lifetime", po::value<double>()->value_name("SECONDS")->default_value(600),
     "seconds an SSE stream lasts before the gateway ends it (the browser reconnects "
     "with Last-Event-ID and loses nothing)")
    ("token-secret", po::value<std::vector<std::string>>()->value_name("SECRET")->composing(),
     "turn access control on: poll/sse channels need a token signed with SECRET "
     "(Comet::token; 16+ characters); repeat to accept several during a rotation; put it "
     "in the config file rather than on the command line")
    ("public-channel", po::value<std::vector<std::string>>()->value_name("PATTERN")->composing(),
     "with --token-secret, channels that need no token: an exact name or a prefix ending in "
     "* (public.*); repeatable. A poll or stream naming only such channels needs no token; one "
     "naming others too needs a token covering those")
    ("presence", po::value<std::vector<std::string>>()->value_name("PATTERN")->composing(),
     "with --token-secret, presence channels: an exact name or a prefix ending in * "
     "(presence-*); repeatable. A poll or stream there needs a token with a user; it gets the "
     "members, then their joins and leaves")
    ("presence-grace", po::value<double>()->value_name("SECONDS")->default_value(5),
     "seconds a user stays a member of a presence channel after its last request there ended "
     "(a client polling again within it stays without a leave and a join)")
    ("publish-secret", po::value<std::vector<std::string>>()->value_name("SECRET")->composing(),
     "allow POST .../publish to requests with Authorization: Bearer SECRET (16+ characters); "
     "repeatable; put it in the config file rather than on the command line")
    ("publish-allow", po::value<std::vector<std::string>>()->value_name("ADDR")->composing(),
     "allow POST .../publish from this client address or CIDR block (REMOTE_ADDR, e.g. "
     "127.0.0.1, 10.0.0.0/8, ::1); repeatable. Without this or --publish-secret, HTTP "
     "publishing is off (403)")
    ("webhook", po::value<std::vector<std::string>>()->value_name("URL")->composing(),
     "POST signed batches of channel events (occupied, vacated, member added and removed) "
     "to this http:// URL; repeatable, each URL gets every batch; needs --webhook-secret")
    ("webhook-secret", po::value<std::string>()->value_name("SECRET"),
     "key of the X-Comet-Signature HMAC-SHA256 on every webhook body (16+ characters; "
     "Comet::verifyWebhook checks it); put it in the config file")
    ("webhook-delay", po::value<double>()->value_name("SECONDS")->default_value(3),
     "seconds a channel or member change must last before a webhook reports it (a quick "
     "leave and rejoin reports nothing)")
    ("webhook-timeout", po::value<double>()->value_name("SECONDS")->default_value(5),
     "seconds one webhook POST may take, connect to answer; longer is a failed attempt")
    ("webhook-retry-for", po::value<double>()->value_name("SECONDS")->default_value(60),
     "seconds a webhook batch is retried (full-jitter backoff from 0.25 s to 15 s) until a "
     "2xx answer; then it is dropped, counted and logged")
    ("heartbeat-interval", po::value<double>()->value_name("SECONDS")->default_value(5),
     "seconds between Redis heartbeats; 3 missed ones mean the subscription is dead")
    ("shutdown-grace", po::value<double>()->value_name("SECONDS")->default_value(10),
     "seconds SIGTERM waits for answered requests to be written")
    ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"), "debug, info, warn or error");
  // clang-format on
  return d;
}

std::chrono::milliseconds seconds_option(const po::variables_map& vm, const char* name,
                                         double min_value) {
  const double s = vm[name].as<double>();
  if (!(s >= min_value) || s > 1e7) {
    throw std::runtime_error(std::string("--") + name + " must be at least " +
                             std::to_string(min_value) + " seconds");
  }
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// A repeatable option of channel patterns (names, or prefixes ending in
// "*"), which needs --token-secret (`secret`; `why` says why).
std::vector<std::string> channel_patterns(const po::variables_map& vm, const char* name,
                                          bool secret, const char* why) {
  if (!vm.count(name)) return {};
  auto patterns = vm[name].as<std::vector<std::string>>();
  for (const auto& p : patterns) {
    const std::string_view prefix =
        !p.empty() && p.back() == '*' ? std::string_view(p).substr(0, p.size() - 1) : p;
    if (!is_valid_channel_name(prefix)) {
      throw std::runtime_error(std::string("--") + name + " " + p +
                               ": not a channel name or a prefix ending in *");
    }
  }
  if (!secret) {
    throw std::runtime_error(std::string("--") + name + " needs --token-secret (" + why + ")");
  }
  return patterns;
}

std::size_t positive(const po::variables_map& vm, const char* name) {
  const auto v = vm[name].as<std::size_t>();
  if (v == 0) throw std::runtime_error(std::string("--") + name + " must be at least 1");
  return v;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  const auto options = make_options();
  po::variables_map vm;
  CommandLine cl;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::ostringstream os;
      os << "comet-gateway " << COMET_VERSION
         << ": a Comet long-polling gateway, run as a FastCGI responder.\n"
         << "Usage: comet-gateway [--config FILE] [--listen ADDR]... [--redis URL] [options]\n\n"
         << options;
      cl.action = CommandLine::Action::help;
      cl.text = os.str();
      return cl;
    }
    if (vm.count("version")) {
      cl.action = CommandLine::Action::version;
      cl.text = std::string("comet-gateway ") + COMET_VERSION + "\n";
      return cl;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw std::runtime_error("cannot read config file " + path);
      // The command line wins, repeatable flags too: a --listen given there
      // replaces the file's listeners rather than adding to them (one
      // config file for several instances, each with a --listen of its own).
      po::variables_map from_file;
      po::store(po::parse_config_file(in, options), from_file);
      auto& values = static_cast<std::map<std::string, po::variable_value>&>(vm);
      for (auto& [name, value] : from_file) {
        auto it = values.find(name);
        if (it == values.end() || it->second.defaulted()) values[name] = value;
      }
      cl.config.config_file = path;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(e.what());
  }

  Config& c = cl.config;
  c.args.assign(argv, argv + argc);
  if (vm.count("listen")) c.listen = vm["listen"].as<std::vector<std::string>>();
  if (c.listen.empty()) c.listen.push_back("127.0.0.1:9000");
  {
    const auto& text = vm["listen-mode"].as<std::string>();
    unsigned mode = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || mode > 0777) {
      throw std::runtime_error("--listen-mode must be octal permission bits such as 0660, not \"" +
                               text + "\"");
    }
    c.listen_mode = mode;
  }
  if (vm.count("listen-group")) c.listen_group = vm["listen-group"].as<std::string>();
  if (vm.count("listen-allow")) {
    c.listen_allow = vm["listen-allow"].as<std::vector<std::string>>();
    for (const auto& a : c.listen_allow) {
      if (!AddressRange::parse(a)) {
        throw std::runtime_error("--listen-allow: \"" + a +
                                 "\" is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1)");
      }
    }
  }
  try {
    c.redis = parse_redis_url(vm["redis"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--redis: ") + e.what());
  }
  c.prefix = vm["prefix"].as<std::string>();
  c.poll.default_timeout = seconds_option(vm, "default-timeout", 0);
  c.poll.max_timeout = seconds_option(vm, "max-timeout", 0);
  c.poll.default_timeout = std::min(c.poll.default_timeout, c.poll.max_timeout);
  c.poll.max_channels = positive(vm, "max-channels");
  // A cursor carries at most one durable position per channel, and no
  // gateway issues (or parses) one with more than 4,096.
  if (c.poll.max_channels > 4096) throw std::runtime_error("--max-channels must be at most 4096");
  c.hub.timeout_jitter = vm["timeout-jitter"].as<double>();
  if (!(c.hub.timeout_jitter >= 0 && c.hub.timeout_jitter <= 0.5))
    throw std::runtime_error("--timeout-jitter must be between 0 and 0.5");
  c.hub.max_waiters = positive(vm, "max-parked");
  c.clients.max_parked = positive(vm, "max-parked-per-client");
  c.clients.max_channel_refs = positive(vm, "max-channels-per-client");
  if (c.clients.max_channel_refs < c.poll.max_channels) {
    throw std::runtime_error(
        "--max-channels-per-client must be at least --max-channels (one request's channels)");
  }
  c.hub.max_channels = positive(vm, "max-channels-total");
  c.hub.max_buffered_bytes = positive(vm, "buffer-bytes-total");
  c.fcgi.max_write_queue_bytes = positive(vm, "max-write-queue-bytes");
  c.fcgi.max_write_queue_bytes_total = positive(vm, "max-write-queue-bytes-total");
  c.hub.buffer_max_messages = positive(vm, "buffer-messages");
  c.hub.buffer_max_bytes = positive(vm, "buffer-bytes");
  c.hub.buffer_max_age = seconds_option(vm, "buffer-age", 1);
  c.hub.batch_max_messages = positive(vm, "batch-messages");
  c.hub.batch_max_bytes = positive(vm, "batch-bytes");
  c.max_reads_per_poll = positive(vm, "max-reads-per-poll");
  c.stream_reads.max_reads = positive(vm, "max-stream-reads");
  c.stream_reads.max_bytes = positive(vm, "max-stream-read-bytes");
  c.fcgi.max_connections = positive(vm, "max-connections");
  c.fcgi.max_requests_per_connection = positive(vm, "max-requests-per-connection");
  c.fcgi.max_params_bytes = positive(vm, "max-params-bytes");
  // Params are indexed with 32-bit offsets; no web server sends more than
  // a few KB of them.
  if (c.fcgi.max_params_bytes > (std::size_t{1} << 30))
    throw std::runtime_error("--max-params-bytes must be at most 1 GiB");
  c.fcgi.max_stdin_bytes = positive(vm, "max-body-bytes");
  c.fcgi.read_timeout = seconds_option(vm, "read-timeout", 0.1);
  if (vm.count("cors-origin")) c.cors_origins = vm["cors-origin"].as<std::vector<std::string>>();
  if (vm.count("token-secret")) {
    c.token_secrets = vm["token-secret"].as<std::vector<std::string>>();
    for (const auto& secret : c.token_secrets) {
      if (secret.size() < 16)
        throw std::runtime_error("--token-secret must be at least 16 characters");
    }
  }
  // "*" alone would open every channel (then no --token-secret at all), or
  // make every channel a presence channel.
  c.public_channels = channel_patterns(vm, "public-channel", !c.token_secrets.empty(),
                                       "without it every channel is open");
  c.presence_channels = channel_patterns(vm, "presence", !c.token_secrets.empty(),
                                         "the members are the users the tokens name");
  c.presence_grace = seconds_option(vm, "presence-grace", 0.1);
  if (vm.count("publish-secret"))
    c.publish_secrets = vm["publish-secret"].as<std::vector<std::string>>();
  if (vm.count("publish-allow"))
    c.publish_allow = vm["publish-allow"].as<std::vector<std::string>>();
  try {
    PublishAccess check(c.publish_secrets, c.publish_allow);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--publish-secret/--publish-allow: ") + e.what());
  }
  if (vm.count("webhook")) {
    for (const auto& url : vm["webhook"].as<std::vector<std::string>>()) {
      try {
        c.webhook.urls.push_back(parse_webhook_url(url));
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("--webhook ") + e.what());
      }
    }
  }
  if (vm.count("webhook-secret")) c.webhook.secret = vm["webhook-secret"].as<std::string>();
  if (!c.webhook.urls.empty() && c.webhook.secret.empty())
    throw std::runtime_error(
        "--webhook needs --webhook-secret (the receiver checks the signature)");
  if (!c.webhook.secret.empty() && c.webhook.secret.size() < 16)
    throw std::runtime_error("--webhook-secret must be at least 16 characters");
  c.webhook.delay = seconds_option(vm, "webhook-delay", 0);
  c.webhook.timeout = seconds_option(vm, "webhook-timeout", 0.1);
  c.webhook.queue.retry_for = seconds_option(vm, "webhook-retry-for", 0);
  c.heartbeat_interval = seconds_option(vm, "heartbeat-interval", 0.05);
  c.sse_keepalive = seconds_option(vm, "sse-keepalive", 1);
  c.sse_lifetime = seconds_option(vm, "sse-lifetime", 1);
  c.shutdown_grace = seconds_option(vm, "shutdown-grace", 0);
  try {
    c.log_level = parse_log_level(vm["log-level"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--log-level: ") + e.what());
  }
  return cl;
}

}  // namespace comet
