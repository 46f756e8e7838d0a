#!/usr/bin/env python3
"""Writes x86-64 glibc `struct utmp` records (bits/utmp.h, 384 bytes, little-endian) for the utmp tests.

Usage: make-wtmp.py OUT [--partial N]
Records: a boot, a run level change, a login process, an IPv4 ssh login, an IPv6 login, a logout, a shutdown.
--partial N appends N stray bytes (a record cut by a crash).
"""
import socket
import struct
import sys

FMT = '<hxxi32s4s32s256shhii i16s20s'.replace(' ', '')
assert struct.calcsize(FMT) == 384


def rec(t, pid, line, id_, user, host, sec, usec, addr=b'\0' * 16, session=0, term=0, exit_=0):
    return struct.pack(FMT, t, pid, line, id_, user, host, term, exit_, session, sec, usec, addr, b'')


def v4(a):
    return socket.inet_pton(socket.AF_INET, a) + b'\0' * 12


def v6(a):
    return socket.inet_pton(socket.AF_INET6, a)


RECORDS = [
    rec(2, 0, b'~', b'~~', b'reboot', b'6.1.0-18-amd64', 1714550000, 0),
    rec(1, 0x35, b'~', b'~~', b'runlevel', b'6.1.0-18-amd64', 1714550005, 500),
    rec(6, 700, b'tty1', b'tty1', b'LOGIN', b'', 1714550006, 0),
    rec(7, 1234, b'pts/0', b'ts/0', b'alice', b'203.0.113.7', 1714558830, 123456, v4('203.0.113.7'), session=1234),
    rec(7, 1300, b'pts/1', b'ts/1', b'bob', b'2001:db8::5', 1714558900, 1, v6('2001:db8::5'), session=1300),
    rec(8, 1234, b'pts/0', b'ts/0', b'', b'', 1714560000, 999999, term=0, exit_=0),
    rec(1, 0x30, b'~~', b'~~', b'shutdown', b'6.1.0-18-amd64', 1714570000, 0),
]

if __name__ == '__main__':
    out = sys.argv[1]
    data = b''.join(RECORDS)
    if len(sys.argv) > 3 and sys.argv[2] == '--partial':
        data += b'\x07' * int(sys.argv[3])
    with open(out, 'wb') as f:
        f.write(data)
