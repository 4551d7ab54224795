#!/bin/sh
# timeout: 300
# Benchmark: CPU per tcp health check, lvsd's check engine against Debian 12's keepalived
# (2.2.7, checker process only), on the same real servers: N listeners on
# 127.1.(i/250).(i%250+1):8000 served by `lvsd_bench_checks --serve`, each checked every
# second for S seconds. Prints keepalived's and lvsd's CPU per 1,000 checks and their ratio;
# fails only if a checker fails to run or a check goes down (the ratio is a figure).
. /scenarios/lib.sh

N=${BENCH_CHECK_SERVERS:-500}    # tcp real servers
S=${BENCH_CHECK_SECONDS:-20}     # measured window, seconds
WARMUP=5                         # keepalived starts each check within its delay_loop (1 s)
HZ=100                           # USER_HZ: the unit of utime/stime in /proc/PID/stat
command -v lvsd_bench_checks >/dev/null || fail "no lvsd_bench_checks in the guest: build the project first"
command -v keepalived >/dev/null || fail "no keepalived in the guest (integration/vm/run copies the host's)"
# shellcheck disable=SC3045 # busybox sh has ulimit -n
ulimit -n 65536

# keepalived.conf: the farm of lvsd_bench_checks (100 real servers to a virtual server), one
# TCP_CHECK each, every second, 1 s connect timeout. NAT: with DR keepalived resets each real
# server's port to the VIP's (80), and the checks would go there.
awk -v N="$N" 'BEGIN {
  print "global_defs {\n  router_id bench\n}"
  for (i = 0; i < N; i++) {
    if (i % 100 == 0) {
      if (i) print "}"
      printf "virtual_server 10.100.0.%d 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n", i / 100 + 1
    }
    printf "  real_server 127.1.%d.%d 8000 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n", int(i / 250), i % 250 + 1
  }
  print "}"
}' >/tmp/keepalived.conf

# Connections the guest opened (Tcp ActiveOpens of /proc/net/snmp): during the window only
# keepalived's checker connects, so the difference is its number of checks.
active_opens() {
  awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ActiveOpens") c = i; h = 1 } else print $c }' /proc/net/snmp
}
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }   # utime stime
idle_ticks() { awk '/^cpu / { print $5 + $6; exit }' /proc/stat; }   # the guest's idle + iowait
destinations() { ipvsadm -Ln | grep -c '127\.1\.'; }
all_destinations() { [ "$(destinations)" -eq "$N" ]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# --- keepalived ---------------------------------------------------------------------------
lvsd_bench_checks --serve --tcp "$N" --http 0 >/tmp/serve.out 2>&1 &
SERVE_PID=$!
wait_for 60 "the real servers (lvsd_bench_checks --serve)" grep -q '^ready' /tmp/serve.out

# -l -G: log to stderr only (without a syslogd in the guest, syslog(3) falls back to
# /dev/console, which would tear the console's protocol lines); -I: leave the IPVS table at
# exit (removing 1,000 real servers one by one outlasts keepalived's own stop timeout).
keepalived -n -l -G -D -I -C -f /tmp/keepalived.conf -p /tmp/keepalived.pid -c /tmp/checkers.pid >/tmp/keepalived.log 2>&1 &
KA_PID=$!
_checker() { [ -s /tmp/checkers.pid ] && kill -0 "$(cat /tmp/checkers.pid)" 2>/dev/null; }
poll 60 _checker || { cat /tmp/keepalived.log; fail "keepalived's checker process did not start"; }
CHECKER=$(cat /tmp/checkers.pid)
# Without alpha, keepalived adds every real server at start and removes one when its check fails.
poll 60 all_destinations || { tail -n 30 /tmp/keepalived.log; fail "keepalived put $(destinations) of $N real servers in IPVS"; }
echo "keepalived: checker pid $CHECKER, $(destinations) real servers in IPVS; warmup ${WARMUP} s"
sleep "$WARMUP"

# The window: the checker's CPU and the guest's connects, read before and after S seconds
# (a fixed sleep on purpose: this is the measured interval). Startup (config, IPVS) is outside.
# shellcheck disable=SC2046 # two words: utime stime
set -- $(cpu_ticks "$CHECKER"); user0=$1 sys0=$2 opens0=$(active_opens) idle0=$(idle_ticks) t0=$(now_cs)
sleep "$S"
# shellcheck disable=SC2046
set -- $(cpu_ticks "$CHECKER"); user1=$1 sys1=$2 opens1=$(active_opens) idle1=$(idle_ticks) t1=$(now_cs)
left=$(destinations)

kill -TERM "$KA_PID"
wait "$KA_PID"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
served=$(sed -n 's/^served tcp \([0-9]*\).*/\1/p' /tmp/serve.out)

ka_user=$((user1 - user0))
ka_ticks=$((ka_user + sys1 - sys0))
ka_checks=$((opens1 - opens0))
ka_window=$((t1 - t0))
# keepalived's words for a check that failed and a real server it took out.
bad='TCP_CHECK on service .* failed|TCP connection to .* failed|Removing service|Disabling service'
failures=$(grep -cE "$bad" /tmp/keepalived.log)
echo "keepalived: ${ka_checks} checks in $(awk -v c="$ka_window" 'BEGIN { printf "%.2f", c / 100 }') s" \
  "($(awk -v c="$ka_checks" -v w="$ka_window" 'BEGIN { printf "%.0f", c * 100 / w }')/s, want $N/s)," \
  "checker CPU $(awk -v t="$ka_ticks" -v u="$ka_user" -v hz="$HZ" 'BEGIN { printf "%.2f s (%.2f s user, %.2f s kernel)", t / hz, u / hz, (t - u) / hz }');" \
  "guest idle $(awk -v i="$((idle1 - idle0))" -v w="$ka_window" 'BEGIN { printf "%.0f", i * 100 / w }')%; $served connections served over the whole run;" \
  "$left of $N real servers left in IPVS; $failures failure lines in its log"
[ "$failures" -eq 0 ] || { grep -E "$bad" /tmp/keepalived.log | head -n 10; fail "keepalived saw failed checks"; }
[ "$left" -eq "$N" ] || fail "keepalived removed $((N - left)) real servers"
[ "$ka_checks" -gt 0 ] || fail "keepalived made no checks in the window"
[ "$ka_ticks" -gt 0 ] || fail "keepalived's checker used no measurable CPU"
ka_per_1000=$(awk -v t="$ka_ticks" -v c="$ka_checks" -v hz="$HZ" 'BEGIN { printf "%.1f", t * 1000 / hz * 1000 / c }')
ka_split=$(awk -v t="$ka_ticks" -v u="$ka_user" -v c="$ka_checks" -v hz="$HZ" \
  'BEGIN { printf "%.0f user + %.0f kernel", u * 1e6 / hz / c, (t - u) * 1e6 / hz / c }')

# --- lvsd (its own servers on the same addresses: the ones above have exited) --------------
opens0=$(active_opens) idle0=$(idle_ticks) t0=$(now_cs)
out=$(lvsd_bench_checks --tcp "$N" --http 0 --seconds "$S" --interval 1000 2>&1)
status=$?
opens1=$(active_opens) idle1=$(idle_ticks) t1=$(now_cs)
echo "$out"
echo "lvsd_bench_checks: $((opens1 - opens0)) connects in the guest over its whole run;" \
  "guest idle $(awk -v i="$((idle1 - idle0))" -v w="$((t1 - t0))" 'BEGIN { printf "%.0f", i * 100 / w }')%"
[ "$status" -eq 0 ] || fail "lvsd_bench_checks failed (status $status): a check went down or a descriptor stayed open"
lvsd_per_1000=$(printf '%s\n' "$out" | sed -n 's/^RESULT-FIGURES checks:.* = \([0-9.]*\) ms per 1,000 checks.*/\1/p')
[ -n "$lvsd_per_1000" ] || fail "no 'ms per 1,000 checks' figure from lvsd_bench_checks"
# Its user and kernel seconds over its checks, per 1,000 checks as above.
lvsd_split=$(printf '%s\n' "$out" | sed -n 's/^RESULT-FIGURES checks:.*: \([0-9]*\) checks (.*CPU [0-9.]* s (\([0-9.]*\) s user, \([0-9.]*\) s kernel.*/\1 \2 \3/p' |
  awk '{ printf "%.0f user + %.0f kernel", $2 * 1e6 / $1, $3 * 1e6 / $1 }')

echo "RESULT-FIGURES checks-vs-keepalived: $N tcp real servers, $S s: keepalived $ka_per_1000 ms CPU per 1,000 checks" \
  "($ka_split), lvsd $lvsd_per_1000 ms per 1,000 checks ($lvsd_split), lvsd/keepalived = $(ratio "$lvsd_per_1000" "$ka_per_1000")"
pass
