#!/bin/sh
# timeout: 120
# lvsctl list/save print byte for byte what ipvsadm prints, on tables ipvsadm builds itself:
# every scheduler and scheduler flag, every forwarding method and tunnel option, IPv4 and
# IPv6 services and destinations, fwmark services of both families, persistence with netmasks
# and the sip engine, one-packet scheduling, thresholds, weight 0 — and every listing option;
# then the timeouts and sync daemons (--timeout, --daemon).
. /scenarios/lib.sh

[ -x /usr/bin/lvsctl ] || fail "no lvsctl in the guest: build the project first"
forwarding_on
echo 1 >/proc/sys/net/ipv6/conf/all/forwarding

n=1
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do
  run ipvsadm -A -t 192.0.2.$n:80 -s $s
  run ipvsadm -a -t 192.0.2.$n:80 -r 10.2.$n.1:80 -m -w $n
  run ipvsadm -a -t 192.0.2.$n:80 -r 10.2.$n.2:8080 -m -w 0
  n=$((n + 1))
done
run ipvsadm -A -t 192.0.2.100:443 -s sh -b sh-fallback,sh-port
run ipvsadm -A -u 192.0.2.100:53 -s mh -b mh-fallback,mh-port -o
run ipvsadm -A --sctp-service 192.0.2.100:5060 -s rr -p 600 -M 255.255.255.0 --pe sip
run ipvsadm -a --sctp-service 192.0.2.100:5060 -r 10.3.0.1:5060 -g -x 100 -y 10
run ipvsadm -a -t 192.0.2.100:443 -r 10.3.0.2:443 -i
run ipvsadm -a -t 192.0.2.100:443 -r 10.3.0.3:443 -i --tun-type gue --tun-port 6080 --tun-csum
run ipvsadm -a -t 192.0.2.100:443 -r 10.3.0.4:443 -i --tun-type gre --tun-csum
run ipvsadm -a -t 192.0.2.100:443 -r 10.3.0.5:443 -i --tun-type gue --tun-port 6081 --tun-nocsum
run ipvsadm -A -t [2001:db8::10]:443 -s wlc -p 300 -M 64
run ipvsadm -a -t [2001:db8::10]:443 -r [2001:db8:1::1]:443 -m -w 3
run ipvsadm -a -t [2001:db8::10]:443 -r [2001:db8:1::2]:8443 -m -x 50
run ipvsadm -A -u [2001:db8::10]:53 -s rr
run ipvsadm -a -u [2001:db8::10]:53 -r [2001:db8:1::3]:53 -g
run ipvsadm -A -f 7 -s rr
run ipvsadm -a -f 7 -r 10.4.0.1 -g
run ipvsadm -A -f 7 -6 -s wrr -p 60
run ipvsadm -a -f 7 -6 -r 2001:db8:2::1 -g -w 5
run ipvsadm -A -t 198.51.100.1:0 -s wlc -p 3600

same() {  # same LVSCTL_ARGS -- IPVSADM_ARGS
  _l=""; while [ "$1" != "--" ]; do _l="$_l $1"; shift; done; shift
  # shellcheck disable=SC2086
  a=$(lvsctl $_l 2>&1; echo "status $?"); b=$(ipvsadm "$@" 2>&1; echo "status $?")
  [ "$a" = "$b" ] || { printf 'lvsctl%s:\n%s\nipvsadm %s:\n%s\n' "$_l" "$a" "$*" "$b"; return 1; }
}
ipvsadm -Ln
for args in "-n" "-n --stats" "-n --stats --exact" "-n --rate" "-n --thresholds" "-n --persistent-conn" \
            "-n --tun-info" "-n --nosort" "-n --sort" "-n -t 192.0.2.100:443" "-n -u 192.0.2.100:53" \
            "-n --sctp-service 192.0.2.100:5060" "-n -t [2001:db8::10]:443" "-n -f 7" "-n -f 7 -6" \
            "-n -t 192.0.2.250:80" "-n --stats -t [2001:db8::10]:443"; do
  # shellcheck disable=SC2086
  poll 5 same list $args -- -L $args || { same list $args -- -L $args; fail "lvsctl list $args differs from ipvsadm -L $args"; }
  echo "ok: lvsctl list $args = ipvsadm -L $args"
done
same save -n -- -S -n || fail "lvsctl save -n differs from ipvsadm -S -n"
echo "ok: lvsctl save -n = ipvsadm -S -n"

# Timeouts and sync daemons: the kernel's defaults and none running, then set by ipvsadm.
compare_settings() {
  for args in "--timeout" "--daemon" "-n --timeout" "-n --daemon"; do
    # shellcheck disable=SC2086
    same list $args -- -L $args || fail "lvsctl list $args differs from ipvsadm -L $args ($1)"
    echo "ok: lvsctl list $args = ipvsadm -L $args ($1)"
  done
}
compare_settings "defaults"
sync_pair
run ipvsadm --set 1000 110 200
run ipvsadm --start-daemon backup --mcast-interface sync1 --syncid 9
compare_settings "backup only"
run ipvsadm --start-daemon master --mcast-interface sync0 --syncid 7 --sync-maxlen 1000 --mcast-group 239.1.2.3 \
  --mcast-port 9000 --mcast-ttl 3
compare_settings "set by ipvsadm"
pass
