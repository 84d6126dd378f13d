#!/usr/bin/env python3
"""Checks every sealed vector here with an independent ChaCha20-Poly1305
(Python's `cryptography`, backed by OpenSSL), following the construction in
docs/wire-format.md §7, sealed frames: header = AAD, nonce = direction label (u32 LE)
|| sequence (u64 LE), body + zero padding encrypted, tag, "PK\\r\\n".
Run: python3 docs/vectors/sealed/verify.py"""
import glob
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

LABELS = {"client-to-server": 1, "server-to-client": 2}
ok = True
for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.txt"))):
    fields = {}
    for line in open(path):
        if line.startswith("#") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    key = bytes.fromhex(fields["key"])
    body = bytes.fromhex(fields["body"])
    seq = int(fields["sequence"])
    padded = (len(body) + 3) & ~3
    header = struct.pack("<IBBHIQ", 40 + padded, 1, 1, int(fields["type_id"], 16), len(body), seq)
    nonce = struct.pack("<IQ", LABELS[fields["direction"]], seq)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, body + bytes(padded - len(body)), header)
    frame = header + sealed + b"PK\r\n"
    good = frame.hex() == fields["frame"]
    ok &= good
    print(("ok  " if good else "FAIL"), os.path.basename(path))
sys.exit(0 if ok else 1)
