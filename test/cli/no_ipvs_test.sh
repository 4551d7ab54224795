#!/bin/sh
# On a kernel without IPVS, every command that needs it says so in one line and exits 1.
# Usage: no_ipvs_test.sh BUILD_DIR CONFIG. Exit 77 (skipped) where the kernel has IPVS.
build=$1 config=$2
if [ -e /proc/net/ip_vs ]; then echo "this kernel has IPVS: nothing to test here"; exit 77; fi
want="kernel has no IPVS: generic netlink family IPVS not found; load module ip_vs"
fail=0
check() {  # check EXPECTED_PREFIX COMMAND...
  prefix=$1; shift
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne 1 ] || [ "$out" != "$prefix: $want" ]; then
    echo "FAIL: $* exited $rc and printed: $out"; fail=1
  else
    echo "ok: $*"
  fi
}
check lvsctl "$build/lvsctl" list -n
check lvsctl "$build/lvsctl" list -n --stats -t 192.0.2.10:80
check lvsctl "$build/lvsctl" save -n
check lvsd "$build/lvsd" --once -f "$config"
exit $fail
