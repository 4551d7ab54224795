#!/bin/sh
# timeout: 60
# Captures the kernel's own netlink replies for a small table (services of each kind, every
# forwarding method, counters after traffic), timeouts and two sync daemons, and checks the codec reads them back as ipvsadm
# shows them. The captured lines (prefixed "CAPTURE ") are the golden bytes of
# test/data/ipvs_replies.txt; regenerate with: integration/vm/run capture_replies, then
# sed -n 's/^  | CAPTURE //p' build/integration-vm/console.log > test/data/ipvs_replies.txt
. /scenarios/lib.sh

command -v lvsd_netlink_capture >/dev/null || fail "no lvsd_netlink_capture in the guest: build the project first"
VIP=10.0.100.1
nat_farm $VIP
run ipvsadm -A -t $VIP:80 -s rr
run ipvsadm -a -t $VIP:80 -r 10.1.1.2:80 -m -w 2
run ipvsadm -a -t $VIP:80 -r 10.1.2.2:80 -m -x 100 -y 10
run ipvsadm -A -u [2001:db8::10]:53 -s sh -b sh-port -p 60 -M 64
run ipvsadm -a -u [2001:db8::10]:53 -r [2001:db8:1::1]:53 -g -w 0
run ipvsadm -A -f 9 -s mh -b mh-fallback
run ipvsadm -a -f 9 -r 10.3.0.1 -i --tun-type gue --tun-port 6080 --tun-remcsum
run ipvsadm --set 1000 110 200
sync_pair
run ipvsadm --start-daemon master --mcast-interface sync0 --syncid 7 --sync-maxlen 1000 --mcast-group 239.1.2.3 \
  --mcast-port 9000 --mcast-ttl 3
run ipvsadm --start-daemon backup --mcast-interface sync1 --syncid 9
ipvsadm -L --daemon
for i in 1 2 3; do http_get client "http://$VIP/" >/dev/null || fail "request $i"; done
counted() { ipvsadm -Ln --stats -t $VIP:80 | grep -Eq "^TCP +$VIP:80 +3 "; }
wait_for 10 "the counters of three connections" counted
ipvsadm -Ln
ipvsadm -Ln --stats --exact
lvsd_netlink_capture | sed 's/^/CAPTURE /' || fail "capture"
pass
