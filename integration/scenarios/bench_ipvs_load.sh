#!/bin/sh
# timeout: 600
# Benchmark: load S services x D real servers (default 1,000 x 100 = 101,000 objects) into an
# empty IPVS table three ways, each in a fresh network namespace (IPVS state is per namespace,
# and a namespace that held a big table scans its trash on every add): ipvsadm -R, lvsd
# --once, and the floor sender (the same pipelined requests with no config, model, diff or
# error matching). Then one weight change through lvsd. Prints the figures and their ratios;
# fails only if a contender fails or the tables differ.
. /scenarios/lib.sh

S=${BENCH_SERVICES:-1000}
D=${BENCH_DESTS:-100}
command -v lvsd_bench_floor >/dev/null || fail "no lvsd_bench_floor in the guest: build the project first"

# The same table for all three: VIP 10.100.x.y:80 wlc, DR destinations 10.(1+i/250).(i%250).j:80.
awk -v S="$S" -v D="$D" 'BEGIN {
  for (i = 0; i < S; i++) {
    vip = sprintf("10.100.%d.%d:80", int(i / 250), i % 250 + 1)
    printf "-A -t %s -s wlc\n", vip
    for (j = 1; j <= D; j++) printf "-a -t %s -r 10.%d.%d.%d:80 -g -w 1\n", vip, 1 + int(i / 250), i % 250, j
  }
}' >/tmp/rules
config() {  # config WEIGHT_OF_THE_FIRST_REAL_SERVER
  awk -v S="$S" -v D="$D" -v W="$1" 'BEGIN {
    print "[defaults]\nscheduler = \"wlc\"\nforward = \"dr\"\n"
    for (i = 0; i < S; i++) {
      printf "[[virtual_server]]\naddress = \"10.100.%d.%d:80\"\n", int(i / 250), i % 250 + 1
      net = sprintf("10.%d.%d", 1 + int(i / 250), i % 250)
      if (i == 0) {
        printf "  [[virtual_server.real_server]]\n  address = \"%s.1\"\n  weight = %d\n", net, W
        if (D > 1) printf "  [[virtual_server.real_server]]\n  address = \"%s.[2-%d]\"\n", net, D
      } else {
        printf "  [[virtual_server.real_server]]\n  address = \"%s.[1-%d]\"\n", net, D
      }
    }
  }'
}
config 1 >/tmp/bench.toml
config 2 >/tmp/bench-weight.toml
echo "table: $S services x $D real servers = $((S + S * D)) objects"

# elapsed NAME CMD...: runs CMD, sets ELAPSED_CS (centiseconds of wall time).
elapsed() {
  _t0=$(now_cs)
  "$@" || fail "$* failed (status $?)"
  ELAPSED_CS=$(($(now_cs) - _t0))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 100 }'; }

ns_add b_ipvsadm
ns_add b_lvsd
ns_add b_floor
elapsed in_ns b_ipvsadm sh -c 'ipvsadm -R </tmp/rules'
ipvsadm_cs=$ELAPSED_CS
echo "ipvsadm -R: $(secs $ipvsadm_cs) s"
elapsed in_ns b_lvsd lvsd --once -f /tmp/bench.toml
lvsd_cs=$ELAPSED_CS
echo "lvsd --once: $(secs $lvsd_cs) s"
elapsed in_ns b_floor lvsd_bench_floor "$S" "$D"
floor_cs=$ELAPSED_CS
echo "floor sender: $(secs $floor_cs) s"

# The three tables are the same table.
sum() { in_ns "$1" ipvsadm -S -n | sort | md5sum | cut -d' ' -f1; }
a=$(sum b_ipvsadm) b=$(sum b_lvsd) c=$(sum b_floor)
expect_eq "lvsd's table = ipvsadm's" "$a" "$b"
expect_eq "the floor's table = ipvsadm's" "$a" "$c"
expect_eq "objects loaded" "$((S + S * D))" "$(in_ns b_lvsd ipvsadm -S -n | wc -l)"

# One weight changed in the full table: one request.
out=$(in_ns b_lvsd lvsd --once -f /tmp/bench-weight.toml) || fail "lvsd --once (weight change): $out"
echo "$out"
_t0=$(now_cs); in_ns b_lvsd lvsd --once -f /tmp/bench.toml >/tmp/back.out || fail "lvsd --once (back)"
change_cs=$(($(now_cs) - _t0))
requests=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) write requests in.*/\1/p')
expect_eq "write requests for one weight change" "1" "$requests"

# The config's form costs too: the same farm with one [[real_server]] table per real server
# (what a generator might write) rather than one range per virtual server. Figures only.
awk -v S="$S" -v D="$D" 'BEGIN {
  print "[defaults]\nscheduler = \"wlc\"\nforward = \"dr\"\n"
  for (i = 0; i < S; i++) {
    printf "[[virtual_server]]\naddress = \"10.100.%d.%d:80\"\n", int(i / 250), i % 250 + 1
    for (j = 1; j <= D; j++)
      printf "  [[virtual_server.real_server]]\n  address = \"10.%d.%d.%d\"\n", 1 + int(i / 250), i % 250, j
  }
}' >/tmp/bench-tables.toml
elapsed lvsd -q -t /tmp/bench.toml
ranges_cs=$ELAPSED_CS
elapsed lvsd -q -t /tmp/bench-tables.toml
tables_cs=$ELAPSED_CS
echo "RESULT-FIGURES config check ${S}x${D}: ranges $(secs $ranges_cs) s, one table per real server $(secs $tables_cs) s"

echo "RESULT-FIGURES load ${S}x${D}: ipvsadm -R $(secs $ipvsadm_cs) s, lvsd $(secs $lvsd_cs) s," \
  "floor $(secs $floor_cs) s; lvsd/ipvsadm = $(ratio $lvsd_cs $ipvsadm_cs) (goal <= 0.2)," \
  "lvsd/floor = $(ratio $lvsd_cs $floor_cs) (goal <= 1.5); one weight change: $requests request," \
  "$(secs $change_cs) s = $(ratio $change_cs $lvsd_cs) of the full load"
pass
