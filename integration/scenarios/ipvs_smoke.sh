#!/bin/sh
# timeout: 60
# IPVS NAT end to end: a client namespace reaches a VIP on the director (the guest's root
# namespace); an rr service spreads four requests over two busybox httpd backends, each in
# its own namespace with a default route back through the director.
. /scenarios/lib.sh

[ -e /proc/net/ip_vs ] || fail "/proc/net/ip_vs missing: the kernel has no IPVS"

VIP=10.0.100.1
nat_farm $VIP

run ipvsadm -A -t $VIP:80 -s rr
run ipvsadm -a -t $VIP:80 -r 10.1.1.2:80 -m
run ipvsadm -a -t $VIP:80 -r 10.1.2.2:80 -m

table=$(ipvsadm -Ln) || fail "ipvsadm -Ln"
echo "$table"
expect_match "service listed" "^TCP +$VIP:80 rr" "$table"
expect_match "be1 listed as NAT" "^ +-> 10\.1\.1\.2:80 +Masq +1 " "$table"
expect_match "be2 listed as NAT" "^ +-> 10\.1\.2\.2:80 +Masq +1 " "$table"

# `ipvsadm -Ln` sorts destinations by address; --nosort shows the kernel's own list, where
# each new destination goes to the head. rr walks that list from its head, so be2 (added
# last) answers first.
order=$(ipvsadm -Ln --nosort | sed -n 's/^ *-> \(10\.[0-9.]*\):80 .*/\1/p' | tr '\n' ' ')
expect_eq "kernel's destination order (--nosort)" "10.1.2.2 10.1.1.2 " "$order"
seq=
for i in 1 2 3 4; do
  body=$(http_get client "http://$VIP/") || fail "request $i through $VIP failed (status $?)"
  seq="$seq${seq:+ }$body"
done
expect_eq "backends answering four requests" "be2 be1 be2 be1" "$seq"

# The kernel folds its per-CPU counters into what --stats shows every 2 s: poll for it.
two_each() {
  stats=$(ipvsadm -Ln --stats) &&
    printf '%s\n' "$stats" | grep -Eq "^ +-> 10\.1\.1\.2:80 +2 " &&
    printf '%s\n' "$stats" | grep -Eq "^ +-> 10\.1\.2\.2:80 +2 "
}
wait_for 10 "ipvsadm -Ln --stats to count two connections per backend" two_each
ipvsadm -Ln --stats
pass
