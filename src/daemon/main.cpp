// lvsd: the director daemon's entry point.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "lvsd/config/config.hpp"
#include "lvsd/daemon/check_report.hpp"

namespace {

// nginx -t / keepalived -t: 0 when valid, 1 otherwise; errors on stderr, one per line.
int check_config(const std::string& path, bool quiet) {
  const auto result = lvsd::config::load_file(path);
  if (!result.ok()) {
    for (const auto& e : result.errors) fmt::print(stderr, "{}\n", e.to_string());
    fmt::print(stderr, "{}: configuration has {} error{}\n", path, result.errors.size(),
               result.errors.size() == 1 ? "" : "s");
    return 1;
  }
  if (!quiet) fmt::print("{}", lvsd::daemon::check_report(path, *result.desired));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lvsd: keeps the kernel IPVS table equal to the declared pools, minus broken real servers"};
  std::string check_path;
  bool quiet = false;
  app.add_option("-t,--check-config", check_path, "Check the configuration FILE, print its pools, and exit")
      ->type_name("FILE");
  app.add_flag("-q,--quiet", quiet, "With --check-config: print errors only");
  app.set_version_flag("-V,--version", "lvsd " LVSD_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!check_path.empty()) return check_config(check_path, quiet);
  fmt::print(stderr, "{}", app.help());
  return 2;
}
