#!/bin/sh
# timeout: 120
# lvsd keeps the kernel's connection timeouts and sync daemons as declared: it sets them,
# undoes drift (a daemon stopped by hand, timeouts changed by hand), sends nothing when a
# restart finds them right, stops a daemon a reload no longer declares, and on_exit =
# "remove" stops the daemons it declares but leaves the timeouts. ipvsadm is the witness.
. /scenarios/lib.sh

[ -x /usr/bin/lvsd ] || fail "no lvsd in the guest: build the project first"
sync_pair

write_config() {  # write_config ON_EXIT WITH_BACKUP
  cat >/tmp/lvsd.toml <<EOT
[ipvs]
reconcile_interval = "300ms"
on_exit = "$1"
timeouts = { tcp = "1000s", udp = 200 }

[[ipvs.sync_daemon]]
role = "master"
interface = "sync0"
sync_id = 3
port = 9100
ttl = 2
EOT
  [ "$2" = yes ] && cat >>/tmp/lvsd.toml <<EOT

[[ipvs.sync_daemon]]
role = "backup"
interface = "sync1"
EOT
  return 0
}

MASTER="master sync daemon (mcast=sync0, syncid=3, maxlen=1472, group=224.0.0.81, port=9100, ttl=2)"
BACKUP="backup sync daemon (mcast=sync1, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
daemons_are() { [ "$(ipvsadm -L --daemon)" = "$1" ]; }
timeouts_are() { [ "$(ipvsadm -L --timeout)" = "Timeout (tcp tcpfin udp): $1" ]; }

expect_eq "kernel timeouts before lvsd" "Timeout (tcp tcpfin udp): 900 120 300" "$(ipvsadm -L --timeout)"
write_config keep yes
start_lvsd /tmp/lvsd.log
expect_eq "daemons started" "$MASTER
$BACKUP" "$(ipvsadm -L --daemon)"
expect_eq "timeouts set, tcp_fin left alone" "Timeout (tcp tcpfin udp): 1000 120 200" "$(ipvsadm -L --timeout)"
expect_eq "lvsctl list --daemon = ipvsadm -L --daemon" "$(ipvsadm -L --daemon)" "$(lvsctl list --daemon)"

# Drift: a daemon stopped by hand, timeouts changed by hand.
run ipvsadm --stop-daemon master
wait_for 10 "lvsd to restart the master sync daemon" daemons_are "$MASTER
$BACKUP"
expect_match "daemon drift logged" "drift: start master sync daemon on sync0 \(sync_id 3, port 9100, ttl 2\)" "$(cat /tmp/lvsd.log)"
run ipvsadm --set 50 60 70
wait_for 10 "lvsd to restore the timeouts it declares" timeouts_are "1000 60 200"
expect_match "timeout drift logged" "drift: set timeouts tcp 1000 s, udp 200 s" "$(cat /tmp/lvsd.log)"
# (lvsd's pool process paused meanwhile, or it would restart the backup between the two
# commands)
kill -STOP "$LVSD_POOL_PID"
run ipvsadm --stop-daemon backup
run ipvsadm --start-daemon backup --mcast-interface sync1 --syncid 4
kill -CONT "$LVSD_POOL_PID"
wait_for 10 "lvsd to replace a backup daemon of the wrong sync ID" daemons_are "$MASTER
$BACKUP"
expect_match "replacement logged" "drift: stop backup sync daemon" "$(cat /tmp/lvsd.log)"

# Restart with the same config: nothing to send.
stop_lvsd
expect_eq "daemons kept on exit (on_exit = keep)" "$MASTER
$BACKUP" "$(ipvsadm -L --daemon)"
start_lvsd /tmp/lvsd2.log
expect_match "restart sends nothing" "0 operations applied, 0 refused" "$(cat /tmp/lvsd2.log)"

# A reload without the backup daemon stops it.
write_config remove no
kill -HUP "$LVSD_PID"
wait_for 10 "the reload to stop the backup daemon" daemons_are "$MASTER"

# on_exit = "remove": the declared daemon stops; the timeouts stay.
stop_lvsd
expect_eq "no daemon after on_exit = remove" "" "$(ipvsadm -L --daemon)"
expect_eq "timeouts kept" "Timeout (tcp tcpfin udp): 1000 60 200" "$(ipvsadm -L --timeout)"
pass
