// The real express-session + connect-redis app (tests/peers/express-app) as a child process: started with
// node on a free loopback port against a given Redis, stopped by its PID.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

extern char** environ;

namespace gatehouse::testing::session {

inline std::filesystem::path expressAppDir() {
  return std::filesystem::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers" / "express-app";
}

// The absolute path of an executable found on PATH, as a shell would find it.
inline std::optional<std::string> findOnPath(std::string_view program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view dirs(path);
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs.remove_prefix(colon == std::string_view::npos ? dirs.size() : colon + 1);
    if (dir.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

// Runs tests/peers/install.sh unless the app is installed (the script itself skips installed apps, so that
// test runs stay offline after the first). Installed means install.sh's marker exists, not just node_modules:
// under ctest -j, another test may be in the middle of the install (the script makes it wait for it). Returns
// an error message, or empty on success.
inline std::string ensureExpressAppInstalled() {
  const auto marker = expressAppDir() / "node_modules" / ".gatehouse-installed";
  if (std::filesystem::exists(marker)) return {};
  const auto script = std::filesystem::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers" / "install.sh";
  const std::string command = "sh '" + script.string() + "'";
  const int status = std::system(command.c_str());
  if (status != 0) return command + " failed (status " + std::to_string(status) + ")";
  if (!std::filesystem::exists(marker)) return command + " installed nothing";
  return {};
}

class ExpressApp {
 public:
  // Starts `node server.js` on a free loopback port and waits (bounded) until its /healthz says Redis is
  // connected. Throws std::runtime_error with the app's output when it exits or never becomes healthy.
  ExpressApp(const std::string& node, const std::string& redis_url, const std::string& secret)
      : port_(freePort()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("gatehouse-express-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    log_path_ = (dir_ / "app.log").string();
    try {
      spawn(node, redis_url, secret);
      awaitHealthy(std::chrono::seconds(15));
    } catch (...) {
      stop();  // the app's output is in the exception's message already
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }

  ~ExpressApp() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ExpressApp(const ExpressApp&) = delete;
  ExpressApp& operator=(const ExpressApp&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  std::string output() const {
    std::ifstream in(log_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  void spawn(const std::string& node, const std::string& redis_url, const std::string& secret) {
    // Everything the child needs is built before posix_spawn: nothing runs between fork and exec.
    std::vector<std::string> env_strings;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      if (text.starts_with("PORT=") || text.starts_with("REDIS_URL=") ||
          text.starts_with("SESSION_SECRET=") || text.starts_with("SESSION_PREFIX=") ||
          text.starts_with("SESSION_TTL_SECONDS=")) {
        continue;
      }
      env_strings.emplace_back(text);
    }
    env_strings.push_back("PORT=" + std::to_string(port_));
    env_strings.push_back("REDIS_URL=" + redis_url);
    env_strings.push_back("SESSION_SECRET=" + secret);
    std::vector<char*> envp;
    for (auto& entry : env_strings) envp.push_back(entry.data());
    envp.push_back(nullptr);

    std::string program = node;
    std::string script = (expressAppDir() / "server.js").string();
    std::vector<char*> argv{program.data(), script.data(), nullptr};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int error = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn " + program + ": " + std::to_string(error));
    }
  }

  void awaitHealthy(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("express app exited during start-up:\n" + output());
      }
      try {
        HttpClient client(port_);
        if (client.get("/healthz").result_int() == 200) return;
      } catch (const std::exception&) {
        // Not listening yet.
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("express app not healthy within " + std::to_string(limit.count()) + " ms:\n" +
                             output());
  }

  // SIGTERM (the app closes its server and its Redis client), then SIGKILL if it has not exited within 3 s.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
  std::string log_path_;
};

}  // namespace gatehouse::testing::session
