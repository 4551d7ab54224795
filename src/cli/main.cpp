// lvsctl: the operator's command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char** argv) {
  CLI::App app{"lvsctl: inspect and steer an LVS director run by lvsd"};
  app.set_version_flag("-V,--version", "lvsctl " LVSD_VERSION);
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  fmt::print(stderr, "{}", app.help());
  return 2;
}
