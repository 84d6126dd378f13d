#!/usr/bin/env python3
"""Regenerates the wire-format test vectors in docs/vectors/{valid,invalid,replay,channel}.

This is a second, independent implementation of docs/wire-format.md: it
uses only Python's struct, json and zlib.crc32, never the Rust code, so the
Rust tests (packet-core/tests/it/vectors.rs, examples/schema-demo/tests/
it/vectors.rs) check two implementations against each other. The bodies'
packet types are declared in vectors.packet; expected values and errors
are written in the notation of README.md ("Value notation"). Run from anywhere: `python3 docs/vectors/gen.py`. The output is
deterministic; commit it. The file format is described in README.md.
"""

import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ENDING = b"PK\r\n"
VERSION = 1


def pad4(n):
    return (n + 3) & ~3


def frame(type_id, seq, body, *, version=VERSION, flags=0, length=None,
          body_len=None, padding=None, crc=None, ending=ENDING):
    """A plaintext frame; keyword overrides forge individual fields."""
    p = pad4(len(body))
    if padding is None:
        padding = bytes(p - len(body))
    if length is None:
        length = 20 + len(body) + len(padding) + 4 + 4
    if body_len is None:
        body_len = len(body)
    head = struct.pack("<IBBHIQ", length, version, flags, type_id, body_len, seq)
    covered = head + body + padding
    if crc is None:
        crc = zlib.crc32(covered) & 0xFFFFFFFF
    return covered + struct.pack("<I", crc) + ending


# ---------------------------------------------------------- field encoders

def u8(v): return struct.pack("<B", v)
def i8(v): return struct.pack("<b", v)
def u16(v): return struct.pack("<H", v)
def i16(v): return struct.pack("<h", v)
def u32(v): return struct.pack("<I", v)
def i32(v): return struct.pack("<i", v)
def u64(v): return struct.pack("<Q", v)
def i64(v): return struct.pack("<q", v)
def u128(v): return (v & (2**128 - 1)).to_bytes(16, "little")
def i128(v): return u128(v)
def f32_bits(b): return u32(b)
def f64_bits(b): return u64(b)
def f32(v): return struct.pack("<f", v)
def f64(v): return struct.pack("<d", v)
def boolean(v): return u8(1 if v else 0)
def char(c): return u32(ord(c))
def none(): return u8(0)
def some(x): return u8(1) + x


def seq(prefix, data):
    return {"u8": u8, "u16": u16, "u32": u32}[prefix](len(data)) + data


def string(prefix, s):
    return seq(prefix, s.encode("utf-8"))


def items(prefix, encoded_items):
    return {"u8": u8, "u16": u16, "u32": u32}[prefix](len(encoded_items)) + b"".join(encoded_items)


# ------------------------------------------------ the value notation
#
# Expected values and errors are written in the notation of README.md
# ("Value notation"): JSON text as Python's json.dumps writes it (", " and
# ": " separators, UTF-8 kept), with these conventions for the schema's
# types. Floats are their IEEE 754 bit patterns in hex (exact for -0.0,
# infinities and NaN payloads), byte strings and u8 arrays are hex strings,
# options are null or {"some": value}, enum variants are their names.

class F32:
    def __init__(self, bits): self.bits = bits


class F64:
    def __init__(self, bits): self.bits = bits


class Hex:
    """A byte string or u8 array: written as lowercase hex digits."""
    def __init__(self, data): self.data = bytes(data)


class Some:
    def __init__(self, value): self.value = value


class Variant:
    """An enum variant: unit (fields None), named (dict) or positional (list)."""
    def __init__(self, name, fields=None): self.name, self.fields = name, fields


def f32_of(x): return F32(struct.unpack("<I", struct.pack("<f", x))[0])
def f64_of(x): return F64(struct.unpack("<Q", struct.pack("<d", x))[0])


def plain(v):
    """The JSON-ready form of a value."""
    if isinstance(v, F32):
        return f"0x{v.bits:08x}"
    if isinstance(v, F64):
        return f"0x{v.bits:016x}"
    if isinstance(v, Hex):
        return v.data.hex()
    if isinstance(v, Some):
        return {"some": plain(v.value)}
    if isinstance(v, Variant):
        return v.name if v.fields is None else {v.name: plain(v.fields)}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    assert v is None or isinstance(v, (bool, int, str)), v
    return v


def notation(v):
    return json.dumps(plain(v), ensure_ascii=False)


def error(family, variant, **fields):
    """An expected error: `family.Variant {fields}` (README.md, key expect)."""
    return f"{family}.{variant} {notation(fields)}"


# ------------------------------------------------------------------ output

def hexlines(data, per_line=16):
    out = []
    for i in range(0, len(data), per_line):
        chunk = data[i:i + per_line]
        words = [chunk[j:j + 4].hex() for j in range(0, len(chunk), 4)]
        out.append(" ".join(words))
    return "\n".join(out) + ("\n" if out else "")


def write(kind, name, meta, data, ext="hex"):
    path = os.path.join(HERE, kind, name + "." + ext)
    lines = []
    for key, value in meta:
        lines.append(f"# {key}: {value}")
    text = "\n".join(lines) + "\n" + (hexlines(data) if ext == "hex" else data)
    with open(path, "w") as f:
        f.write(text)


def valid(name, desc, type_id, sequence, body, packet=None, value=None, max_frame_len=None,
          notes=(), session=()):
    data = frame(type_id, sequence, body)
    meta = [("description", desc)]
    meta += [("note", n) for n in notes]
    if max_frame_len is not None:
        meta.append(("max_frame_len", max_frame_len))
    meta += [("type_id", f"0x{type_id:04x}"), ("sequence", sequence), ("body", body.hex())]
    if packet:
        meta += [("packet", packet), ("value", notation(value))]
    meta += list(session)
    meta.append(("expect", "ok"))
    write("valid", name, meta, data)


def hello(token, fingerprint):
    """The metadata of a session hello vector (wire-format 7.3, 11.5)."""
    meta = [("session", "hello"), ("token", token.hex())]
    if fingerprint is not None:
        meta.append(("fingerprint", f"0x{fingerprint:016x}"))
    return meta


def invalid(name, desc, data, expect, packet=None, max_frame_len=None, mode=None, notes=()):
    meta = [("description", desc)]
    meta += [("note", n) for n in notes]
    if mode:
        meta.append(("mode", mode))
    if max_frame_len is not None:
        meta.append(("max_frame_len", max_frame_len))
    if packet:
        meta.append(("packet", packet))
    meta.append(("expect", expect))
    write("invalid", name, meta, data)


def frame_error(variant, **fields):
    return error("frame", variant, **fields)


def body_error(variant, **fields):
    return error("body", variant, **fields)


def main():
    for kind in ("valid", "invalid"):
        os.makedirs(os.path.join(HERE, kind), exist_ok=True)
        for f in os.listdir(os.path.join(HERE, kind)):
            if f.endswith(".hex"):
                os.remove(os.path.join(HERE, kind, f))

    # ------------------------------------------------------------- valid
    # Packet types: vectors.packet. Values: README.md, "Value notation".
    valid("01-empty-body", "the smallest frame: empty body, no padding, 28 bytes",
          0x0001, 0, b"", "Empty", {})
    valid("02-one-byte-body", "a 1-byte body followed by 3 zero padding bytes (frame 32 bytes)",
          0x0002, 1, u8(0xAB), "OneByte", {"value": 171})
    blob = bytes((i * 7 + 1) & 0xFF for i in range(36))
    valid("03-max-size-body", "the largest body a 64-byte maximum frame allows: 36 bytes, no padding",
          0x0003, 2, blob, "Blob36", {"data": Hex(blob)}, max_frame_len=64)
    ints = (u8(0xFE) + i8(-2) + u16(0xBEEF) + i16(-300) + u32(0xDEADBEEF) + i32(-70000)
            + u64(0x0123456789ABCDEF) + i64(-(2**63)) + u128(2**128 - 2) + i128(-1))
    valid("04-integers", "every integer width, little-endian two's complement, no alignment",
          0x0010, 3, ints, "Ints",
          {"a": 254, "b": -2, "c": 48879, "d": -300, "e": 3735928559, "f": -70000,
           "g": 81985529216486895, "h": -9223372036854775808,
           "i": 340282366920938463463374607431768211454, "j": -1})
    floats = (f32(1.5) + f32_bits(0x80000000) + f64(3.141592653589793)
              + f64_bits(0x7FF0000000000000) + f32_bits(0x7FC00001) + f64_bits(0xFFF8000000000123))
    valid("05-floats", "IEEE 754 bit patterns little-endian: 1.5f32, -0.0f32, pi f64, +inf f64, "
          "and two NaNs whose payload bits must survive unchanged",
          0x0011, 4, floats, "Floats",
          {"a": f32_of(1.5), "b": F32(0x80000000), "c": f64_of(3.141592653589793),
           "d": F64(0x7FF0000000000000), "e": F32(0x7FC00001), "f": F64(0xFFF8000000000123)},
          notes=["values: 1.5, -0.0, 3.141592653589793, +infinity, a quiet NaN with payload 1, "
                 "a negative quiet NaN with payload 0x123"])
    bc = boolean(True) + boolean(False) + char("A") + char("\u00e9") + char("\U0001F980")
    valid("06-bool-char", "bool as one byte 0/1; char as its u32 scalar value",
          0x0012, 5, bc, "BoolChar",
          {"t": True, "f": False, "c1": "A", "c2": "\u00e9", "c3": "\U0001F980"})
    strs = (string("u8", "hi") + string("u16", "h\u00e9llo") + string("u32", "game")
            + seq("u8", bytes([1, 2, 3])) + seq("u16", b"") + seq("u32", bytes([0xFF])))
    valid("07-strings-bytes", "strings and byte strings behind u8, u16 (default) and u32 length "
          "prefixes; string lengths count UTF-8 bytes",
          0x0013, 6, strs, "Strings",
          {"s8": "hi", "s16": "h\u00e9llo", "s32": "game",
           "b8": Hex([1, 2, 3]), "b16": Hex(b""), "b32": Hex([0xFF])})
    comp = (none() + some(u16(0x1234)) + u16(1) + u16(2) + u16(3)
            + u8(7) + i16(-1) + boolean(True) + bytes([9, 8, 7, 6]) + some(none()))
    valid("08-option-array-tuple", "option tags 0/1, fixed arrays without prefix, a tuple (struct "
          "Trio) in order, option<option<u8>> = some(none)",
          0x0014, 7, comp, "Composite",
          {"none": None, "some": Some(4660), "arr": [1, 2, 3],
           "tup": {"a": 7, "b": -1, "c": True}, "quad": Hex([9, 8, 7, 6]), "nested": Some(None)})
    nested = (u32(42) + f32(1.0) + f32(-2.5) + f32(0.25)
              + u8(2)                       # Kind.B (C-like, u8 tag, B = 2)
              + u16(1) + u32(500)           # Event.Hit { dmg: 500 } (u16 tag, Hit = 1)
              + u16(2) + string("u16", "gg")  # Event.Say("gg") (Say = 2)
              + u8(1)                       # Mode.B (no values given: tags count from 0)
              + items("u8", [u8(1) + u16(10), u8(2) + u16(300)])
              + some(u8(9) + string("u16", "ok")))
    valid("09-nested-enums", "a struct inside a struct, C-like and data enums, a u8-prefixed "
          "list of structs, an option of a struct with a string",
          0x0015, 8, nested, "Nested",
          {"id": 42, "pos": {"x": f32_of(1.0), "y": f32_of(-2.5), "z": f32_of(0.25)},
           "kind": Variant("B"), "hit": Variant("Hit", {"dmg": 500}),
           "say": Variant("Say", ["gg"]), "mode": Variant("B"),
           "items": [{"kind": 1, "count": 10}, {"kind": 2, "count": 300}],
           "tail": Some({"n": 9, "text": "ok"})},
          notes=["floats: pos = (1.0, -2.5, 0.25)"])
    pos = u32(7) + f32(1.5) + f32(0.0) + f32(-2.0)
    valid("10-zerocopy-view", "a plain-old-data body (u32 and f32 fields, no padding), which Rust "
          "reads in place as a zerocopy view", 0x0016, 9, pos, "Position",
          {"entity": 7, "x": f32_of(1.5), "y": f32_of(0.0), "z": f32_of(-2.0)},
          notes=["floats: x = 1.5, y = 0.0, z = -2.0"])
    valid("11-header-extremes", "type_id 0xfffe (the largest application type id) and sequence "
          "u64::MAX; 2-byte body, 2 padding bytes",
          0xFFFE, 2**64 - 1, u16(0xFFFF), "Extremes", {"value": 65535})
    valid("12-three-byte-body", "a 3-byte body with one padding byte (raw bytes, no packet type)",
          0x0100, 0x0102030405060708, b"abc")
    token = bytes(range(0xA0, 0xB0))
    valid("13-session-hello", "the version-1 session hello of a sealed session (wire-format 7.3): "
          "a plain frame of type 0xffff, sequence 0, the 16-byte session token as body, 44 bytes",
          0xFFFF, 0, token,
          notes=["type 0xffff is reserved for this frame; application packets never use it"],
          session=hello(token, None))
    valid("14-bounded", "fields with a declared maximum (string max 8 behind a u8 prefix, "
          "list<u16> max 4 behind the default u16 count)",
          0x0017, 10, string("u8", "ada") + items("u16", [u16(1), u16(2)]), "Bounded",
          {"name": "ada", "tags": [1, 2]})
    # The session hello with a protocol fingerprint and the refusal
    # (wire-format 11.5). The fingerprint is that of vectors.packet
    # (fingerprint/05), the refusing server's that of fingerprint/01.
    fp = 0x9A298BCB3B4C331B
    valid("16-fingerprint-hello", "the session hello of a sealed session with the protocol "
          "fingerprint (wire-format 11.5): type 0xffff, sequence 0, body = the 16-byte token then "
          "the fingerprint as u64 LE (body_len 24), 52 bytes",
          0xFFFF, 0, token + u64(fp), session=hello(token, fp),
          notes=["the server compares the fingerprint before it looks up the token's keys"])
    valid("17-plaintext-hello", "the hello of a plaintext session (wire-format 11.5): the same "
          "form with 16 zero bytes in place of the token, 52 bytes",
          0xFFFF, 0, bytes(16) + u64(fp), session=hello(bytes(16), fp))
    server_fp = 0xF22AECBF92D2D7D6
    valid("18-refusal", "the refusal of a hello with another fingerprint (wire-format 11.5): "
          "type 0xffff, sequence 0, body = the server's fingerprint as u64 LE (body_len 8), 36 "
          "bytes, smaller than any hello",
          0xFFFF, 0, u64(server_fp), session=[("session", "refusal"),
                                              ("fingerprint", f"0x{server_fp:016x}")],
          notes=["a client that sent fingerprint 0x9a298bcb3b4c331b reports: protocol mismatch: "
                 "client 0x9a298bcb3b4c331b, server 0xf22aecbf92d2d7d6"])
    # The close notice (wire-format 12): reason u16 LE, detail u16 LE.
    valid("19-close-notice", "a plain close notice (wire-format 12): type 0xffff, sequence 0, "
          "body = reason 6 (closed by the application) then detail 7 (the application's code), "
          "both u16 LE (body_len 4), 32 bytes, smaller than any hello",
          0xFFFF, 0, u16(6) + u16(7),
          session=[("session", "notice"), ("reason", 6), ("detail", 7)],
          notes=["a client reports: the server closed the session: closed by the application "
                 "(code 7)"])
    valid("20-close-notice-full", "a plain close notice (wire-format 12): reason 1 (server full), "
          "detail 0, as a server over its session limit sends it",
          0xFFFF, 0, u16(1) + u16(0),
          session=[("session", "notice"), ("reason", 1), ("detail", 0)],
          notes=["a client reports: the server closed the session: server full"])
    valid("15-max-raised-to-40", "a configured maximum of 30 is raised to 40 (the sealed minimum), "
          "so this 40-byte frame is accepted", 0x0018, 11, bytes(range(12)), max_frame_len=30)

    # ----------------------------------------------------------- invalid
    good32 = frame(0x0002, 1, u8(0xAB))
    invalid("01-empty-input", "no bytes at all (rule 1)", b"",
            frame_error("Truncated", available=0, needed=4))
    invalid("02-truncated-length", "3 bytes: the length field itself is incomplete (rule 1)",
            good32[:3], frame_error("Truncated", available=3, needed=4))
    invalid("03-length-zero", "length 0, rejected without underflow (rule 2)",
            frame(0x0001, 0, b"", length=0), frame_error("LengthTooSmall", length=0, min=28))
    invalid("04-length-below-min", "length 24 < 28 (rule 2)",
            frame(0x0001, 0, b"", length=24), frame_error("LengthTooSmall", length=24, min=28))
    invalid("05-length-over-max", "a 68-byte frame (37-byte body) against a 64-byte maximum (rule 3)",
            frame(0x0003, 0, bytes(37)), frame_error("LengthTooLarge", length=68, max=64),
            max_frame_len=64)
    invalid("06-length-u32-max", "length u32::MAX with only 8 bytes present: rejected on the length "
            "alone (rule 3 precedes rule 5), before any allocation",
            u32(0xFFFFFFFF) + bytes(4),
            frame_error("LengthTooLarge", length=4294967295, max=65536))
    invalid("07-misaligned", "length 30 is not a multiple of 4 (rule 4)",
            frame(0x0002, 1, u8(0xAB), length=30)[:30],
            frame_error("Misaligned", length=30))
    invalid("08-truncated-frame", "a 32-byte frame cut after 28 bytes (rule 5)",
            good32[:28], frame_error("Truncated", available=28, needed=32))
    invalid("09-trailing-bytes", "a valid 32-byte frame followed by 4 more bytes in one datagram (rule 6)",
            good32 + bytes(4), frame_error("TrailingBytes", length=32, extra=4))
    invalid("10-two-frames-in-datagram", "two valid frames in one datagram (rule 6)",
            good32 + frame(0x0001, 2, b""), frame_error("TrailingBytes", length=32, extra=28))
    invalid("11-bad-version", "version 2, CRC valid (rule 7)",
            frame(0x0002, 1, u8(0xAB), version=2),
            frame_error("BadVersion", found=2, expected=1))
    invalid("12-version-zero", "version 0 (rule 7)",
            frame(0x0002, 1, u8(0xAB), version=0),
            frame_error("BadVersion", found=0, expected=1))
    invalid("13-reserved-flag", "flags 0x80: a reserved bit (rule 8)",
            frame(0x0002, 1, u8(0xAB), flags=0x80), frame_error("ReservedFlags", flags=128))
    invalid("14-reserved-and-sealed", "flags 0x03: reserved bits are checked before the sealed bit (rule 8)",
            frame(0x0002, 1, u8(0xAB), flags=0x03), frame_error("ReservedFlags", flags=3))
    invalid("15-sealed-on-plaintext", "flags 0x01 (sealed) reaching a plaintext decoder (rule 9)",
            frame(0x0002, 1, u8(0xAB), flags=0x01),
            frame_error("UnexpectedEncryption", sealed=True))
    invalid("16-body-len-too-small", "body_len 0 in a 32-byte frame, whose body room is 4 (rule 10)",
            frame(0x0002, 1, u8(0xAB), body_len=0),
            frame_error("BodyLengthMismatch", body_len=0, length=32))
    invalid("17-body-len-too-large", "body_len 5 in a 32-byte frame: 5 pads to 8, room is 4 (rule 10)",
            frame(0x0002, 1, u8(0xAB), body_len=5),
            frame_error("BodyLengthMismatch", body_len=5, length=32))
    invalid("18-body-len-u32-max", "body_len u32::MAX in a 28-byte frame: no overflow when rounding "
            "(on 32-bit targets naive rounding wraps to 0) (rule 10)",
            frame(0x0001, 0, b"", body_len=0xFFFFFFFF),
            frame_error("BodyLengthMismatch", body_len=4294967295, length=28))
    invalid("19-bad-ending", "ending marker PK\\r\\0 (rule 11)",
            frame(0x0002, 1, u8(0xAB), ending=b"PK\r\x00"),
            frame_error("BadEnding", found=Hex(b"PK\r\x00")))
    bad = bytearray(good32)
    bad[20] ^= 0x01  # flip one body bit after the CRC was computed
    invalid("20-crc-mismatch", "one body bit flipped after the CRC was computed (rule 12)",
            bytes(bad), frame_error("CrcMismatch",
                                    expected=struct.unpack("<I", good32[24:28])[0],
                                    computed=zlib.crc32(bytes(bad[:24])) & 0xFFFFFFFF))
    invalid("21-crc-zero", "check field zero on an otherwise valid empty frame (rule 12)",
            frame(0x0001, 0, b"", crc=0),
            frame_error("CrcMismatch", expected=0,
                        computed=zlib.crc32(frame(0x0001, 0, b"")[:20]) & 0xFFFFFFFF))
    invalid("22-non-zero-padding", "padding 00 01 00 after a 1-byte body, CRC computed over it, "
            "so only rule 13 fails", frame(0x0002, 1, u8(0xAB), padding=bytes([0, 1, 0])),
            frame_error("NonZeroPadding", offset=22, value=1))
    invalid("23-order-ending-before-crc", "bad ending and bad CRC: the ending is checked first",
            frame(0x0002, 1, u8(0xAB), crc=0, ending=b"XXXX"),
            frame_error("BadEnding", found=Hex(b"XXXX")))
    invalid("24-order-version-before-everything", "bad version, reserved flags, body_len, ending "
            "and CRC all wrong: the version is checked first",
            frame(0x0002, 1, u8(0xAB), version=9, flags=0xFE, body_len=77, crc=1, ending=b"XXXX"),
            frame_error("BadVersion", found=9, expected=1))
    invalid("25-order-crc-before-padding", "bad CRC and non-zero padding: the CRC is checked first",
            frame(0x0002, 1, u8(0xAB), padding=bytes([0, 0, 5]), crc=0),
            frame_error("CrcMismatch", expected=0, computed=zlib.crc32(
                frame(0x0002, 1, u8(0xAB), padding=bytes([0, 0, 5]))[:24]) & 0xFFFFFFFF))
    invalid("26-stream-eof-mid-frame", "a byte stream that ends 10 bytes into a frame",
            good32 + good32[:10], frame_error("UnexpectedEof", buffered=10), mode="stream",
            notes=["the first frame is delivered; the end of the stream then reports the unfinished one"])
    invalid("27-stream-garbage-after-frame", "a valid frame then a length below the minimum on a stream",
            good32 + u32(8) + bytes(4), frame_error("LengthTooSmall", length=8, min=28), mode="stream",
            notes=["the first frame is delivered, then the error; the decoder stays failed"])
    # Body-level errors: the envelope is valid, the body does not decode.
    invalid("28-body-invalid-bool", "a bool byte 2 in a BoolChar body",
            frame(0x0012, 0, u8(2) + boolean(False) + char("A") + char("B") + char("C")),
            body_error("InvalidBool", byte=2), packet="BoolChar")
    invalid("29-body-invalid-char", "a surrogate 0xD800 as a char",
            frame(0x0012, 0, boolean(True) + boolean(False) + u32(0xD800) + char("B") + char("C")),
            body_error("InvalidChar", value=0xD800), packet="BoolChar")
    invalid("30-body-invalid-utf8", "a u8-prefixed string holding the byte 0xFF after 'a'",
            frame(0x0013, 0, seq("u8", b"a\xff") + string("u16", "") + string("u32", "")
                  + seq("u8", b"") + seq("u16", b"") + seq("u32", b"")),
            body_error("InvalidUtf8", valid_up_to=1), packet="Strings")
    invalid("31-body-string-past-end", "a u8 string prefix of 200 with 2 bytes left in the body",
            frame(0x0013, 0, u8(200) + b"ab"),
            body_error("UnexpectedEnd", needed=200, remaining=2), packet="Strings")
    invalid("32-body-trailing-bytes", "a OneByte body of 2 bytes",
            frame(0x0002, 0, bytes([1, 2])), body_error("TrailingBytes", extra=1), packet="OneByte")
    invalid("33-body-option-tag", "an option tag of 2",
            frame(0x0014, 0, u8(2)), body_error("InvalidOptionTag", tag=2), packet="Composite")
    invalid("34-wrong-packet-id", "a valid frame of type 0x0099 decoded as Ints (0x0010)",
            frame(0x0099, 0, ints), body_error("WrongPacketId", expected=16, found=153), packet="Ints")
    invalid("35-body-unknown-discriminant", "Kind tag 9 (only A = 1 and B = 2 exist)",
            frame(0x0015, 0, nested[:16] + u8(9) + nested[17:]),
            body_error("UnknownDiscriminant", value=9, type_name="Kind"), packet="Nested",
            notes=["type_name is the enum's name as the schema declares it"])
    invalid("36-body-max-before-end", "a u8 string prefix of 200 above the field's max 8, with 2 "
            "bytes left: the maximum is checked before the remaining body",
            frame(0x0017, 0, u8(200) + b"ab"),
            body_error("LengthOverMax", len=200, max=8), packet="Bounded")
    invalid("37-body-end-within-max", "a u8 string prefix of 5 (within max 8) with 2 bytes left",
            frame(0x0017, 0, u8(5) + b"ab"),
            body_error("UnexpectedEnd", needed=5, remaining=2), packet="Bounded")
    invalid("38-body-list-over-max", "a list count of 5 above the field's max 4",
            frame(0x0017, 0, string("u8", "") + items("u16", [u16(i) for i in range(5)])),
            body_error("LengthOverMax", len=5, max=4), packet="Bounded")
    invalid("39-max-rounded-down", "a configured maximum of 65507 (the largest IPv4 UDP payload) "
            "is rounded down to 65504, a multiple of 4; a 65508-byte length is too large (rule 3)",
            u32(65508) + bytes(4), frame_error("LengthTooLarge", length=65508, max=65504),
            max_frame_len=65507)
    invalid("40-max-raised-to-40", "a configured maximum of 30 is raised to 40; a 44-byte frame "
            "is too large (rule 3)", frame(0x0018, 0, bytes(16)),
            frame_error("LengthTooLarge", length=44, max=40), max_frame_len=30)

    replay_vectors()
    channel_vectors()


# ------------------------------------------------------------ replay rules
#
# wire-format 7.4, written as the rule (a set of accepted sequences and the
# highest one), not as a bitmap.

class Ordered:
    mode = "ordered"

    def __init__(self):
        self.last = None

    def check(self, s):
        if self.last is not None and s <= self.last:
            return error("replay", "NotIncreasing", sequence=s, last=self.last)
        return None

    def commit(self, s):
        self.last = s


class Windowed:
    mode = "windowed"
    W = 1024

    def __init__(self):
        self.highest = None
        self.accepted = set()

    def check(self, s):
        h = self.highest
        if h is None or s > h:
            return None
        if h - s >= self.W:
            return error("replay", "TooOld", sequence=s, highest=h, window=self.W)
        if s in self.accepted:
            return error("replay", "Duplicate", sequence=s)
        return None

    def commit(self, s):
        self.accepted.add(s)
        self.highest = s if self.highest is None else max(self.highest, s)


def replay(name, desc, state, events, notes=()):
    """events: sequences (authentic frames) or ("forged", sequence)."""
    lines = []
    for e in events:
        kind, s = e if isinstance(e, tuple) else ("frame", e)
        refused = state.check(s)
        if refused is None and kind == "frame":
            state.commit(s)
        lines.append(f"{kind} {s} {refused or 'ok'}")
    meta = [("description", desc)] + [("note", n) for n in notes] + [("mode", state.mode)]
    if state.mode == "windowed":
        meta.append(("window", state.W))
    write("replay", name, meta, "\n".join(lines) + "\n", ext="txt")


class Channel:
    """A receiving sealed channel (wire-format 7.3 forgery limit, 7.4, 7.5):
    only the replay state and the authentication-failure counter matter
    here; every frame is 40 bytes (an empty body)."""

    def __init__(self, replay_state, limit):
        self.replay = replay_state
        self.limit = max(limit, 1)  # a configured 0 is taken as 1
        self.failures = 0
        self.closed = False

    def event(self, kind, s=None):
        if self.closed:
            return error("crypto", "Closed", failures=self.failures)
        if kind == "seal":
            return None
        refused = self.replay.check(s)
        if refused:
            return refused
        if kind == "frame":
            self.replay.commit(s)
            return None
        self.failures += 1
        if self.failures >= self.limit:
            self.closed = True
            return error("crypto", "TooManyAuthFailures", failures=self.failures, limit=self.limit)
        return error("crypto", "AuthenticationFailed", sequence=s, length=40, failures=self.failures)


def channel(name, desc, state, limit, events, notes=()):
    """events: ("frame" | "forged", sequence) or "seal"."""
    ch = Channel(state, limit)
    lines = []
    for e in events:
        if e == "seal":
            lines.append(f"seal - {ch.event('seal') or 'ok'}")
        else:
            kind, s = e
            lines.append(f"{kind} {s} {ch.event(kind, s) or 'ok'}")
    meta = [("description", desc)] + [("note", n) for n in notes]
    meta += [("mode", state.mode), ("max_auth_failures", limit)]
    write("channel", name, meta, "\n".join(lines) + "\n", ext="txt")


def channel_vectors():
    d = os.path.join(HERE, "channel")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".txt"):
            os.remove(os.path.join(d, f))
    channel("01-limit-3", "the failure count includes the current failure; the third is "
            "TooManyAuthFailures and closes the channel, which then refuses opening and sealing",
            Windowed(), 3,
            [("frame", 0), ("forged", 1), ("forged", 1), ("frame", 1), ("forged", 1),
             ("forged", 2), ("frame", 2), "seal", ("forged", 3)],
            notes=["a forged frame refused by the replay check (forged 1 after frame 1) does "
                   "not count: the check comes before the tag"])
    channel("02-limit-1", "with a limit of 1 the first failure closes the channel",
            Windowed(), 1, [("forged", 0), ("frame", 0), "seal"])
    channel("03-limit-0-is-1", "a configured limit of 0 is taken as 1",
            Windowed(), 0, [("frame", 7), ("forged", 8), ("frame", 8)])
    channel("04-ordered-no-reset", "ordered mode; frames that authenticate do not reset the count",
            Ordered(), 4,
            [("frame", 0), ("forged", 0), ("forged", 1), ("frame", 1), ("forged", 2), ("frame", 2),
             ("forged", 3), "seal", ("forged", 3), ("frame", 3)])


class Lcg:
    """A fixed pseudo-random source (not Python's random: stable across versions)."""
    def __init__(self, seed): self.x = seed

    def next(self, n):
        self.x = (self.x * 6364136223846793005 + 1442695040888963407) % 2**64
        return (self.x >> 33) % n


def replay_vectors():
    d = os.path.join(HERE, "replay")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".txt"):
            os.remove(os.path.join(d, f))
    M = 2**64 - 1
    W = Windowed.W
    replay("01-windowed-first-zero", "a fresh window accepts sequence 0 first; each sequence once",
           Windowed(), [0, 0, 1, 2, 1, 5, 3, 4, 4])
    replay("02-windowed-first-high", "a fresh window accepts any first sequence; behind the highest "
           "h, h - 1023 is the oldest accepted and h - 1024 is too old",
           Windowed(), [5000, 5000 - W + 1, 5000 - W, 4999, 4999, 5000, 0])
    replay("03-windowed-below-window", "while the highest is below 1024 nothing is too old: "
           "every smaller sequence is in the window",
           Windowed(), [10, 0, 5, 5, 1023, 0, 1024, 0, 1])
    replay("04-windowed-slide", "jumps of 1023, 1024 and 1025 slide the window; what falls out is "
           "too old, what stays in is remembered",
           Windowed(), [100, 99, 100 + 1023, 100, 99, 101, 100 + 1023 + 1024, 100 + 1023,
                        100 + 1024 + 1024, 100 + 1023 + 1, 100 + 1023 + 1025 + 1025,
                        100 + 1023 + 1025])
    replay("05-windowed-far-jump", "a jump far past the window forgets everything behind it; "
           "inside the new window every sequence is fresh",
           Windowed(), [0, 1, 2, 3, 1_000_000, 3, 1_000_000 - W, 1_000_000 - W + 1,
                        1_000_000 - 1, 1_000_000 - 1, 2])
    replay("06-windowed-top", "up to u64::MAX without overflow: the top is accepted once and "
           "the window still works below it",
           Windowed(), [M - 2, M, M - 1, M, M - 1, M - 2, M - W + 1, M - W, 0])
    replay("07-windowed-forged", "a forged frame (its tag fails) passes or fails the replay check "
           "but never changes the state: a forged u64::MAX does not slide the window",
           Windowed(), [10, ("forged", M), 11, ("forged", 11), ("forged", 5000), 5,
                        ("forged", 5), M, 11, M - W + 1],
           notes=["forged: the frame fails authentication after the replay check (ok = the check "
                  "passed); nothing is recorded either way"])
    rng = Lcg(14)
    events, top = [], 3000
    for _ in range(400):
        # Mostly near the top (reordering, duplicates), sometimes a jump.
        r = rng.next(100)
        if r < 20 and events:
            s = events[-1 - rng.next(min(10, len(events)))]
        elif r < 70:
            s = max(0, top - rng.next(W + 200))
        elif r < 95:
            top += rng.next(70)
            s = top
        else:
            top += W + rng.next(200)
            s = top
        events.append(s)
    replay("08-windowed-random", "400 sequences from a fixed pseudo-random walk: reordering within "
           "and just past the window, duplicates, and slides across 64-sequence block edges",
           Windowed(), events)
    replay("09-ordered", "ordered mode (streams): each sequence strictly above the last accepted; "
           "a fresh state accepts any first sequence",
           Ordered(), [7, 7, 6, 8, 100, 99, 100, ("forged", 1000), 101, ("forged", 5), M, M, 0],
           notes=["forged: the frame fails authentication after the replay check; nothing is "
                  "recorded"])
    replay("10-ordered-first-zero", "ordered mode starting at 0, the way senders count",
           Ordered(), [0, 0, 1, 2, 2, 3])


if __name__ == "__main__":
    main()
