#!/usr/bin/env python3
"""An independent client of the packet wire format, against the Rust servers.

Written from docs/wire-format.md alone (Python standard library; the
`cryptography` package's ChaCha20Poly1305 for sealed frames, skipped
without it): its
own CRC-32 (§2.4), frame encoder (§2), validator (§4, the thirteen rules in
order), stream decoder (§5.2), session hello and refusal (§11.5), protocol
fingerprint (§11.2-11.4), close notice (§12) and sealed frames with
their replay state (§7). It talks over loopback to
`cargo run -p packet-examples --example interop_server`, which serves, from
a base port P (default 7410):

  P     TCP, plaintext, no fingerprint        echo of type 0x0001
  P+1   TCP, fingerprint of the Echo set, at most 2 sessions
  P+2   UDP, plaintext session server, no fingerprint
  P+3   UDP, fingerprint of the Echo set, at most 1 session
  P+4   TCP, sealed (§7), no fingerprint
  P+5   UDP, sealed, fingerprint of the Echo set

The Echo set is one packet, `packet Echo = 0x0001 { data: bytes }`; the
fingerprint the servers check is computed by the Rust derive, the one this
client sends is computed here from §11.

Run: `python3 docs/vectors/interop.py [--host 127.0.0.1] [--port 7410]`
(exit status 1 on any mismatch; every check is printed).
"""

import argparse
import glob
import json
import os
import socket
import struct
import sys
import time

try:  # sealed frames (§7) only; everything else is the standard library
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError:
    ChaCha20Poly1305 = None

ENDING = b"PK\r\n"
VERSION = 1
DEFAULT_MAX = 65536
CONTROL = 0xFFFF
ECHO = 0x0001
TIMEOUT = 3.0

# ------------------------------------------------------------ §2.4 CRC-32


def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0xEDB88320 if c & 1 else 0)
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32(b"123456789") == 0xCBF43926

# ------------------------------------------------------------ §2 encoding


def pad_len(n):
    return (n + 3) & ~3


def encode_frame(type_id, sequence, body, flags=0):
    p = pad_len(len(body))
    length = 28 + p
    head = struct.pack("<IBBHIQ", length, VERSION, flags, type_id, len(body), sequence)
    covered = head + body + b"\0" * (p - len(body))
    return covered + struct.pack("<I", crc32(covered)) + ENDING


# ------------------------------------------------------------ §4 validation


class FrameError(Exception):
    def __init__(self, variant, **fields):
        super().__init__(f"frame.{variant} {fields}")
        self.variant = variant
        self.fields = fields


def effective_max(configured=DEFAULT_MAX):
    return max(configured & ~3, 40)  # §2.6


def check_head(buf, max_len):
    """Rules 1-4 (the first four bytes). Returns the length."""
    if len(buf) < 4:
        raise FrameError("Truncated", available=len(buf), needed=4)
    (length,) = struct.unpack_from("<I", buf, 0)
    if length < 28:
        raise FrameError("LengthTooSmall", length=length, min=28)
    if length > max_len:
        raise FrameError("LengthTooLarge", length=length, max=max_len)
    if length % 4:
        raise FrameError("Misaligned", length=length)
    return length


class Frame:
    def __init__(self, raw):
        self.raw = bytes(raw)
        self.length, self.version, self.flags, self.type_id, self.body_len, self.sequence = struct.unpack_from(
            "<IBBHIQ", raw, 0
        )
        self.body = self.raw[20 : 20 + self.body_len]

    def __repr__(self):
        return f"Frame(type=0x{self.type_id:04x}, seq={self.sequence}, body={self.body.hex()})"


def check_rest(frame, length):
    """Rules 7-13 on a complete plaintext frame of `length` bytes."""
    version, flags = frame[4], frame[5]
    if version != VERSION:
        raise FrameError("BadVersion", found=version, expected=VERSION)
    if flags & 0xFE:
        raise FrameError("ReservedFlags", flags=flags)
    if flags & 0x01:
        raise FrameError("UnexpectedEncryption", sealed=True)
    (body_len,) = struct.unpack_from("<I", frame, 8)
    room = length - 20 - 4 - 4
    if body_len > room or pad_len(body_len) != room:
        raise FrameError("BodyLengthMismatch", body_len=body_len, length=length)
    if frame[length - 4 : length] != ENDING:
        raise FrameError("BadEnding", found=frame[length - 4 : length].hex())
    p = room
    (expected,) = struct.unpack_from("<I", frame, 20 + p)
    computed = crc32(frame[: 20 + p])
    if expected != computed:
        raise FrameError("CrcMismatch", expected=expected, computed=computed)
    for off in range(20 + body_len, 20 + p):
        if frame[off]:
            raise FrameError("NonZeroPadding", offset=off, value=frame[off])
    return Frame(frame[:length])


def decode_datagram(data, max_len=DEFAULT_MAX):
    """§5.1: exactly one frame, rules 1-13 in order."""
    max_len = effective_max(max_len)
    length = check_head(data, max_len)
    if len(data) < length:
        raise FrameError("Truncated", available=len(data), needed=length)
    if len(data) > length:
        raise FrameError("TrailingBytes", length=length, extra=len(data) - length)
    return check_rest(data, length)


class StreamDecoder:
    """§5.2: any chunking, rules 1-4 at 4 bytes, 7-13 on the whole frame,
    stops at the first error, UnexpectedEof on a frame cut by the end."""

    def __init__(self, max_len=DEFAULT_MAX):
        self.max = effective_max(max_len)
        self.buf = bytearray()
        self.error = None

    def feed(self, data):
        self.buf += data

    def next_frame(self):
        if self.error:
            raise self.error
        try:
            if len(self.buf) < 4:
                return None
            length = check_head(self.buf, self.max)
            if len(self.buf) < length:
                return None
            frame = check_rest(bytes(self.buf[:length]), length)
        except FrameError as e:
            self.error = e
            raise
        del self.buf[:length]
        return frame

    def finish(self):
        if self.error:
            raise self.error
        if self.buf:
            self.error = FrameError("UnexpectedEof", buffered=len(self.buf))
            raise self.error


# ------------------------------------------------------------ §11 fingerprint


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def echo_set_fingerprint():
    """`packet Echo = 0x0001 { data: bytes }`: bytes is list<u8> with the
    default u16 prefix, bound 65 535 (§11.2)."""
    layout = b"\x14" + struct.pack("<I", 1) + b"\x11\x02" + struct.pack("<I", 0xFFFF) + b"\x01"
    desc = b"PKFP\x01" + struct.pack("<I", 1) + struct.pack("<H", ECHO) + layout
    return fnv1a64(desc)


def hello(fingerprint, token=bytes(16)):
    """§11.5: the hello with a fingerprint (plaintext: a zero token)."""
    return encode_frame(CONTROL, 0, token + struct.pack("<Q", fingerprint))


REASONS = {
    1: "server full",
    2: "server shutting down",
    3: "idle timeout",
    4: "protocol error",
    5: "server error",
}


def describe_notice(reason, detail):
    if reason == 6:
        what = f"closed by the application (code {detail})"
    else:
        what = REASONS.get(reason, f"other({reason})")
    return f"the server closed the session: {what}"


def control_kind(frame):
    """Type 0xFFFF from a server: refusal (body 8) or close notice (body 4)."""
    if frame.type_id != CONTROL or frame.flags:
        return None
    if frame.body_len == 8:
        return ("refusal", struct.unpack("<Q", frame.body)[0])
    if frame.body_len == 4:
        return ("notice",) + struct.unpack("<HH", frame.body)
    return None


# ------------------------------------------------------------ checks

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)
    return cond


def tcp_connect(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_stream(sock, want=None, timeout=TIMEOUT):
    """Reads frames until `want` frames arrived, the stream ended, or the
    timeout. Returns (frames, end) with end one of "eof", "timeout",
    "reset" or a FrameError."""
    dec = StreamDecoder()
    frames = []
    deadline = time.monotonic() + timeout
    last = False  # a notice or refusal arrived: the session's last frame
    while want is None or len(frames) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            return frames, "quiet" if last else "timeout"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return frames, "quiet" if last else "timeout"
        except ConnectionResetError:
            return frames, "reset"
        if not data:
            try:
                dec.finish()
            except FrameError as e:
                return frames, e
            return frames, "eof"
        dec.feed(data)
        try:
            while True:
                f = dec.next_frame()
                if f is None:
                    break
                frames.append(f)
                if control_kind(f) and not last:
                    # §11.5, §12: nothing follows it. The server lingers
                    # (reads until we close), so do not wait for its end
                    # of stream: watch briefly for stray bytes instead.
                    last = True
                    deadline = min(deadline, time.monotonic() + 0.3)
        except FrameError as e:
            return frames, e
    return frames, "done"


def expect_echoes(frames, bodies, first_seq, what):
    ok = check(len(frames) >= len(bodies), f"{what}: {len(bodies)} replies (got {len(frames)})")
    for i, (f, b) in enumerate(zip(frames, bodies)):
        ok &= check(
            f.type_id == ECHO and f.body == b and f.flags == 0,
            f"{what}: reply {i} is type 0x0001 with the body sent ({len(b)} bytes)",
        )
        ok &= check(f.sequence == first_seq + i, f"{what}: reply {i} sequence {f.sequence} == {first_seq + i} (§9)")
    return ok


def expect_notice_then_end(frames, end, reason, what):
    kinds = [control_kind(f) for f in frames]
    check(
        len(frames) >= 1 and kinds[-1] is not None and kinds[-1][0] == "notice",
        f"{what}: the last frame is a close notice (got {frames[-1:] if frames else 'nothing'}, end {end})",
    )
    if frames and kinds[-1] and kinds[-1][0] == "notice":
        n = frames[-1]
        _, r, d = kinds[-1]
        check(r == reason and d == 0, f"{what}: {describe_notice(r, d)!r} (reason {r}, expected {reason})")
        check(n.sequence == 0 and n.length == 32, f"{what}: the notice is plain, sequence 0, 32 bytes (§12)")
    check(end in ("eof", "reset", "quiet"), f"{what}: nothing after the notice (end: {end})")


# ------------------------------------------------------------ the vectors


def read_vector(path):
    meta, hexdigits = {}, []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta.setdefault(key.strip(), value.strip())
        else:
            hexdigits.append("".join(line.split()))
    return meta, bytes.fromhex("".join(hexdigits))


def vector_tests():
    """The encoder and validator above against valid/ and invalid/ (frame
    family only: bodies are decode.py's), before trusting them on a wire."""
    print("== the encoder and the §4 validator against the vectors")
    here = os.path.dirname(os.path.abspath(__file__))
    n = 0
    for path in sorted(glob.glob(os.path.join(here, "valid", "*.hex"))):
        meta, raw = read_vector(path)
        mx = int(meta.get("max_frame_len", DEFAULT_MAX))
        built = encode_frame(int(meta["type_id"], 16), int(meta["sequence"]), bytes.fromhex(meta["body"]))
        n += check(built == raw, f"{os.path.basename(path)}: encoded byte for byte") is True
        try:
            f = decode_datagram(raw, mx)
            n += check(f.body.hex() == meta["body"], f"{os.path.basename(path)}: decodes") is True
        except FrameError as e:
            check(False, f"{os.path.basename(path)}: decodes ({e})")
    for path in sorted(glob.glob(os.path.join(here, "invalid", "*.hex"))):
        meta, raw = read_vector(path)
        family, _, rest = meta["expect"].partition(".")
        if family != "frame":
            continue
        variant, _, fields = rest.partition(" ")
        expected = (variant, json.loads(fields))
        mx = int(meta.get("max_frame_len", DEFAULT_MAX))
        got = None
        try:
            if meta.get("mode") == "stream":
                dec = StreamDecoder(mx)
                dec.feed(raw)
                while dec.next_frame() is not None:
                    pass
                dec.finish()
            else:
                decode_datagram(raw, mx)
        except FrameError as e:
            got = (e.variant, e.fields)
        n += check(got == expected, f"{os.path.basename(path)}: {got} == {expected}") is True
    if ChaCha20Poly1305 is not None:
        for path in sorted(glob.glob(os.path.join(here, "sealed", "*.txt"))):
            meta = {}
            for line in open(path, encoding="utf-8"):
                if not line.startswith("#") and ":" in line:
                    key, _, value = line.partition(":")
                    meta[key.strip()] = value.strip()
            aead = ChaCha20Poly1305(bytes.fromhex(meta["key"]))
            label = C2S if meta["direction"] == "client-to-server" else S2C
            seq, body = int(meta["sequence"]), bytes.fromhex(meta["body"])
            built = seal(aead, label, int(meta["type_id"], 16), seq, body)
            n += check(built.hex() == meta["frame"], f"sealed/{os.path.basename(path)}: sealed byte for byte") is True
            if label == S2C:
                f = Opener(aead, windowed=False).open(built, len(built))
                n += check(f.body == body, f"sealed/{os.path.basename(path)}: opens") is True
    print(f"     {n} vector checks")


# ------------------------------------------------------------ TCP


def tcp_tests(host, port):
    print(f"== TCP plaintext server, no fingerprint ({host}:{port})")
    bodies = [b"", b"a", b"ab", b"abc", b"abcd", b"abcde", bytes(range(256)) * 4, b"\0\0\0"]
    s = tcp_connect(host, port)
    # §5.2: several frames in one write.
    s.sendall(b"".join(encode_frame(ECHO, i, b) for i, b in enumerate(bodies)))
    frames, end = read_stream(s, len(bodies))
    expect_echoes(frames, bodies, 0, "coalesced write")
    # §5.2: one frame split across writes, inside the length field too.
    big = bytes((i * 7) & 0xFF for i in range(3001))
    raw = encode_frame(ECHO, 100, big)
    pos = 0
    for cut in (1, 3, 4, 19, 20, 23, 1000, len(raw) - 4, len(raw) - 1, len(raw)):
        s.sendall(raw[pos:cut])
        pos = cut
        time.sleep(0.01)
    frames, end = read_stream(s, 1)
    expect_echoes(frames, [big], len(bodies), "frame split across 10 writes")
    # Two frames, with the boundary inside a write.
    a, b = encode_frame(ECHO, 101, b"first"), encode_frame(ECHO, 102, b"second!")
    both = a + b
    s.sendall(both[:30])
    time.sleep(0.02)
    s.sendall(both[30:])
    frames, end = read_stream(s, 2)
    expect_echoes(frames, [b"first", b"second!"], len(bodies) + 1, "boundary inside a write")
    # Many small frames, replies read in whatever coalescing they arrive.
    many = [struct.pack("<I", i) * (i % 5) for i in range(200)]
    s.sendall(b"".join(encode_frame(ECHO, 200 + i, m) for i, m in enumerate(many)))
    frames, end = read_stream(s, len(many))
    expect_echoes(frames, many, len(bodies) + 3, "200 frames in one write")
    s.close()

    # §11.5: a server without a fingerprint takes the plaintext hello as the
    # first frame and does not hand it on.
    s = tcp_connect(host, port)
    s.sendall(hello(0x0123456789ABCDEF) + encode_frame(ECHO, 1, b"after hello"))
    frames, end = read_stream(s, 1)
    expect_echoes(frames, [b"after hello"], 0, "plaintext hello (any fingerprint) to a server without one")
    s.close()

    # §12 + §9: replies to the valid frames before a bad one, then the close
    # notice with reason 4, then the end; nothing for the frame after it.
    s = tcp_connect(host, port)
    bad = bytearray(encode_frame(ECHO, 2, b"bad crc"))
    bad[20] ^= 0xFF  # the body changes, the check does not
    s.sendall(encode_frame(ECHO, 0, b"one") + encode_frame(ECHO, 1, b"two") + bytes(bad) + encode_frame(ECHO, 3, b"never"))
    frames, end = read_stream(s, None)
    expect_echoes(frames[:2], [b"one", b"two"], 0, "bad CRC: the replies before it")
    check(len(frames) == 3, f"bad CRC: two replies and the notice, nothing else ({len(frames)} frames)")
    expect_notice_then_end(frames, end, 4, "bad CRC")
    s.close()

    # Other §4 failures end the session the same way.
    for name, raw in (
        ("reserved flag", encode_frame(ECHO, 0, b"x", flags=0x02)),
        ("bad version", bytes([0x1C, 0, 0, 0, 2]) + encode_frame(ECHO, 0, b"")[5:]),
        ("length too large", struct.pack("<I", 65540) + bytes(24)),
        ("misaligned", struct.pack("<I", 30) + bytes(26)),
    ):
        s = tcp_connect(host, port)
        s.sendall(encode_frame(ECHO, 0, b"ok") + raw)
        frames, end = read_stream(s, None)
        expect_echoes(frames[:1], [b"ok"], 0, f"{name}: the reply before it")
        expect_notice_then_end(frames, end, 4, name)
        s.close()

    # §9: a type id without a handler is a protocol error too.
    s = tcp_connect(host, port)
    s.sendall(encode_frame(ECHO, 0, b"ok") + encode_frame(0x0042, 1, b"?"))
    frames, end = read_stream(s, None)
    expect_echoes(frames[:1], [b"ok"], 0, "unknown type id: the reply before it")
    expect_notice_then_end(frames, end, 4, "unknown type id")
    s.close()

    # §5.2: a stream ending mid-frame; the server must not answer it.
    s = tcp_connect(host, port)
    s.sendall(encode_frame(ECHO, 0, b"ok") + encode_frame(ECHO, 1, b"cut")[:10])
    s.shutdown(socket.SHUT_WR)
    frames, end = read_stream(s, None)
    expect_echoes(frames[:1], [b"ok"], 0, "stream cut mid-frame: the reply before it")
    check(all(control_kind(f) is None or control_kind(f)[0] == "notice" for f in frames[1:]), "stream cut mid-frame: nothing but a notice after")
    check(end in ("eof", "reset"), f"stream cut mid-frame: the connection ends ({end})")
    s.close()


def tcp_fingerprint_tests(host, port, fp):
    print(f"== TCP server with fingerprint 0x{fp:016x}, at most 2 sessions ({host}:{port})")

    def open_session(label):
        for _ in range(20):
            s = tcp_connect(host, port)
            s.sendall(hello(fp) + encode_frame(ECHO, 1, label))
            frames, end = read_stream(s, 1)
            if frames and control_kind(frames[0]) == ("notice", 1, 0):
                s.close()  # a slot of an earlier test not yet freed
                time.sleep(0.1)
                continue
            return s, frames, end
        return s, frames, end

    s, frames, end = open_session(b"matching")
    expect_echoes(frames, [b"matching"], 0, "matching fingerprint: the session goes on")
    # §12 server full, stream: a plain notice with reason 1, then the close.
    s2, frames, end = open_session(b"second")
    expect_echoes(frames, [b"second"], 0, "second session")
    s3 = tcp_connect(host, port)
    frames, end = read_stream(s3, None)
    check(len(frames) == 1, f"third session on a 2-session server: one frame ({frames})")
    expect_notice_then_end(frames, end, 1, "server full")
    for x in (s, s2, s3):
        x.close()
    time.sleep(0.2)

    # §11.5: a wrong fingerprint gets the refusal (36 bytes, S), no notice.
    wrong = fp ^ 0xFFFF
    s, frames, end = open_session(b"ignored")
    s.close()
    s = tcp_connect(host, port)
    s.sendall(hello(wrong) + encode_frame(ECHO, 1, b"never read"))
    frames, end = read_stream(s, None)
    kinds = [control_kind(f) for f in frames]
    check(len(frames) == 1, f"wrong fingerprint: exactly one frame ({frames}, end {end})")
    if frames:
        f = frames[0]
        check(kinds[0] == ("refusal", fp), f"wrong fingerprint: the refusal carries the server's 0x{fp:016x} ({kinds[0]})")
        check(f.length == 36 and f.sequence == 0, "wrong fingerprint: the refusal is 36 bytes, sequence 0")
        print(f"     protocol mismatch: client 0x{wrong:016x}, server 0x{kinds[0][1] if kinds[0] else 0:016x}")
    check(end in ("eof", "reset", "quiet"), f"wrong fingerprint: nothing after the refusal ({end})")
    s.close()

    # §11.5 step 1: a first frame that is not the hello the server requires
    # ends the session without a refusal.
    for name, first in (
        ("no hello", encode_frame(ECHO, 0, b"hi")),
        ("version-1 hello (body 16)", encode_frame(CONTROL, 0, bytes(16))),
        ("hello with a non-zero token", hello(fp, token=b"\x01" * 16)),
    ):
        for _ in range(20):
            s = tcp_connect(host, port)
            s.sendall(first + encode_frame(ECHO, 1, b"never"))
            frames, end = read_stream(s, None)
            if [control_kind(f) for f in frames] != [("notice", 1, 0)]:
                break
            s.close()  # a slot of an earlier test not yet freed (the
            time.sleep(0.1)  # server learns of a close asynchronously)
        check(not any(control_kind(f) and control_kind(f)[0] == "refusal" for f in frames), f"{name}: no refusal")
        check(not any(f.type_id == ECHO for f in frames), f"{name}: nothing echoed")
        expect_notice_then_end(frames, end, 4, name)
        s.close()


# ------------------------------------------------------------ UDP


def udp_socket(host):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 0))
    return u


def udp_recv(u, timeout=TIMEOUT):
    """One datagram, validated as exactly one frame (§5.1), or None."""
    u.settimeout(timeout)
    try:
        data, _ = u.recvfrom(65536)
    except socket.timeout:
        return None
    try:
        return decode_datagram(data)
    except FrameError as e:
        check(False, f"datagram from the server fails §4: {e}")
        return None


def udp_tests(host, port):
    print(f"== UDP plaintext session server, no fingerprint ({host}:{port})")
    u = udp_socket(host)
    dst = (host, port)
    bodies = [b"", b"a", b"abc", b"abcd", bytes(range(256)) * 4]
    for i, b in enumerate(bodies):
        u.sendto(encode_frame(ECHO, i, b), dst)
        f = udp_recv(u)
        check(f is not None and f.type_id == ECHO and f.body == b, f"datagram {i}: echoed ({len(b)} bytes)")
        check(f is not None and f.sequence == i, f"datagram {i}: sequence {f and f.sequence} == {i} (§9: per peer)")
    n = len(bodies)
    # §5.1: dropped datagrams get nothing, and the session goes on.
    two = encode_frame(ECHO, 10, b"one") + encode_frame(ECHO, 11, b"two")
    bad = bytearray(encode_frame(ECHO, 12, b"bad crc"))
    bad[20] ^= 1
    for name, d in (
        ("two frames in one datagram", two),
        ("bad CRC", bytes(bad)),
        ("truncated", encode_frame(ECHO, 13, b"cut")[:-4]),
        ("trailing byte", encode_frame(ECHO, 14, b"x") + b"\0"),
    ):
        u.sendto(d, dst)
        u.sendto(encode_frame(ECHO, 20, name.encode()), dst)
        f = udp_recv(u)
        check(
            f is not None and f.type_id == ECHO and f.body == name.encode(),
            f"{name}: no reply to it, the next datagram is echoed ({f})",
        )
        if f is not None and f.type_id == ECHO:
            check(f.sequence == n, f"{name}: sequence {f.sequence} == {n}")
            n += 1
        elif f is not None:
            print(f"     got {f} {control_kind(f)}; reading on")
            f2 = udp_recv(u, 1.0)
            print(f"     then {f2}")
    # §9, §12: a type id without a handler ends the address's session with
    # a notice, reason 4; a later datagram starts a new one (sequence 0).
    u.sendto(encode_frame(0x0042, 15, b"?"), dst)
    f = udp_recv(u)
    check(f is not None and control_kind(f) == ("notice", 4, 0) and f.length == 32, f"unknown type id: a plain notice, reason 4 ({f})")
    time.sleep(0.3)
    u.sendto(encode_frame(ECHO, 0, b"new session"), dst)
    f = udp_recv(u)
    check(f is not None and f.body == b"new session" and f.sequence == 0, f"unknown type id: the next datagram opens a new session ({f})")
    u.close()

    # §11.5: a plaintext hello to a server without a fingerprint.
    u = udp_socket(host)
    u.sendto(hello(0x0123456789ABCDEF), dst)
    u.sendto(encode_frame(ECHO, 0, b"after hello"), dst)
    f = udp_recv(u)
    check(f is not None and f.body == b"after hello" and f.sequence == 0, f"hello then a frame: only the frame is echoed ({f})")
    f = udp_recv(u, 0.3)
    check(f is None, f"hello then a frame: nothing else ({f})")
    u.close()


def udp_fingerprint_tests(host, port, fp):
    print(f"== UDP server with fingerprint 0x{fp:016x}, at most 1 session ({host}:{port})")
    dst = (host, port)
    # §11.5: a wrong fingerprint, while a slot is free: one refusal per hello.
    b = udp_socket(host)
    wrong = fp ^ 0xFF
    for i in range(2):
        b.sendto(hello(wrong), dst)
        f = udp_recv(b)
        check(f is not None and control_kind(f) == ("refusal", fp) and f.length == 36, f"wrong fingerprint, hello {i}: the refusal ({f})")
        if f is not None and control_kind(f) and control_kind(f)[0] == "refusal":
            print(f"     protocol mismatch: client 0x{wrong:016x}, server 0x{control_kind(f)[1]:016x}")
    f = udp_recv(b, 0.3)
    check(f is None, "wrong fingerprint: one refusal per hello, no more")
    # A frame without a hello from a new address: dropped, no answer.
    b.sendto(encode_frame(ECHO, 0, b"no hello"), dst)
    f = udp_recv(b, 0.5)
    check(f is None, f"no hello on a server requiring one: dropped, no answer ({f})")
    # §11.5: the hello before each datagram until the server's first one.
    a = udp_socket(host)
    a.sendto(hello(fp), dst)
    a.sendto(encode_frame(ECHO, 0, b"first"), dst)
    f = udp_recv(a)
    check(f is not None and f.type_id == ECHO and f.body == b"first" and f.sequence == 0, f"matching fingerprint: echoed ({f})")
    # An exact copy of the hello is ignored now.
    a.sendto(hello(fp), dst)
    a.sendto(encode_frame(ECHO, 1, b"second"), dst)
    f = udp_recv(a)
    check(f is not None and f.body == b"second" and f.sequence == 1, f"resent hello ignored, next echoed ({f})")
    # §12 server full: the slot is a's; a new address's hello gets a plain
    # notice of reason 1, at most one per datagram, the fingerprint not
    # compared (a wrong one gets the same answer: the table is checked
    # first, §11.5).
    c = udp_socket(host)
    for name, h in (("matching", hello(fp)), ("wrong", hello(wrong))):
        c.sendto(h, dst)
        f = udp_recv(c)
        check(
            f is not None and control_kind(f) == ("notice", 1, 0) and f.length == 32 and f.sequence == 0,
            f"server full, {name} fingerprint: a plain notice, reason 1 ({f}, {f and control_kind(f)})",
        )
        f = udp_recv(c, 0.3)
        check(f is None, f"server full, {name} fingerprint: one notice per datagram")
    # A short datagram (< 32 bytes) gets nothing: no amplification.
    c.sendto(b"\0" * 8, dst)
    check(udp_recv(c, 0.3) is None, "server full: nothing for a datagram shorter than the notice")
    # a's session still works.
    a.sendto(encode_frame(ECHO, 2, b"still here"), dst)
    f = udp_recv(a)
    check(f is not None and f.body == b"still here" and f.sequence == 2, f"the session holding the slot goes on ({f})")
    for x in (a, b, c):
        x.close()


# ------------------------------------------------------------ §7 sealed

C2S, S2C = 1, 2  # §7.2 direction labels


def sealed_keys(token):
    """interop_server's test key provider (see its docs)."""
    return b"\xc2" * 16 + token, b"\x2c" * 16 + token


def nonce(label, sequence):
    return struct.pack("<IQ", label, sequence)


def seal(aead, label, type_id, sequence, body):
    """§7.1: header (the AAD), ciphertext of body + zero padding, tag, ending."""
    p = pad_len(len(body))
    head = struct.pack("<IBBHIQ", 40 + p, VERSION, 0x01, type_id, len(body), sequence)
    ct_tag = aead.encrypt(nonce(label, sequence), body + b"\0" * (p - len(body)), head)
    return head + ct_tag + ENDING


class Opener:
    """§7.5 for the client's receive side (server to client, label 2),
    ordered (streams) or windowed (datagrams, W = 1024) replay state."""

    def __init__(self, aead, windowed):
        self.aead = aead
        self.windowed = windowed
        self.highest = None
        self.seen = set()

    def open(self, frame, length):
        version, flags = frame[4], frame[5]
        if version != VERSION:
            raise FrameError("BadVersion", found=version, expected=VERSION)
        if flags & 0xFE:
            raise FrameError("ReservedFlags", flags=flags)
        if not flags & 0x01:
            raise FrameError("UnexpectedEncryption", sealed=False)
        if length < 40:
            raise FrameError("LengthTooSmall", length=length, min=40)
        _, _, _, type_id, body_len, seq = struct.unpack_from("<IBBHIQ", frame, 0)
        room = length - 40
        if body_len > room or pad_len(body_len) != room:
            raise FrameError("BodyLengthMismatch", body_len=body_len, length=length)
        if frame[length - 4 : length] != ENDING:
            raise FrameError("BadEnding", found=frame[length - 4 : length].hex())
        h = self.highest
        if h is not None:  # 11a, read-only
            if not self.windowed and seq <= h:
                raise FrameError("replay.NotIncreasing", sequence=seq, last=h)
            if self.windowed and seq <= h:
                if h - seq >= 1024:
                    raise FrameError("replay.TooOld", sequence=seq, highest=h, window=1024)
                if seq in self.seen:
                    raise FrameError("replay.Duplicate", sequence=seq)
        try:
            plain = self.aead.decrypt(nonce(S2C, seq), frame[20 : 36 + room], frame[:20])
        except InvalidTag:
            raise FrameError("crypto.AuthenticationFailed", sequence=seq, length=length)
        if any(plain[body_len:]):
            raise FrameError("NonZeroPadding", offset=20 + body_len, value=next(b for b in plain[body_len:] if b))
        self.highest = seq if h is None else max(h, seq)  # 13a
        self.seen.add(seq)
        f = Frame(frame[:length])
        f.body = plain[:body_len]
        return f


def read_sealed_stream(sock, opener, want=None, timeout=TIMEOUT):
    """Like read_stream for a sealed client: sealed frames are opened; a
    plain one is taken only as a notice (or refusal) before the first
    authenticated frame (§12 'How a client treats it'), else it is an
    invalid frame."""
    buf = bytearray()
    frames, authenticated, last = [], False, False
    deadline = time.monotonic() + timeout
    while want is None or len(frames) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            return frames, "quiet" if last else "timeout"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return frames, "quiet" if last else "timeout"
        except ConnectionResetError:
            return frames, "reset"
        if not data:
            return frames, FrameError("UnexpectedEof", buffered=len(buf)) if buf else "eof"
        buf += data
        try:
            while len(buf) >= 4:
                length = check_head(buf, effective_max())
                if len(buf) < length:
                    break
                raw = bytes(buf[:length])
                del buf[:length]
                if raw[5] & 0x01:
                    f = opener.open(raw, length)
                    authenticated = True
                else:
                    f = check_rest(raw, length)
                    if authenticated or not control_kind(f):
                        raise FrameError("UnexpectedEncryption", sealed=False)
                f.sealed = bool(raw[5] & 0x01)
                frames.append(f)
                if f.type_id == CONTROL and not last:
                    last = True
                    deadline = min(deadline, time.monotonic() + 0.3)
        except FrameError as e:
            return frames, e
    return frames, "done"


def sealed_notice(frames, reason, sealed, what):
    f = frames[-1] if frames else None
    kind = f is not None and f.type_id == CONTROL and f.body_len == 4 and struct.unpack("<HH", f.body)
    check(
        bool(kind) and kind == (reason, 0) and getattr(f, "sealed", None) == sealed,
        f"{what}: the last frame is a {'sealed' if sealed else 'plain'} notice, reason {reason} ({f}, {kind})",
    )
    if kind and sealed:
        check(f.length == 44, f"{what}: the sealed notice is 44 bytes ({f.length})")
    return f


def sealed_tcp_tests(host, port):
    print(f"== TCP sealed server, no fingerprint, version-1 hello ({host}:{port})")
    token = b"interop:" + os.urandom(8)
    c2s, s2c = (ChaCha20Poly1305(k) for k in sealed_keys(token))
    s = tcp_connect(host, port)
    bodies = [b"", b"hello", bytes(range(200))]
    s.sendall(encode_frame(CONTROL, 0, token) + b"".join(seal(c2s, C2S, ECHO, i, b) for i, b in enumerate(bodies)))
    opener = Opener(s2c, windowed=False)
    frames, end = read_sealed_stream(s, opener, len(bodies))
    check(len(frames) == len(bodies) and end == "done", f"sealed: {len(bodies)} replies ({frames}, {end})")
    for i, (f, b) in enumerate(zip(frames, bodies)):
        check(f.sealed and f.type_id == ECHO and f.body == b and f.sequence == i, f"sealed reply {i}: authenticated, body, sequence {f.sequence}")
    # A forged frame (tag flipped) after a valid one: the reply, then a
    # sealed notice reason 4 at the session's next sequence (§12).
    forged = bytearray(seal(c2s, C2S, ECHO, 4, b"forged"))
    forged[-5] ^= 1
    s.sendall(seal(c2s, C2S, ECHO, 3, b"before") + bytes(forged))
    frames, end = read_sealed_stream(s, opener, None)
    check(len(frames) == 2 and frames[0].body == b"before" and frames[0].sequence == 3, f"forged frame: the reply before it ({frames})")
    f = sealed_notice(frames, 4, True, "forged frame")
    check(f is not None and f.sequence == 4, f"forged frame: the notice is the session's next frame, sequence 4 ({f and f.sequence})")
    check(end in ("eof", "reset", "quiet"), f"forged frame: nothing after the notice ({end})")
    s.close()
    # The token is used: a second hello with it is a bad hello, answered
    # before any keys, so with a plain notice.
    for name, tok in (("used token", token), ("unknown token", b"unknown:" + bytes(8))):
        s = tcp_connect(host, port)
        s.sendall(encode_frame(CONTROL, 0, tok) + seal(c2s, C2S, ECHO, 0, b"x"))
        frames, end = read_sealed_stream(s, Opener(s2c, False), None)
        check(len(frames) == 1, f"{name}: one frame ({frames})")
        sealed_notice(frames, 4, False, name)
        s.close()
    # A plaintext client against a sealed server: a bad hello.
    s = tcp_connect(host, port)
    s.sendall(encode_frame(ECHO, 0, b"plain"))
    frames, end = read_sealed_stream(s, Opener(s2c, False), None)
    sealed_notice(frames, 4, False, "plain frame first")
    s.close()


def sealed_udp_tests(host, port, fp):
    print(f"== UDP sealed server, fingerprint 0x{fp:016x}, hello with token and fingerprint ({host}:{port})")
    dst = (host, port)
    token = b"interop:" + os.urandom(8)
    c2s, s2c = (ChaCha20Poly1305(k) for k in sealed_keys(token))
    h = hello(fp, token)
    check(len(h) == 52, "the sealed hello with a fingerprint is 52 bytes")
    u = udp_socket(host)
    opener = Opener(s2c, windowed=True)

    def recv():
        u.settimeout(TIMEOUT)
        try:
            data, _ = u.recvfrom(65536)
        except socket.timeout:
            return None
        length = check_head(data, effective_max())
        if len(data) != length:
            raise FrameError("TrailingBytes", length=length, extra=len(data) - length)
        return opener.open(data, length)

    # §7.3: the hello before each sealed datagram until one authenticates.
    u.sendto(h, dst)
    u.sendto(seal(c2s, C2S, ECHO, 0, b"first"), dst)
    f = recv()
    check(f is not None and f.body == b"first" and f.sequence == 0, f"sealed datagram: authenticated echo ({f})")
    # A resent hello is ignored; a forged datagram and a replayed one are
    # dropped (nothing answers them); the session goes on.
    forged = bytearray(seal(c2s, C2S, ECHO, 1, b"forged"))
    forged[-5] ^= 1
    for name, d in (("resent hello", h), ("forged", bytes(forged)), ("replayed", seal(c2s, C2S, ECHO, 0, b"first"))):
        u.sendto(d, dst)
    u.sendto(seal(c2s, C2S, ECHO, 2, b"second"), dst)
    f = recv()
    check(f is not None and f.body == b"second" and f.sequence == 1, f"resent hello, forged and replayed datagrams dropped; next echoed ({f})")
    u.settimeout(0.3)
    try:
        extra = u.recvfrom(65536)[0]
    except socket.timeout:
        extra = None
    check(extra is None, f"nothing else ({extra})")
    # A wrong fingerprint: the plain refusal; the token is not used up.
    v = udp_socket(host)
    token2 = b"interop:" + os.urandom(8)
    v.sendto(hello(fp ^ 1, token2), dst)
    f = udp_recv(v)
    check(f is not None and control_kind(f) == ("refusal", fp), f"sealed, wrong fingerprint: the plain refusal ({f})")
    c2s2, s2c2 = (ChaCha20Poly1305(k) for k in sealed_keys(token2))
    v.sendto(hello(fp, token2), dst)
    v.sendto(seal(c2s2, C2S, ECHO, 0, b"updated"), dst)
    v.settimeout(TIMEOUT)
    try:
        data = v.recvfrom(65536)[0]
        f = Opener(s2c2, True).open(data, check_head(data, effective_max()))
    except (socket.timeout, FrameError) as e:
        f = e
    check(isinstance(f, Frame) and f.body == b"updated", f"the refused token still opens a session with the right fingerprint ({f})")
    u.close()
    v.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7410, help="the interop server's base port")
    args = ap.parse_args()
    fp = echo_set_fingerprint()
    print(f"Echo set fingerprint (computed here, §11): 0x{fp:016x}")
    vector_tests()
    tcp_tests(args.host, args.port)
    tcp_fingerprint_tests(args.host, args.port + 1, fp)
    udp_tests(args.host, args.port + 2)
    udp_fingerprint_tests(args.host, args.port + 3, fp)
    if ChaCha20Poly1305 is None:
        print("== sealed sessions skipped: the Python package `cryptography` is missing")
    else:
        sealed_tcp_tests(args.host, args.port + 4)
        sealed_udp_tests(args.host, args.port + 5, fp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed:")
        for f in FAILURES:
            print("  " + f)
        return 1
    print("interop OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
