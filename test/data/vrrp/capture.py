#!/usr/bin/env python3
# Prints every VRRP packet one interface receives for a while, one JSON line each: the raw
# VRRP payload in hex with its source, destination and TTL / hop limit. Run it as root in the
# receiving namespace: capture.py 4|6 IFNAME SECONDS (tcpdump is not on the dev image).
import json
import select
import socket
import struct
import sys
import time

family, ifname, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
index = socket.if_nametoindex(ifname)
if family == "4":
    # An IPv4 raw socket hands over the IP header too: the TTL and addresses come from it.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    group = struct.pack("=4s4si", socket.inet_aton("224.0.0.18"), b"\0" * 4, index)  # ip_mreqn
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group)
else:
    # An IPv6 raw socket hands over the payload only: the rest comes as ancillary data.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    group = socket.inet_pton(socket.AF_INET6, "ff02::12") + struct.pack("=I", index)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())

end = time.time() + seconds
while select.select([s], [], [], max(0.0, end - time.time()))[0]:
    if family == "4":
        packet = s.recv(65535)
        header = (packet[0] & 0x0F) * 4
        record = {"src": socket.inet_ntoa(packet[12:16]), "dst": socket.inet_ntoa(packet[16:20]),
                  "ttl": packet[8], "vrrp": packet[header:].hex()}
    else:
        data, ancillary, _, source = s.recvmsg(65535, 1024)
        record = {"src": source[0], "vrrp": data.hex()}
        for _, kind, value in ancillary:
            if kind == socket.IPV6_PKTINFO:
                record["dst"] = socket.inet_ntop(socket.AF_INET6, value[:16])
            elif kind == socket.IPV6_HOPLIMIT:
                record["ttl"] = struct.unpack("=i", value)[0]
    print(json.dumps(record), flush=True)
