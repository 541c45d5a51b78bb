#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

extern char** environ;

namespace comet::test {

namespace {

std::atomic<int> g_counter{0};

std::string basename_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

// Writes a message to fd 2 without allocating (used between fork and exec).
void child_fail(const char* what, const char* arg) {
  const char* err = std::strerror(errno);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, arg, std::strlen(arg));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, err, std::strlen(err));
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

}  // namespace

Process::Process(std::vector<std::string> args, ProcessOptions options)
    : args_(std::move(args)), options_(std::move(options)) {
  if (args_.empty()) throw std::invalid_argument("Process: empty argv");
  if (options_.log_dir.empty()) throw std::invalid_argument("Process: log_dir required");
  name_ = options_.name.empty() ? basename_of(args_[0]) : options_.name;
  // Unique even when the same name is started twice in one test (a restart).
  std::string base = options_.log_dir + "/" + name_;
  if (::access((base + ".err").c_str(), F_OK) == 0) {
    base += "." + std::to_string(++g_counter);
  }
  out_path_ = base + ".out";
  err_path_ = base + ".err";

  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are made.
  std::vector<char*> argv;
  for (auto& a : args_) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    bool overridden = false;
    for (const auto& o : options_.env) {
      if (eq != std::string::npos && o.compare(0, eq + 1, kv, 0, eq + 1) == 0) overridden = true;
    }
    if (!overridden) env_store.push_back(kv);
  }
  for (const auto& o : options_.env) env_store.push_back(o);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "open log files in " + options_.log_dir);
  }
  const pid_t parent = ::getpid();
  const char* cwd = options_.cwd.empty() ? nullptr : options_.cwd.c_str();

  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the test died before prctl
    // A signal mask or ignored signals inherited from the test runner would
    // change how servers react to SIGTERM/SIGPIPE: reset them.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (cwd && ::chdir(cwd) != 0) child_fail("chdir ", cwd);
    ::execvpe(argv[0], argv.data(), envp.data());
    child_fail("exec ", argv[0]);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  pid_ = pid;
}

Process::~Process() {
  try {
    stop();
  } catch (...) {
  }
}

bool Process::reap(bool block) {
  if (status_) return true;
  // Observe the exit without reaping first: while the leader is a zombie its
  // pid (and so its process group id) cannot be reused, so whatever it left
  // in its group (e.g. nginx workers after a killed master) can be killed
  // by group id without any risk of hitting an unrelated process.
  siginfo_t info{};
  for (;;) {
    info.si_pid = 0;
    int r =
        ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
    if (r == 0) break;
    if (errno == EINTR) continue;
    status_ = -1;  // not our child any more: nothing to wait for
    return true;
  }
  if (info.si_pid == 0) return false;  // still running
  ::kill(-pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st)) {
    status_ = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    status_ = 128 + WTERMSIG(st);
  } else {
    status_ = -1;
  }
  return true;
}

bool Process::running() {
  return !reap(false);
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return reap(false); }, timeout);
  return status_;
}

std::optional<int> Process::stop() {
  if (pid_ <= 0) return status_;
  if (running()) {
    ::kill(pid_, options_.stop_signal);
    if (!wait_exit(options_.stop_timeout)) {
      ::kill(-pid_, SIGKILL);  // the group we created for it; the leader is unreaped
      reap(true);
    }
  }
  return status_;
}

std::string Process::stdout_text() const {
  return read_file(out_path_);
}
std::string Process::stderr_text() const {
  return read_file(err_path_);
}

std::string Process::output() const {
  return "--- " + name_ + " stdout ---\n" + stdout_text() + "--- " + name_ + " stderr ---\n" +
         stderr_text();
}

RunResult run(std::vector<std::string> args, const std::string& log_dir,
              std::chrono::milliseconds timeout, std::vector<std::string> env) {
  ProcessOptions opt;
  opt.log_dir = log_dir;
  opt.env = std::move(env);
  std::string what = args.empty() ? std::string() : args[0];
  Process p(std::move(args), opt);
  auto st = p.wait_exit(timeout);
  if (!st) {
    p.stop();
    throw std::runtime_error(what + " did not finish in time\n" + p.output());
  }
  return RunResult{*st, p.stdout_text(), p.stderr_text()};
}

}  // namespace comet::test
