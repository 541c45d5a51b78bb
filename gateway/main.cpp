// comet-gateway: parse flags, start the gateway, run its event loop.
#include <boost/asio/io_context.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "gateway/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log.hpp"

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
  comet::set_log_level(cl.config.log_level);
  // A web server closing a connection mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    boost::asio::io_context io(1);
    comet::Gateway gateway(io, std::move(cl.config));
    gateway.start();
    io.run();
  } catch (const std::exception& e) {
    comet::log(comet::LogLevel::error, "main", e.what());
    return 1;
  }
  return 0;
}
