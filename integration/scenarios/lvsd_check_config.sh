#!/bin/sh
# timeout: 30
# The project's binaries, copied into the guest with their libraries, run there: lvsd checks
# the shipped example configuration and lvsctl answers --version.
. /scenarios/lib.sh

[ -x /usr/bin/lvsd ] || fail "no lvsd in the guest: build the project first (cmake --build build)"
[ -x /usr/bin/lvsctl ] || fail "no lvsctl in the guest: build the project first (cmake --build build)"

out=$(lvsd --check-config /usr/share/lvsd/etc/lvsd.toml 2>&1) || fail "lvsd --check-config etc/lvsd.toml exited $?: $out"
echo "$out"
expect_match "lvsd prints the pools" "^TCP " "$out"
for f in /usr/share/lvsd/etc/examples/*.toml; do
  lvsd --check-config "$f" >/dev/null 2>&1 || fail "lvsd --check-config $f exited $?"
  echo "ok: ${f##*/}"
done
v=$(lvsctl --version 2>&1) || fail "lvsctl --version exited $?: $v"
echo "lvsctl --version: $v"
pass
