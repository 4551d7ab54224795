#!/bin/sh
# timeout: 180
# lvsd on a real kernel: it builds the declared table; lvsctl list/save print what ipvsadm
# prints; traffic flows; drift (ipvsadm -C, a weight edited by hand) is undone; a restart with
# the same config sends no write request; a reload that changes only another service keeps an
# open TCP connection; on_exit = "remove" removes only lvsd's services.
. /scenarios/lib.sh

[ -x /usr/bin/lvsd ] || fail "no lvsd in the guest: build the project first"
VIP=10.0.100.1
nat_farm $VIP

write_config() {  # write_config WEIGHT_OF_443 ON_EXIT
  cat >/tmp/lvsd.toml <<EOT
[ipvs]
reconcile_interval = "300ms"
on_exit = "$2"

[[virtual_server]]
address = "$VIP:80"
scheduler = "rr"
  [[virtual_server.real_server]]
  address = "10.1.1.2:80"
  [[virtual_server.real_server]]
  address = "10.1.2.2:80"

[[virtual_server]]
address = "$VIP:9000"
scheduler = "wlc"
persistence_timeout = 120
persistence_netmask = "255.255.255.0"
  [[virtual_server.real_server]]
  address = "10.1.1.2:9000"
  upper_threshold = 100
  lower_threshold = 10

[[virtual_server]]
address = "$VIP:443"
scheduler = "sh"
scheduler_flags = ["sh-port"]
forward = "dr"
  weight = $1
  [[virtual_server.real_server]]
  address = "10.1.1.2"
  [[virtual_server.real_server]]
  address = "10.1.2.2"

[[virtual_server]]
fwmark = 7
scheduler = "mh"
scheduler_flags = ["mh-fallback"]
forward = "tun"
tunnel_type = "gue"
tunnel_port = 6080
tunnel_checksum = "csum"
  [[virtual_server.real_server]]
  address = "10.1.1.2"
EOT
}

# A service nobody declared: lvsd must leave it alone.
run ipvsadm -A -u 10.0.100.9:53 -s rr

write_config 1 keep
start_lvsd /tmp/lvsd.log
table=$(ipvsadm -Ln) || fail "ipvsadm -Ln"
echo "$table"
expect_match "NAT service built" "^TCP +$VIP:80 rr" "$table"
expect_match "DR service built" "^TCP +$VIP:443 sh \(sh-port\)" "$table"
expect_match "fwmark service built" "^FWM +7 mh \(mh-fallback\)" "$table"
expect_match "foreign service kept" "^UDP +10.0.100.9:53 rr" "$table"

# lvsctl prints what ipvsadm prints, byte for byte, for every listing.
same() {  # same LVSCTL_ARGS -- IPVSADM_ARGS
  _l=""; while [ "$1" != "--" ]; do _l="$_l $1"; shift; done; shift
  # shellcheck disable=SC2086
  a=$(lvsctl $_l 2>&1); b=$(ipvsadm "$@" 2>&1)
  [ "$a" = "$b" ] || { printf 'lvsctl%s:\n%s\nipvsadm %s:\n%s\n' "$_l" "$a" "$*" "$b"; return 1; }
}
for args in "-n" "-n --thresholds" "-n --persistent-conn" "-n --tun-info" "-n --nosort" \
            "-n -t $VIP:443" "-n -f 7" "-n --exact --stats" "-n --rate"; do
  # shellcheck disable=SC2086
  poll 5 same list $args -- -L $args || { same list $args -- -L $args; fail "lvsctl list $args differs from ipvsadm -L $args"; }
  echo "ok: lvsctl list $args = ipvsadm -L $args"
done
same save -n -- -S -n || fail "lvsctl save -n differs from ipvsadm -S -n"
echo "ok: lvsctl save -n = ipvsadm -S -n"

# Traffic through the NAT service, then the counters agree too.
for i in 1 2 3 4; do http_get client "http://$VIP/" >/dev/null || fail "request $i through $VIP failed"; done
poll 5 same list -n --stats --exact -- -L -n --stats --exact || fail "lvsctl list --stats differs after traffic"
echo "ok: counters after traffic"

# Drift: the table flushed by hand comes back within reconcile_interval (and a few passes).
run ipvsadm -C
wait_for 10 "lvsd to rebuild the flushed table" sh -c "ipvsadm -Ln | grep -q '^TCP  $VIP:80 rr'"
expect_match "drift logged" "drift: add service TCP $VIP:80" "$(cat /tmp/lvsd.log)"
run ipvsadm -e -t $VIP:80 -r 10.1.1.2:80 -m -w 5
wait_for 10 "lvsd to undo the hand-edited weight" sh -c "ipvsadm -Ln -t $VIP:80 | grep -Eq '10.1.1.2:80 +Masq +1 '"
expect_match "weight drift logged" "drift: edit destination 10.1.1.2:80 masq weight 1 of TCP $VIP:80" "$(cat /tmp/lvsd.log)"
run ipvsadm -A -u 10.0.100.9:53 -s rr

# Restart with the same config: zero write requests.
stop_lvsd
expect_match "table kept on exit" "^TCP +$VIP:80 rr" "$(ipvsadm -Ln)"
start_lvsd /tmp/lvsd2.log
expect_match "restart sends nothing" "0 operations applied, 0 refused" "$(cat /tmp/lvsd2.log)"

# An open connection through :9000 survives a reload that changes only :443.
# The listener's input never ends: busybox nc closes the connection at the end of its input.
in_ns be1 sh -c 'sleep 600 | nc -l -p 9000 >/tmp/received 2>/dev/null' &
listening() { in_ns be1 netstat -ltn | grep -q ":9000 "; }
wait_for 10 "the backend to listen on :9000" listening
mkfifo /tmp/feed
in_ns client sh -c "nc $VIP 9000 </tmp/feed" &
NC_PID=$!
trap '' PIPE  # a closed connection must fail the test, not kill the shell
exec 3>/tmp/feed
echo first >&3
wait_for 10 "the first line through :9000" grep -q first /tmp/received
write_config 3 remove
kill -HUP "$LVSD_PID"
wait_for 10 "the reload to change :443's weights" sh -c "ipvsadm -Ln -t $VIP:443 | grep -Eq 'Route +3 '"
kill -0 "$NC_PID" 2>/dev/null || fail "the client's connection closed during the reload"
echo second >&3 || fail "cannot write to the connection after the reload"
wait_for 10 "the second line through the same connection after the reload" grep -q second /tmp/received
exec 3>&-
echo "ok: connection kept across the reload"

# on_exit = "remove" (from the reloaded config): lvsd's services go, the foreign one stays.
stop_lvsd
left=$(ipvsadm -Ln)
echo "$left"
expect_match "foreign service still there" "^UDP +10.0.100.9:53 rr" "$left"
printf '%s\n' "$left" | grep -q "$VIP" && fail "lvsd's services left behind with on_exit = remove"
pass
