#!/bin/sh
# timeout: 60
# Every IPVS scheduler can back a service. Each scheduler module is unloaded first where it
# is loaded and unused, so creating the service also proves the kernel's module autoload
# (which runs /sbin/modprobe, busybox in the guest).
. /scenarios/lib.sh

[ -e /proc/net/ip_vs ] || fail "/proc/net/ip_vs missing: the kernel has no IPVS"

loaded() { grep -q "^$1 " /proc/modules; }

port=8000
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do
  port=$((port + 1))
  mod=ip_vs_$s
  loaded $mod && { rmmod $mod || fail "rmmod $mod"; }
  loaded $mod && fail "$mod still loaded after rmmod"
  ipvsadm -A -t 10.0.200.1:$port -s $s || fail "ipvsadm -A -s $s (module $mod)"
  loaded $mod || fail "service with -s $s exists but $mod is not loaded"
  table=$(ipvsadm -Ln -t 10.0.200.1:$port) || fail "ipvsadm -Ln -t 10.0.200.1:$port"
  printf '%s\n' "$table" | grep -Eq "^TCP +10\.0\.200\.1:$port +$s( |\$)" ||
    fail "ipvsadm -Ln does not show scheduler $s: $table"
  echo "ok: $s (autoloaded $mod)"
done

count=$(ipvsadm -Ln | grep -c '^TCP ')
expect_eq "services in the table" 13 "$count"
pass
