#!/usr/bin/env python3
"""Hostile captures for the memory benchmark (deterministic, no dependencies).

  hostile.py synflood OUT.pcap [FLOWS]   one SYN from each of FLOWS distinct 5-tuples
  hostile.py holes OUT.pcap [CONNS]      CONNS connections whose first segment never comes,
                                         each followed by 256 KiB of out-of-order data

Peak RSS of `canh replay` on these must follow --max-flows and --reassembly-memcap-mib,
not the size of the capture.
"""
import struct
import sys


def ip_tcp(src, dst, sport, dport, seq, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + tcp


def write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1_800_000_000_000_000
        for frame in frames:
            t += 10
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def synflood(n):
    for i in range(n):
        src = struct.pack("!I", 0x0A000000 | (i >> 8))
        yield ip_tcp(src, b"\xc6\x12\x00\x01", 1024 + (i & 0xFF) * 200 % 60000, 80, i, 0x02)


def holes(n):
    chunk = b"x" * 1024
    for c in range(n):
        src = struct.pack("!I", 0x0A100000 | c)
        yield ip_tcp(src, b"\xc6\x12\x00\x02", 40000, 80, 1000, 0x02)
        # Byte 1001..2024 never arrives; everything after it does.
        for k in range(1, 257):
            yield ip_tcp(src, b"\xc6\x12\x00\x02", 40000, 80, 1001 + k * 1024, 0x18, chunk)


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else (2_000_000 if kind == "synflood" else 20_000)
    write(out, synflood(n) if kind == "synflood" else holes(n))
