// lvsctl: the operator's command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char** argv) {
  CLI::App app{"lvsctl: inspect and steer an LVS director run by lvsd"};
  app.set_version_flag("-V,--version", "lvsctl " LVSD_VERSION);
  app.require_subcommand(0);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }
  fmt::print(stderr, "{}", app.help());
  return 2;
}
