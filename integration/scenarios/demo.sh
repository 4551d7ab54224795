#!/bin/sh
# timeout: 90
# The README's main job, on a kernel with IPVS: lvsd runs a director in front of two web
# servers, a client's requests through the VIP reach both, and lvsctl shows the table; a
# web server that stops is seen down by its health check, and up again when it is back.
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
  [[virtual_server.check]]
  type = "http"
  interval = "1s"
  timeout = "500ms"
  rise = 1
  fall = 1
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
echo "--- be2's web server stops, then comes back"
be2_httpd=$(ps | awk '/httpd -f -p 80 -h \/tmp\/www\/be2-80/ && !/awk/ { print $1 }')
[ -n "$be2_httpd" ] || fail "be2's web server is not running"
kill "$be2_httpd"
poll 15 grep -q "real server 10.1.2.2:80 down: connect refused" /tmp/demo.log ||
  { cat /tmp/demo.log; fail "lvsd's check did not see be2 go down"; }
http_backend be2 be2
poll 15 grep -q "real server 10.1.2.2:80 up: HTTP 200" /tmp/demo.log ||
  { cat /tmp/demo.log; fail "lvsd's check did not see be2 come back"; }
grep "real server" /tmp/demo.log
grep -q "real server 10.1.1.2:80" /tmp/demo.log && fail "be1 never failed, yet its verdict changed"
echo "--- lvsctl probe http://10.1.1.2/"
lvsctl probe http://10.1.1.2/ || fail "lvsctl probe of be1"
pass
