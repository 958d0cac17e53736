// gatehouse: a sidecar reverse proxy that checks sessions and applies shared rate limits in front of an app.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "proxy/access_log.h"
#include "proxy/config/error_report.h"
#include "proxy/config/loader.h"
#include "proxy/runtime.h"
#include "proxy/server.h"
#include "proxy/startup_checks.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: gatehouse --config FILE [--check]

  --config FILE   the configuration (YAML); ${VAR} and ${VAR:-default} are substituted from the environment
  --check         validate FILE, print the effective configuration (secrets redacted) and exit:
                  0 when valid, 1 with every error (file:line:column: key: message) when not
  --version       print the version and exit
  --help          print this help and exit

Signals: SIGTERM / SIGINT stop accepting, let in-flight requests finish (limits.drain_timeout), then exit 0.
         SIGHUP loads FILE again and applies it to new requests; a FILE with errors is logged and the running
         configuration stays. Listeners, workers, busy_poll, the upstream pool, the store and log.access
         need a restart.
)";

int usageError(std::string_view message) {
  std::cerr << "gatehouse: " << message << "\n\n" << kUsage;
  return 2;
}

// Why Gatehouse will not run goes to stderr whatever log.level says: with `level: off` a process that exits 1
// must still say why. The log is flushed first, so that the lines logged before it come first.
int fatal(std::string_view message) {
  spdlog::shutdown();
  std::cerr << "gatehouse: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "gatehouse " << GATEHOUSE_VERSION << "\n";
      return 0;
    }
    if (arg == "--check" || arg == "-t") {
      check_only = true;
    } else if (arg == "--config" || arg == "-c") {
      if (++i >= argc) return usageError("--config needs a file");
      config_path = argv[i];
    } else if (arg.starts_with("--config=")) {
      config_path = std::string(arg.substr(std::strlen("--config=")));
    } else {
      return usageError("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (config_path.empty()) return usageError("--config is required");

  const auto loaded = gatehouse::config::loadConfigFile(config_path);
  if (!loaded.errors.empty()) {
    std::cerr << gatehouse::config::formatErrors(loaded);
    std::cerr << "gatehouse: " << loaded.errors.size() << " error(s) in " << config_path
              << "; configuration not loaded\n";
    return 1;
  }
  if (check_only) {
    std::cout << gatehouse::config::describeEffectiveConfig(*loaded.config);
    std::cerr << "gatehouse: " << config_path << " is valid\n";
    return 0;
  }

  gatehouse::proxy::setupLogging(loaded.config->log);
  try {
    if (auto store_error = gatehouse::proxy::checkStoreAtStartup(loaded.config->store)) {
      return fatal(*store_error);
    }
    auto runtime = gatehouse::proxy::buildRuntime(loaded.config);
    gatehouse::proxy::Server server(runtime);
    server.catchSignals();
    server.start();
    server.runUntilSignalled([&config_path] { return gatehouse::config::loadConfigFile(config_path); });
  } catch (const std::exception& e) {
    return fatal("cannot start: " + std::string(e.what()));
  }
  spdlog::shutdown();
  return 0;
}
