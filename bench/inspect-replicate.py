#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""inspect-replicate.py: grow a small capture of real handshakes into a big one.

Usage:
  bench/inspect-replicate.py SEED.pcap OUT.pcap SIZE_MIB [--server-port P]
                             [--new-server-port 443] [--concurrency N]

SEED.pcap is a classic pcap (microsecond or nanosecond, either byte order)
of TCP over IPv4 on Ethernet (tcpdump -i lo) or Linux cooked v1/v2
(-i any). OUT.pcap receives copies of every packet until it holds about
SIZE_MIB MiB (whole copies; at least one). Each copy k gets:
  - its own client address 10.(k>>8).(k&255).2 and server address
    10.255.255.1, and client ports shifted by k, so every connection of
    every copy has a distinct 4-tuple;
  - the server port P rewritten to --new-server-port (443 by default, so
    that tshark decodes TLS without -d);
  - shifted timestamps: copies run in batches of --concurrency (default 32)
    whose packets interleave (copy j of a batch starts j*37 us after the
    first), batches one after another from the seed's own start (or
    --start EPOCH_SECONDS), so tickets stay within their lifetime and keys
    in the state they had; the output is in time order;
  - a correct IPv4 header checksum (TCP checksums are left as captured:
    loopback captures carry unfinished ones anyway, offload).
Only the Python standard library is used.
"""

import argparse
import heapq
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


def die(msg):
    print("inspect-replicate.py: error: " + msg, file=sys.stderr)
    sys.exit(1)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        die(path + ": not a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        die(path + ": not a classic pcap file (pcapng? convert with editcap -F pcap)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    packets = []
    at = 24
    while at + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[at:at + 16])
        at += 16
        if at + incl > len(data):
            break  # truncated last record
        usec = frac // 1000 if nano else frac
        packets.append((sec * 1000000 + usec, orig, data[at:at + incl]))
        at += incl
    return linktype, snaplen, packets


def ip_offset(linktype, frame):
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) >= 14 and frame[12:14] == b"\x08\x00":
            return 14
        return None
    if linktype == LINKTYPE_LINUX_SLL:
        if len(frame) >= 16 and frame[14:16] == b"\x08\x00":
            return 16
        return None
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(frame) >= 20 and frame[0:2] == b"\x08\x00":
            return 20
        return None
    die("unsupported link type %d" % linktype)


def ip_checksum(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


class Template:
    """A seed packet split where the copies differ."""

    __slots__ = ("ts", "orig", "frame", "ip", "ihl", "client_is_src", "client_port")

    def __init__(self, ts, orig, frame, ip, ihl, client_is_src, client_port):
        self.ts = ts
        self.orig = orig
        self.frame = frame
        self.ip = ip
        self.ihl = ihl
        self.client_is_src = client_is_src
        self.client_port = client_port


def build_templates(linktype, packets, server_port):
    templates = []
    skipped = 0
    for ts, orig, frame in packets:
        ip = ip_offset(linktype, frame)
        if ip is None or len(frame) < ip + 20 or frame[ip] >> 4 != 4 or frame[ip + 9] != 6:
            skipped += 1
            continue
        ihl = (frame[ip] & 0x0F) * 4
        tcp = ip + ihl
        if len(frame) < tcp + 4:
            skipped += 1
            continue
        sport, dport = struct.unpack("!HH", frame[tcp:tcp + 4])
        if dport == server_port:
            templates.append(Template(ts, orig, frame, ip, ihl, True, sport))
        elif sport == server_port:
            templates.append(Template(ts, orig, frame, ip, ihl, False, dport))
        else:
            skipped += 1
    return templates, skipped


def render(t, copy, new_server_port):
    frame = bytearray(t.frame)
    ip = t.ip
    client_addr = bytes((10, (copy >> 8) & 0xFF, copy & 0xFF, 2))
    server_addr = bytes((10, 255, 255, 1))
    if t.client_is_src:
        frame[ip + 12:ip + 16] = client_addr
        frame[ip + 16:ip + 20] = server_addr
    else:
        frame[ip + 12:ip + 16] = server_addr
        frame[ip + 16:ip + 20] = client_addr
    frame[ip + 10:ip + 12] = b"\x00\x00"
    struct.pack_into("!H", frame, ip + 10, ip_checksum(frame[ip:ip + t.ihl]))
    client_port = 1024 + (t.client_port - 1024 + copy * 131) % 64000
    tcp = ip + t.ihl
    if t.client_is_src:
        struct.pack_into("!HH", frame, tcp, client_port, new_server_port)
    else:
        struct.pack_into("!HH", frame, tcp, new_server_port, client_port)
    return bytes(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seed")
    ap.add_argument("out")
    ap.add_argument("size_mib", type=float)
    ap.add_argument("--server-port", type=int, required=True,
                    help="the TLS server's port in the seed")
    ap.add_argument("--new-server-port", type=int, default=443)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--start", type=int, default=None,
                    help="epoch seconds of the first packet (default: the seed's)")
    args = ap.parse_args()

    linktype, snaplen, packets = read_pcap(args.seed)
    templates, skipped = build_templates(linktype, packets, args.server_port)
    if not templates:
        die("no TCP/IPv4 packets to or from port %d in %s" % (args.server_port, args.seed))
    t0 = templates[0].ts
    span = templates[-1].ts - t0
    copy_bytes = sum(16 + len(t.frame) for t in templates)
    target = int(args.size_mib * 1024 * 1024)
    copies = max(1, (target - 24) // copy_bytes)
    if copies > 65536:
        die("%d copies needed; more than the 65536 distinct client addresses" % copies)
    concurrency = max(1, args.concurrency)
    stagger = 37  # microseconds between the copies of one batch
    batch_span = span + stagger * concurrency + 1000

    written = 0
    with open(args.out, "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        written += 24
        base = t0 if args.start is None else args.start * 1000000
        for batch_start in range(0, copies, concurrency):
            batch = range(batch_start, min(copies, batch_start + concurrency))
            batch_base = base + (batch_start // concurrency) * batch_span

            def stream(copy, batch_base=batch_base, batch_start=batch_start):
                offset = batch_base + (copy - batch_start) * stagger
                for i, t in enumerate(templates):
                    yield (t.ts - t0 + offset, copy, i)

            for ts, copy, i in heapq.merge(*(stream(c) for c in batch)):
                t = templates[i]
                frame = render(t, copy, args.new_server_port)
                out.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(frame), t.orig))
                out.write(frame)
                written += 16 + len(frame)
    print("seed: %d packets (%d skipped), %d bytes per copy; wrote %d copies, %d packets, %.1f MiB"
          % (len(templates), skipped, copy_bytes, copies, copies * len(templates),
             written / 1048576.0), file=sys.stderr)
    print(copies)


if __name__ == "__main__":
    main()
