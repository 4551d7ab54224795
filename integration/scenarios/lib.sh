# Helpers for scenarios that run inside the integration guest (busybox sh, root, a kernel
# with IPVS). Source it first: `. /scenarios/lib.sh`.
#
# The guest's root network namespace plays the director. Helpers create other namespaces
# (clients, backends) joined to it by veth pairs; everything a helper creates is removed
# when the scenario exits, and /init sweeps whatever is left.
#
# Reporting: end with `pass` or `fail REASON`; the first verdict counts and ends the script.
# Waiting: never a fixed sleep; poll a condition with a deadline (`wait_for`, `poll`).

IP=/sbin/ip   # iproute2 (busybox's ip applet has no netns)
# busybox sh runs its applet for a bare `ip`, even with iproute2 earlier in PATH.
ip() { "$IP" "$@"; }

_lib_namespaces=
_lib_lo_addrs=
_lib_done=

log() { echo "$*"; }

# The first verdict wins, also one given in a subshell ($(...) or a pipeline).
_lib_verdict() {
  [ -n "$_lib_done" ] && return
  _lib_done=1
  [ -n "${LVSD_VERDICT:-}" ] && [ ! -e "$LVSD_VERDICT" ] && echo "$*" | head -n1 >"$LVSD_VERDICT"
}

# pass [NOTE]: the scenario succeeded.
pass() {
  _lib_verdict PASS
  echo "pass${1:+: $*}"
  exit 0
}

# fail REASON: the scenario failed; REASON becomes the end of its RESULT line.
fail() {
  _lib_verdict "FAIL $*"
  echo "FAIL: $*"
  exit 1
}

# run CMD...: runs CMD, echoing it; fails the scenario if it fails.
run() {
  echo "+ $*"
  "$@" || fail "command failed (status $?): $*"
}

_lib_cleanup() {
  for ns in $_lib_namespaces; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    # shellcheck disable=SC2086 # one word per pid
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns delete "$ns" 2>/dev/null
  done
  for a in $_lib_lo_addrs; do ip addr del "$a" dev lo 2>/dev/null; done
  ipvsadm -C 2>/dev/null
  # The next scenario finds the kernel's defaults: no sync daemon, timeouts 900 120 300.
  ipvsadm --stop-daemon master 2>/dev/null
  ipvsadm --stop-daemon backup 2>/dev/null
  ipvsadm --set 900 120 300 2>/dev/null
  [ -n "$_lib_sync_pair" ] && ip link del sync0 2>/dev/null
}
trap _lib_cleanup EXIT
trap 'fail "terminated by a signal"' INT TERM

# --- time and polling ------------------------------------------------------------------------

# now_cs: centiseconds since boot.
now_cs() {
  read -r _up _ </proc/uptime
  _s=${_up%.*}; _f=${_up#*.}; _f=${_f#0}
  echo $((_s * 100 + _f))
}

# poll SECS CMD...: runs CMD every 0.1 s until it succeeds (status 0) or SECS have passed
# (status 1). CMD's output is discarded.
poll() {
  _deadline=$(($(now_cs) + $1 * 100)); shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(now_cs)" -ge "$_deadline" ] && return 1
    sleep 0.1
  done
}

# wait_for SECS WHAT CMD...: like poll, but fails the scenario with "timed out waiting for WHAT".
wait_for() {
  _secs=$1 _what=$2; shift 2
  poll "$_secs" "$@" || fail "timed out after ${_secs}s waiting for $_what"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
  echo "ok: $1 = '$3'"
}

# expect_match WHAT PATTERN TEXT: TEXT has a line matching the extended regex PATTERN.
expect_match() {
  printf '%s\n' "$3" | grep -Eq -- "$2" || fail "$1: no line matches /$2/"
  echo "ok: $1"
}

# --- namespaces ------------------------------------------------------------------------------

# ns_add NS: a new network namespace with lo up (IPVS rejects NAT destinations in a
# namespace whose lo is down: "address not unicast").
ns_add() {
  ip netns add "$1" || fail "ip netns add $1"
  _lib_namespaces="$_lib_namespaces $1"
  ip -n "$1" link set lo up || fail "lo up in $1"
}

# in_ns NS CMD...: runs CMD inside namespace NS.
in_ns() {
  _ns=$1; shift
  ip netns exec "$_ns" "$@"
}

# attach_ns NS DIRECTOR_CIDR NS_CIDR: creates NS (if new) and joins it to the director (the
# root namespace) with a veth pair: `v-NS` on the director side, `eth0` inside NS, addresses
# as given, and a default route in NS via the director's address.
attach_ns() {
  _ns=$1 _dcidr=$2 _ncidr=$3
  _dif=v-$_ns
  case " $_lib_namespaces " in *" $_ns "*) ;; *) ns_add "$_ns" ;; esac
  ip link add "$_dif" type veth peer name eth0 netns "$_ns" || fail "veth for $_ns"
  ip addr add "$_dcidr" dev "$_dif" || fail "address $_dcidr on $_dif"
  ip link set "$_dif" up || fail "link up $_dif"
  ip -n "$_ns" addr add "$_ncidr" dev eth0 || fail "address $_ncidr in $_ns"
  ip -n "$_ns" link set eth0 up || fail "eth0 up in $_ns"
  ip -n "$_ns" route add default via "${_dcidr%/*}" || fail "default route in $_ns"
}

# client_ns NS DIRECTOR_CIDR CLIENT_CIDR: a client namespace (alias of attach_ns).
client_ns() { attach_ns "$@"; }

# vip_add ADDR: a virtual IP (host address, /32 or /128) on the director's lo.
vip_add() {
  case $1 in */*) _a=$1 ;; *:*) _a=$1/128 ;; *) _a=$1/32 ;; esac
  ip addr add "$_a" dev lo || fail "vip $_a on lo"
  _lib_lo_addrs="$_lib_lo_addrs $_a"
}

# forwarding_on: the director routes between its namespaces.
forwarding_on() {
  echo 1 >/proc/sys/net/ipv4/ip_forward || fail "ip_forward"
}

# --- HTTP ------------------------------------------------------------------------------------

# http_get NS URL [SECS]: prints the body fetched from NS, bounded by SECS (default 5).
# (busybox wget's own -T crashes in the guest; timeout bounds it instead.)
http_get() {
  ip netns exec "$1" timeout "${3:-5}" wget -q -O - "$2"
}

_http_answers() { [ "$(http_get "$1" "$2" 2)" = "$3" ]; }

# http_backend NS NAME [PORT]: a busybox httpd in NS on PORT (default 80) whose index page
# is NAME (one line); returns once it answers inside NS.
http_backend() {
  _ns=$1 _name=$2 _port=${3:-80}
  _root=/tmp/www/$_ns-$_port
  mkdir -p "$_root"
  echo "$_name" >"$_root/index.html"
  ip netns exec "$_ns" httpd -f -p "$_port" -h "$_root" >/dev/null 2>&1 &
  wait_for 10 "httpd $_name in $_ns" _http_answers "$_ns" "http://127.0.0.1:$_port/" "$_name"
}

# --- a ready farm --------------------------------------------------------------------------

# nat_farm VIP: the director forwards, VIP on its lo; a client namespace (10.0.0.2, via
# 10.0.0.1) and two backends be1 (10.1.1.2) and be2 (10.1.2.2) serving their own names over
# HTTP on port 80, each with a default route back through the director (NAT needs it).
nat_farm() {
  forwarding_on
  vip_add "$1"
  client_ns client 10.0.0.1/24 10.0.0.2/24
  attach_ns be1 10.1.1.1/24 10.1.1.2/24
  attach_ns be2 10.1.2.1/24 10.1.2.2/24
  http_backend be1 be1
  http_backend be2 be2
}

# start_lvsd LOG [CONFIG]: lvsd -f CONFIG (default /tmp/lvsd.toml) in the background, its log
# in LOG; returns after its first pass. LVSD_PID is its (parent) process, LVSD_POOL_PID its
# pool process, which keeps the IPVS table (the one to SIGSTOP to pause the reconciler).
start_lvsd() {
  lvsd -f "${2:-/tmp/lvsd.toml}" 2>"$1" &
  LVSD_PID=$!
  poll 20 grep -q "operations applied" "$1" || { cat "$1"; fail "timed out waiting for lvsd's first pass ($1)"; }
  LVSD_POOL_PID=$(sed -n 's/.* pool process \([0-9]*\) started$/\1/p' "$1" | tail -n 1)
  [ -n "$LVSD_POOL_PID" ] || { cat "$1"; fail "lvsd did not say which is its pool process ($1)"; }
  cat "$1"
}

# stop_lvsd: SIGTERM, and wait for its on_exit work to end.
stop_lvsd() {
  kill -TERM "$LVSD_PID"
  wait "$LVSD_PID"
}

# sync_pair: the veth pair sync0/sync1, both up, for sync daemons to send and listen on.
sync_pair() {
  ip link del sync0 2>/dev/null
  ip link add sync0 type veth peer name sync1 || fail "cannot make the veth pair sync0/sync1"
  ip link set sync0 up || fail "sync0 up"
  ip link set sync1 up || fail "sync1 up"
  _lib_sync_pair=1
}
