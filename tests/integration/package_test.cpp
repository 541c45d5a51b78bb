// The Debian package (deploy/CMakeLists.txt, deploy/debian/): built with
// cpack from this build tree, its contents and maintainer scripts, lintian,
// the man page against --help, and a whole life on this machine: dpkg -i,
// the user, the conffile, the unit enabled and not started, the installed
// binary started as the unit starts it (its User=, groups, runtime
// directory and ExecStart=), answering over FastCGI, then dpkg --purge
// leaving nothing behind.
//
// Label `package`, run alone (RUN_SERIAL): installing changes the machine.
// The install test needs root and a machine without comet-gateway
// installed; it skips, saying why, otherwise.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/fcgi_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = COMET_SOURCE_DIR;
const std::string kUnitPath = "/lib/systemd/system/comet-gateway.service";
const std::string kConfPath = "/etc/comet-gateway/comet-gateway.conf";
const std::string kWantsLink = "/etc/systemd/system/multi-user.target.wants/comet-gateway.service";

// Every file of the package (directories left out), as dpkg-deb -c names them.
const std::set<std::string> kExpectedFiles = {
    "./etc/comet-gateway/comet-gateway.conf",
    "./lib/systemd/system/comet-gateway.service",
    "./lib/systemd/system/comet-gateway@.service",
    "./usr/bin/comet-gateway",
    "./usr/share/comet-gateway/clients/js/comet-echo.d.ts",
    "./usr/share/comet-gateway/clients/js/comet-echo.js",
    "./usr/share/comet-gateway/clients/js/comet.d.mts",
    "./usr/share/comet-gateway/clients/js/comet.d.ts",
    "./usr/share/comet-gateway/clients/js/comet.js",
    "./usr/share/comet-gateway/clients/js/comet.mjs",
    "./usr/share/comet-gateway/clients/php/Comet.php",
    "./usr/share/comet-gateway/clients/php/laravel/CometBroadcastServiceProvider.php",
    "./usr/share/comet-gateway/clients/php/laravel/CometBroadcaster.php",
    "./usr/share/comet-gateway/examples/Caddyfile",
    "./usr/share/comet-gateway/examples/apache-comet.conf",
    "./usr/share/comet-gateway/examples/comet-gateway.conf",
    "./usr/share/comet-gateway/examples/demo/common.php",
    "./usr/share/comet-gateway/examples/demo/index.html",
    "./usr/share/comet-gateway/examples/demo/send.php",
    "./usr/share/comet-gateway/examples/demo/token.php",
    "./usr/share/comet-gateway/examples/lighttpd-comet.conf",
    "./usr/share/comet-gateway/examples/nginx.conf.example",
    "./usr/share/comet-gateway/redis/README.md",
    "./usr/share/comet-gateway/redis/comet.lua",
    "./usr/share/comet-gateway/redis/comet_presence.lua",
    "./usr/share/doc/comet-gateway/API.md",
    "./usr/share/doc/comet-gateway/README.md",
    "./usr/share/doc/comet-gateway/changelog.gz",
    "./usr/share/doc/comet-gateway/copyright",
    "./usr/share/lintian/overrides/comet-gateway",
    "./usr/share/man/man1/comet-gateway.1.gz",
};

RunResult must_run(std::vector<std::string> args, const std::string& dir,
                   std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  std::string what;
  for (const auto& a : args) what += (what.empty() ? "" : " ") + a;
  RunResult r = run(std::move(args), dir, timeout);
  if (r.status != 0) {
    throw std::runtime_error(what + " exited " + std::to_string(r.status) + "\n" + r.out + r.err);
  }
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string architecture(const std::string& dir) {
  return trim(must_run({"dpkg", "--print-architecture"}, dir).out);
}

// Builds the package from this build tree into dir; returns its path.
std::string build_package(const TempDir& dir) {
  must_run(
      {"cpack", "--config", std::string(COMET_BUILD_DIR) + "/CPackConfig.cmake", "-B", dir.path()},
      dir.path(), std::chrono::seconds(300));
  const std::string deb = dir.file("comet-gateway_" + std::string(COMET_VERSION) + "_" +
                                   architecture(dir.path()) + ".deb");
  if (!fs::exists(deb)) throw std::runtime_error("cpack made no " + deb);
  return deb;
}

// The [Service] and [Unit] settings of a unit file, "Key" -> values in order.
std::map<std::string, std::vector<std::string>> unit_settings(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)].push_back(line.substr(eq + 1));
  }
  return out;
}

std::string single(const std::map<std::string, std::vector<std::string>>& settings,
                   const std::string& key) {
  auto it = settings.find(key);
  if (it == settings.end() || it->second.size() != 1) {
    throw std::runtime_error("the unit has no single " + key + "=");
  }
  return it->second.front();
}

bool package_known_to_dpkg(const std::string& dir) {
  return run({"dpkg-query", "-W", "comet-gateway"}, dir, std::chrono::seconds(30)).status == 0;
}

bool user_exists(const std::string& name) {
  return ::getpwnam(name.c_str()) != nullptr;
}
bool group_exists(const std::string& name) {
  return ::getgrnam(name.c_str()) != nullptr;
}

// Whether `user` (with its primary and supplementary groups) may connect to
// the Unix socket at path: tried in a child that takes on that identity.
bool connects_as(const std::string& user, const std::string& path) {
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("no user " + user);
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  std::vector<gid_t> groups(64);
  int n = static_cast<int>(groups.size());
  if (::getgrouplist(user.c_str(), gid, groups.data(), &n) < 0) {
    throw std::runtime_error("too many groups for " + user);
  }
  groups.resize(static_cast<std::size_t>(n));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(2);
    }
    ::_exit(unix_accepts(path) ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 2) {
    throw std::runtime_error("could not become " + user);
  }
  return WEXITSTATUS(status) == 0;
}

// pids of running processes whose executable is path.
std::vector<int> processes_running(const std::string& path) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::error_code ec;
    if (fs::read_symlink(e.path() / "exe", ec) == path) out.push_back(std::stoi(name));
  }
  return out;
}

TEST(Package, ContentsFieldsAndMaintainerScripts) {
  TempDir dir;
  const std::string deb = build_package(dir);

  // Files, with the conffile readable by root (and, after postinst, the
  // service's group) only.
  std::set<std::string> files;
  std::map<std::string, std::string> modes;
  std::istringstream listing(must_run({"dpkg-deb", "-c", deb}, dir.path()).out);
  for (std::string line; std::getline(listing, line);) {
    const auto w = words(line);
    ASSERT_GE(w.size(), 6u) << line;
    EXPECT_EQ(w[1], "root/root") << line;
    if (w[0][0] == 'd') continue;
    files.insert(w[5]);
    modes[w[5]] = w[0];
  }
  EXPECT_EQ(files, kExpectedFiles);
  EXPECT_EQ(modes["./etc/comet-gateway/comet-gateway.conf"], "-rw-r-----");
  EXPECT_EQ(modes["./usr/bin/comet-gateway"], "-rwxr-xr-x");

  // Fields.
  const auto field = [&](const std::string& name) {
    return trim(must_run({"dpkg-deb", "-f", deb, name}, dir.path()).out);
  };
  EXPECT_EQ(field("Package"), "comet-gateway");
  EXPECT_EQ(field("Version"), COMET_VERSION);
  EXPECT_EQ(field("Architecture"), architecture(dir.path()));
  EXPECT_EQ(field("Section"), "net");
  // Depends: what postinst uses and what dpkg-shlibdeps found the binary
  // linked with.
  const std::string depends = field("Depends");
  std::set<std::string> depended;
  std::istringstream each(depends);
  for (std::string dep; std::getline(each, dep, ',');) depended.insert(words(dep).at(0));
  EXPECT_EQ(depended,
            (std::set<std::string>{"adduser", "libboost-program-options1.74.0", "libc6",
                                   "libgcc-s1", "libhiredis0.14", "libssl3", "libstdc++6"}))
      << depends;

  // Control files: the maintainer scripts as written in deploy/debian/.
  const std::string info = must_run({"dpkg-deb", "-I", deb}, dir.path()).out;
  for (const char* name : {"conffiles", "control", "md5sums", "postinst", "postrm", "prerm"}) {
    EXPECT_NE(info.find(std::string(" ") + name + " "), std::string::npos) << name << "\n" << info;
  }
  EXPECT_EQ(must_run({"dpkg-deb", "-I", deb, "conffiles"}, dir.path()).out, kConfPath + "\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    EXPECT_EQ(must_run({"dpkg-deb", "-I", deb, script}, dir.path()).out,
              read_file(kSource + "/deploy/debian/" + script))
        << script;
  }
  // Enabled, never started, by the install; an upgrade only restarts a
  // running gateway.
  const std::string postinst = read_file(kSource + "/deploy/debian/postinst");
  EXPECT_NE(postinst.find("deb-systemd-helper enable"), std::string::npos);
  EXPECT_EQ(postinst.find("invoke start"), std::string::npos);
  EXPECT_EQ(postinst.find("systemctl start"), std::string::npos);

  // The changelog's version is the package's.
  const std::string changelog = read_file(kSource + "/deploy/debian/changelog");
  EXPECT_EQ(changelog.rfind("comet-gateway (" + std::string(COMET_VERSION) + ") ", 0), 0u)
      << changelog.substr(0, changelog.find('\n'));
}

TEST(Package, LintianIsCleanOrOverriddenWithAReason) {
  TempDir dir;
  const std::string deb = build_package(dir);
  // Errors, warnings and informational tags fail, unless overridden (each
  // with its reason in deploy/debian/lintian-overrides).
  RunResult r = run({"lintian", "--display-info", "--fail-on", "error,warning,info", deb},
                    dir.path(), std::chrono::seconds(300));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_FALSE(line.rfind("E:", 0) == 0 || line.rfind("W:", 0) == 0 || line.rfind("I:", 0) == 0)
        << line;
  }
  // Every override comes with a comment.
  std::istringstream overrides(read_file(kSource + "/deploy/debian/lintian-overrides"));
  bool commented = false;
  for (std::string line; std::getline(overrides, line);) {
    if (line.rfind("#", 0) == 0) {
      commented = true;
    } else if (!trim(line).empty()) {
      EXPECT_TRUE(commented) << "override without a reason: " << line;
      commented = false;
    }
  }
}

// The options and their descriptions in --help, whitespace left out:
// "--name" -> description.
std::map<std::string, std::string> help_options(const std::string& help) {
  std::map<std::string, std::string> out;
  std::string current;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  -", 0) == 0) {
      auto w = words(line);
      current = w[0] == "-h" ? "--help" : w[0];
      // The description after the option's column (40), when on this line.
      std::string rest = line.size() > 40 && line[39] == ' ' ? line.substr(40) : "";
      out[current] = "";
      line = rest;
    } else if (current.empty() || line.rfind("   ", 0) != 0) {
      continue;
    }
    for (char c : line) {
      if (!std::isspace(static_cast<unsigned char>(c))) out[current] += c;
    }
  }
  return out;
}

TEST(Package, ManPageSaysWhatHelpSays) {
  TempDir dir;
  const std::string help = must_run({COMET_BINARY, "--help"}, dir.path()).out;
  const std::string page = std::string(COMET_BUILD_DIR) + "/deploy/comet-gateway.1";
  const std::string roff = read_file(page);
  // man renders it without a warning.
  RunResult man = run({"man", "--warnings", "-l", page}, dir.path(), std::chrono::seconds(60),
                      {"MANWIDTH=80", "LC_ALL=C.UTF-8"});
  EXPECT_EQ(man.status, 0) << man.err;
  EXPECT_EQ(man.err, "");

  // Each option of --help, as a .TP entry with the same description.
  std::map<std::string, std::string> in_page;
  std::istringstream in(roff);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const auto plain = [](std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        const char c = s[++i];
        if (c == '-') out += '-';
        if (c == 'e') out += '\\';
        if (c == 'f') ++i;  // \fB \fI \fR
        continue;           // \: \&
      }
      if (!std::isspace(static_cast<unsigned char>(s[i]))) out += s[i];
    }
    return out;
  };
  for (std::size_t i = 0; i + 2 < lines.size(); ++i) {
    if (lines[i] != ".TP") continue;
    std::string head = plain(lines[i + 1]);
    const std::string name =
        head.rfind("-h,", 0) == 0
            ? "--help"
            : head.substr(0, head.find_first_not_of("-abcdefghijklmnopqrstuvwxyz"));
    in_page[name] = plain(lines[i + 2]);
  }
  const auto expected = help_options(help);
  ASSERT_GT(expected.size(), 20u) << help;
  for (const auto& [name, description] : expected) {
    ASSERT_TRUE(in_page.count(name)) << name << " is not in the man page";
    EXPECT_EQ(in_page[name], description) << name;
  }
  // The wrapped lines are joined back with the spaces --help had (Boost
  // cut "fastcgi_read_timeout" across two lines; the page must not).
  EXPECT_NE(roff.find("fastcgi_read_timeout, 60 s by default"), std::string::npos);
  EXPECT_EQ(roff.find("fastcgi_read_timeou t"), std::string::npos);
}

TEST(Package, SourceInstallPointsTheUnitAtItsPrefixAndKeepsTheConfig) {
  TempDir dir;
  const std::string prefix = dir.path() + "/usr/local";
  must_run({"cmake", "--install", COMET_BUILD_DIR, "--prefix", prefix}, dir.path());
  const std::string conf = prefix + "/etc/comet-gateway/comet-gateway.conf";
  const std::string unit_file = prefix + "/lib/systemd/system/comet-gateway.service";
  for (const std::string& path : {prefix + "/bin/comet-gateway", conf, unit_file,
                                  prefix + "/share/man/man1/comet-gateway.1.gz",
                                  prefix + "/share/comet-gateway/redis/comet.lua",
                                  prefix + "/share/comet-gateway/redis/comet_presence.lua",
                                  prefix + "/share/comet-gateway/clients/php/Comet.php",
                                  prefix + "/share/comet-gateway/clients/js/comet.js",
                                  prefix + "/share/comet-gateway/clients/js/comet.mjs",
                                  prefix + "/share/comet-gateway/clients/js/comet.d.ts",
                                  prefix + "/share/comet-gateway/examples/comet-gateway.conf",
                                  prefix + "/share/doc/comet-gateway/README.md"}) {
    EXPECT_TRUE(fs::is_regular_file(path)) << path;
  }
  const auto unit = unit_settings(read_file(unit_file));
  EXPECT_EQ(single(unit, "ExecStart"), prefix + "/bin/comet-gateway --config " + conf);
  EXPECT_EQ(unit.at("Documentation").back(),
            "file://" + prefix + "/share/doc/comet-gateway/README.md");
  struct stat st {};
  ASSERT_EQ(::stat(conf.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // Installing again keeps the administrator's config file.
  write_file(conf, "# edited\n");
  must_run({"cmake", "--install", COMET_BUILD_DIR, "--prefix", prefix}, dir.path());
  EXPECT_EQ(read_file(conf), "# edited\n");
}

// What the install test leaves on the machine, removed however it ends
// (the test only runs when neither the package nor the user was there).
struct Uninstall {
  std::string dir;
  std::vector<std::string> runtime_dirs;
  ~Uninstall() {
    for (const auto& runtime_dir : runtime_dirs) {
      std::error_code ec;
      fs::remove_all(runtime_dir, ec);
    }
    try {
      if (package_known_to_dpkg(dir)) {
        run({"dpkg", "--purge", "comet-gateway"}, dir, std::chrono::seconds(120));
      }
      if (user_exists("comet-gateway")) {
        run({"deluser", "--system", "--quiet", "comet-gateway"}, dir, std::chrono::seconds(60));
      }
      if (group_exists("comet-gateway")) {
        run({"delgroup", "--system", "--quiet", "comet-gateway"}, dir, std::chrono::seconds(60));
      }
    } catch (const std::exception&) {
    }
  }
};

TEST(Package, InstallsStartsAsTheUnitSaysAndPurgesWithoutATrace) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root: dpkg -i needs root (CI runs the tests as root)";
  TempDir dir;
  if (package_known_to_dpkg(dir.path())) {
    GTEST_SKIP() << "comet-gateway is installed on this machine: the test would remove it";
  }
  if (user_exists("comet-gateway") || group_exists("comet-gateway")) {
    GTEST_SKIP() << "a comet-gateway user or group exists already: the test would delete it";
  }
  const std::string deb = build_package(dir);
  Uninstall uninstall{dir.path(), {}};

  must_run({"dpkg", "-i", deb}, dir.path());
  const std::vector<std::string> installed = [&] {
    std::vector<std::string> out;
    std::istringstream in(must_run({"dpkg", "-L", "comet-gateway"}, dir.path()).out);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }();

  // The system user and group; the conffile theirs to read, no one else's.
  const passwd* user = ::getpwnam("comet-gateway");
  const group* grp = ::getgrnam("comet-gateway");
  ASSERT_NE(user, nullptr);
  ASSERT_NE(grp, nullptr);
  EXPECT_LT(user->pw_uid, 1000u) << "not a system user";
  EXPECT_EQ(user->pw_gid, grp->gr_gid);
  EXPECT_STREQ(user->pw_dir, "/nonexistent");
  struct stat st {};
  ASSERT_EQ(::stat(kConfPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, grp->gr_gid);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // Enabled, not started.
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink(kWantsLink, ec), kUnitPath) << ec.message();
  EXPECT_TRUE(processes_running("/usr/bin/comet-gateway").empty());

  // The installed unit checks out (systemd-analyze needs no running systemd;
  // it also finds the man page its Documentation= names).
  RunResult verify =
      run({"systemd-analyze", "verify", kUnitPath}, dir.path(), std::chrono::seconds(60));
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.err, "");

  // Started as systemd would start it: the unit's ExecStart= with the
  // packaged config, as its User= and Group= with its SupplementaryGroups=,
  // in its RuntimeDirectory= and UMask=. The Redis address is the one thing
  // overridden, on the command line (which wins over the config file).
  const auto unit = unit_settings(read_file(kUnitPath));
  const std::string user_name = single(unit, "User");
  const std::string group_name = single(unit, "Group");
  const std::string runtime_dir = "/run/" + single(unit, "RuntimeDirectory");
  const unsigned runtime_mode = std::stoul(single(unit, "RuntimeDirectoryMode"), nullptr, 8);
  const std::string groups = unit.count("SupplementaryGroups")
                                 ? "--groups=" + single(unit, "SupplementaryGroups")
                                 : "--clear-groups";
  ASSERT_FALSE(fs::exists(runtime_dir)) << runtime_dir << " exists: something started it";
  uninstall.runtime_dirs.push_back(runtime_dir);
  fs::create_directory(runtime_dir);
  ASSERT_EQ(::chown(runtime_dir.c_str(), user->pw_uid, grp->gr_gid), 0);
  ASSERT_EQ(::chmod(runtime_dir.c_str(), runtime_mode), 0);

  RedisServer redis(dir.subdir("redis"));
  std::vector<std::string> args = {"setpriv",
                                   "--reuid=" + user_name,
                                   "--regid=" + group_name,
                                   groups,
                                   "--no-new-privs",
                                   "--",
                                   "sh",
                                   "-c",
                                   "umask " + single(unit, "UMask") + " && exec \"$0\" \"$@\""};
  for (const auto& w : words(single(unit, "ExecStart"))) args.push_back(w);
  ASSERT_EQ(args[9], "/usr/bin/comet-gateway");
  args.push_back("--redis");
  args.push_back(redis.url());
  ProcessOptions options;
  options.log_dir = dir.path();
  options.name = "comet-gateway";
  auto gateway = std::make_unique<Process>(args, options);

  // The packaged config's socket: the web server's group may connect, no
  // one else.
  const std::string socket = runtime_dir + "/comet.sock";
  ASSERT_TRUE(wait_until([&] { return unix_accepts(socket) || !gateway->running(); },
                         std::chrono::seconds(10)))
      << gateway->output();
  ASSERT_TRUE(gateway->running()) << gateway->output();
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user->pw_uid);
  EXPECT_EQ(st.st_gid, ::getgrnam("www-data")->gr_gid);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_TRUE(connects_as("www-data", socket));
  EXPECT_FALSE(connects_as("nobody", socket));

  // It answers over FastCGI, with Redis up.
  HttpResponse health;
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = fcgi::request(fcgi::Connection::unix_socket(socket),
                               fcgi::request_params("GET", "/comet/health", ""),
                               std::chrono::seconds(5));
        health = fcgi::parse_cgi_response(r.out);
        return health.status == 200;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100)))
      << health.status << " " << health.body << "\n"
      << gateway->output();
  EXPECT_NE(health.body.find("\"redis\":\"up\""), std::string::npos) << health.body;

  // Stopped by its pid, as systemd stops it (SIGTERM: exit 0).
  gateway->signal(SIGTERM);
  auto status = gateway->wait_exit(std::chrono::seconds(15));
  EXPECT_EQ(status, std::optional<int>(0)) << gateway->output();
  gateway.reset();
  fs::remove_all(runtime_dir);

  // The per-core template: two instances side by side on the packaged
  // config, each on the socket of its own --listen (which replaces the
  // config file's), in a runtime directory of its own.
  const std::string template_path = "/lib/systemd/system/comet-gateway@.service";
  RunResult verify_template = run({"systemd-analyze", "verify", "comet-gateway@1.service"},
                                  dir.path(), std::chrono::seconds(60));
  EXPECT_EQ(verify_template.status, 0) << verify_template.out << verify_template.err;
  EXPECT_EQ(verify_template.err, "");
  const auto tmpl = unit_settings(read_file(template_path));
  EXPECT_EQ(single(tmpl, "RuntimeDirectory"), "comet-gateway-%i");
  std::vector<std::unique_ptr<Process>> instances;
  // Looked up again: getpwnam's buffer has served other users since.
  const uid_t service_uid = ::getpwnam(user_name.c_str())->pw_uid;
  const gid_t service_gid = ::getgrnam(group_name.c_str())->gr_gid;
  for (const std::string n : {"1", "2"}) {
    const std::string instance_dir = "/run/comet-gateway-" + n;
    uninstall.runtime_dirs.push_back(instance_dir);
    fs::create_directory(instance_dir);
    ASSERT_EQ(::chown(instance_dir.c_str(), service_uid, service_gid), 0);
    ASSERT_EQ(::chmod(instance_dir.c_str(), runtime_mode), 0);
    std::vector<std::string> a(args.begin(), args.begin() + 9);  // setpriv ... sh -c umask
    for (auto w : words(single(tmpl, "ExecStart"))) {
      for (auto at = w.find("%i"); at != std::string::npos; at = w.find("%i")) w.replace(at, 2, n);
      a.push_back(w);
    }
    a.push_back("--redis");
    a.push_back(redis.url());
    ProcessOptions po;
    po.log_dir = dir.path();
    po.name = "comet-gateway-" + n;
    instances.push_back(std::make_unique<Process>(a, po));
  }
  for (std::size_t k = 0; k < instances.size(); ++k) {
    const std::string sock = "/run/comet-gateway-" + std::to_string(k + 1) + "/comet.sock";
    EXPECT_TRUE(wait_until([&] { return unix_accepts(sock) || !instances[k]->running(); },
                           std::chrono::seconds(10)))
        << instances[k]->output();
    EXPECT_TRUE(instances[k]->running()) << instances[k]->output();
  }
  EXPECT_FALSE(fs::exists(runtime_dir + "/comet.sock")) << "an instance took the config's socket";
  for (auto& instance : instances) {
    instance->signal(SIGTERM);
    EXPECT_EQ(instance->wait_exit(std::chrono::seconds(15)), std::optional<int>(0))
        << instance->output();
  }
  instances.clear();

  // Purged: no file, user, group, enable state or config left.
  must_run({"dpkg", "--purge", "comet-gateway"}, dir.path());
  EXPECT_FALSE(package_known_to_dpkg(dir.path()));
  for (const auto& path : installed) {
    if (path == "/." || fs::is_directory(path)) continue;
    EXPECT_FALSE(fs::exists(fs::symlink_status(path))) << path << " is left";
  }
  for (const char* path :
       {"/etc/comet-gateway", "/usr/share/comet-gateway", "/usr/share/doc/comet-gateway",
        "/etc/systemd/system/multi-user.target.wants/comet-gateway.service",
        "/etc/systemd/system/comet-gateway.service",
        "/var/lib/systemd/deb-systemd-helper-enabled/comet-gateway.service.dsh-also",
        "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/comet-gateway.service",
        "/var/lib/systemd/deb-systemd-helper-masked/comet-gateway.service"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(path))) << path << " is left";
  }
  EXPECT_FALSE(user_exists("comet-gateway"));
  EXPECT_FALSE(group_exists("comet-gateway"));
}

}  // namespace
}  // namespace comet::test
