#!/usr/bin/env bash
# The two entry points of the README: `./dev.sh run` (the main job) and `./dev.sh test` (every test).
set -euo pipefail
cd "$(dirname "$0")"

jobs=$(nproc 2>/dev/null || echo 2)

build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "${1:-}" in
  run)
    scripts/setup
    build build
    build/lvsd --check-config etc/lvsd.toml
    # The daemon itself, in a VM with Debian's kernel (the development machines' kernel has
    # no IPVS, and a demo must not change this host's table): a director, two web servers,
    # a client's requests through the VIP, and lvsctl's listing.
    integration/vm/run --build-dir build demo
    ;;
  test)
    scripts/setup
    build build
    (cd build && ctest --output-on-failure -j "$jobs")
    # The same unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
    build build-sanitize -DLVSD_SANITIZE=ON
    (cd build-sanitize && ctest --output-on-failure -j "$jobs")
    ;;
  *)
    echo "usage: ./dev.sh run|test" >&2
    exit 2
    ;;
esac
