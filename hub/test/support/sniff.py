#!/usr/bin/python3
"""Prints one line per frame seen on a network interface (needs root): ARP or IPv4 source → destination,
protocol and port. Used by the no-contact test to say which address the hub tried to reach."""
import socket
import struct
import sys

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    frame = s.recv(65535)
    kind = struct.unpack("!H", frame[12:14])[0]
    if kind == 0x0806:
        print(f"ARP who-has {socket.inet_ntoa(frame[38:42])}", flush=True)
    elif kind == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[23]
        src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
        port = struct.unpack("!H", frame[14 + ihl + 2 : 14 + ihl + 4])[0] if proto in (6, 17) else 0
        name = {6: "TCP", 17: "UDP", 1: "ICMP"}.get(proto, str(proto))
        print(f"{name} {src} -> {dst}:{port}", flush=True)
    else:
        print(f"ethertype 0x{kind:04x}", flush=True)
