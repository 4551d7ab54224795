#!/bin/sh
# timeout: 90
# The README's main job, on a kernel with IPVS: lvsd runs a director in front of two web
# servers, a client's requests through the VIP reach both, and lvsctl shows the table.
. /scenarios/lib.sh

[ -x /usr/bin/lvsd ] || fail "no lvsd in the guest: build the project first"
VIP=10.0.100.1
nat_farm $VIP
cat >/tmp/demo.toml <<EOT
# A director: the VIP $VIP:80 in NAT mode in front of two web servers.
[[virtual_server]]
name = "web"
address = "$VIP:80"
scheduler = "rr"
  [[virtual_server.real_server]]
  address = "10.1.1.2:80"
  [[virtual_server.real_server]]
  address = "10.1.2.2:80"
EOT
echo "--- the configuration"
cat /tmp/demo.toml
echo "--- lvsd -f /tmp/demo.toml"
lvsd -f /tmp/demo.toml 2>/tmp/demo.log &
poll 20 grep -q "operations applied" /tmp/demo.log || { cat /tmp/demo.log; fail "lvsd did not start"; }
cat /tmp/demo.log
echo "--- four requests from the client through http://$VIP/"
answers=
for i in 1 2 3 4; do
  body=$(http_get client "http://$VIP/") || fail "request $i through $VIP failed"
  echo "request $i answered by $body"
  answers="$answers $body"
done
case "$answers" in *be1*be2*|*be2*be1*) ;; *) fail "both web servers should answer, got:$answers" ;; esac
echo "--- lvsctl list -n"
lvsctl list -n || fail "lvsctl list -n"
both_counted() { lvsctl list -n --stats | grep -Eq "10.1.1.2:80 +2 " && lvsctl list -n --stats | grep -Eq "10.1.2.2:80 +2 "; }
poll 10 both_counted
echo "--- lvsctl list -n --stats"
lvsctl list -n --stats
pass
