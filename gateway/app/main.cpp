// comet-gateway: parse flags, start the gateway, run its event loop.
#include <sys/resource.h>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "gateway/app/config.hpp"
#include "gateway/app/gateway.hpp"
#include "gateway/util/log.hpp"

int main(int argc, char** argv) {
  comet::CommandLine cl;
  try {
    cl = comet::parse_command_line(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "comet-gateway: " << e.what() << "\nTry 'comet-gateway --help'.\n";
    return 2;
  }
  if (cl.action != comet::CommandLine::Action::run) {
    std::cout << cl.text;
    return 0;
  }
  comet::Logger logger(cl.config.log_level);
  // Each parked request holds a socket: lift the soft open-files limit to
  // the hard one (a systemd unit sets LimitNOFILE for both).
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    logger.log(comet::LogLevel::info, "main",
               "open files limit " + std::to_string(rl.rlim_cur) + " (about " +
                   std::to_string(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0) +
                   " FastCGI connections)");
  }
  // A web server closing a connection mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    boost::asio::io_context io(1);
    comet::Gateway gateway(io, std::move(cl.config), logger);
    gateway.start();
    io.run();
  } catch (const std::exception& e) {
    logger.log(comet::LogLevel::error, "main", e.what());
    return 1;
  }
  return 0;
}
