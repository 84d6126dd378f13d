#!/usr/bin/env python3
"""Regenerates the wire-format test vectors in docs/vectors/{valid,invalid}.

This is a second, independent implementation of docs/wire-format.md: it
uses only Python's struct and zlib.crc32, never the Rust code, so the Rust
test (packet-core/tests/vectors.rs) checks two implementations against each
other. Run from anywhere: `python3 docs/vectors/gen.py`. The output is
deterministic; commit it. The file format is described in README.md.
"""

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


# ------------------------------------------------------------------ output

def hexlines(data, per_line=16):
    out = []
    for i in range(0, len(data), per_line):
        chunk = data[i:i + per_line]
        words = [chunk[j:j + 4].hex() for j in range(0, len(chunk), 4)]
        out.append(" ".join(words))
    return "\n".join(out) + ("\n" if out else "")


def write(kind, name, meta, data):
    path = os.path.join(HERE, kind, name + ".hex")
    lines = []
    for key, value in meta:
        lines.append(f"# {key}: {value}")
    text = "\n".join(lines) + "\n" + hexlines(data)
    with open(path, "w") as f:
        f.write(text)


def valid(name, desc, type_id, sequence, body, packet=None, value=None, max_frame_len=None,
          notes=()):
    data = frame(type_id, sequence, body)
    meta = [("description", desc)]
    meta += [("note", n) for n in notes]
    if max_frame_len is not None:
        meta.append(("max_frame_len", max_frame_len))
    meta += [("type_id", f"0x{type_id:04x}"), ("sequence", sequence), ("body", body.hex())]
    if packet:
        meta += [("packet", packet), ("value", value)]
    meta.append(("expect", "ok"))
    write("valid", name, meta, data)


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


def main():
    for kind in ("valid", "invalid"):
        os.makedirs(os.path.join(HERE, kind), exist_ok=True)
        for f in os.listdir(os.path.join(HERE, kind)):
            if f.endswith(".hex"):
                os.remove(os.path.join(HERE, kind, f))

    # ------------------------------------------------------------- valid
    valid("01-empty-body", "the smallest frame: empty body, no padding, 28 bytes",
          0x0001, 0, b"", "Empty", "Empty")
    valid("02-one-byte-body", "a 1-byte body followed by 3 zero padding bytes (frame 32 bytes)",
          0x0002, 1, u8(0xAB), "OneByte", "OneByte(171)")
    blob = bytes((i * 7 + 1) & 0xFF for i in range(36))
    valid("03-max-size-body", "the largest body a 64-byte maximum frame allows: 36 bytes, no padding",
          0x0003, 2, blob, "Blob36", "Blob36(" + "[" + ", ".join(str(b) for b in blob) + "])",
          max_frame_len=64)
    ints = (u8(0xFE) + i8(-2) + u16(0xBEEF) + i16(-300) + u32(0xDEADBEEF) + i32(-70000)
            + u64(0x0123456789ABCDEF) + i64(-(2**63)) + u128(2**128 - 2) + i128(-1))
    valid("04-integers", "every integer width, little-endian two's complement, no alignment",
          0x0010, 3, ints, "Ints",
          "Ints { a: 254, b: -2, c: 48879, d: -300, e: 3735928559, f: -70000, "
          "g: 81985529216486895, h: -9223372036854775808, "
          "i: 340282366920938463463374607431768211454, j: -1 }")
    floats = (f32(1.5) + f32_bits(0x80000000) + f64(3.141592653589793)
              + f64_bits(0x7FF0000000000000) + f32_bits(0x7FC00001) + f64_bits(0xFFF8000000000123))
    valid("05-floats", "IEEE 754 bit patterns little-endian: 1.5f32, -0.0f32, pi f64, +inf f64, "
          "and two NaNs whose payload bits must survive unchanged",
          0x0011, 4, floats, "Floats",
          "Floats { a: 0x3fc00000, b: 0x80000000, c: 0x400921fb54442d18, d: 0x7ff0000000000000, "
          "e: 0x7fc00001, f: 0xfff8000000000123 }",
          notes=["the value shows each float's to_bits() in hex"])
    bc = boolean(True) + boolean(False) + char("A") + char("\u00e9") + char("\U0001F980")
    valid("06-bool-char", "bool as one byte 0/1; char as its u32 scalar value",
          0x0012, 5, bc, "BoolChar",
          "BoolChar { t: true, f: false, c1: 'A', c2: 'é', c3: '🦀' }")
    strs = (string("u8", "hi") + string("u16", "h\u00e9llo") + string("u32", "game")
            + seq("u8", bytes([1, 2, 3])) + seq("u16", b"") + seq("u32", bytes([0xFF])))
    valid("07-strings-bytes", "&str and &[u8] behind u8, u16 (default) and u32 length prefixes; "
          "string lengths count UTF-8 bytes",
          0x0013, 6, strs, "Strings",
          'Strings { s8: "hi", s16: "héllo", s32: "game", b8: [1, 2, 3], b16: [], b32: [255] }')
    comp = (none() + some(u16(0x1234)) + u16(1) + u16(2) + u16(3)
            + u8(7) + i16(-1) + boolean(True) + bytes([9, 8, 7, 6]) + some(none()))
    valid("08-option-array-tuple", "Option tags 0/1, fixed arrays without prefix, tuples in order, "
          "Option<Option<u8>> = Some(None)",
          0x0014, 7, comp, "Composite",
          "Composite { none: None, some: Some(4660), arr: [1, 2, 3], tup: (7, -1, true), "
          "quad: [9, 8, 7, 6], nested: Some(None) }")
    nested = (u32(42) + f32(1.0) + f32(-2.5) + f32(0.25)
              + u8(2)                       # Kind::B (C-like, repr(u8), B = 2)
              + u16(1) + u32(500)           # Event::Hit { dmg: 500 } (repr(u16), Hit = 1)
              + u16(2) + string("u16", "gg")  # Event::Say("gg") (Say = 2)
              + u8(1)                       # Mode::B (no repr: u8 tag counting from 0)
              + items("u8", [u8(1) + u16(10), u8(2) + u16(300)])
              + some(u8(9) + string("u16", "ok")))
    valid("09-nested-enums", "a struct inside a struct, C-like and data enums, a u8-prefixed "
          "sequence of structs, Option of a tuple with a string",
          0x0015, 8, nested, "Nested",
          'Nested { id: 42, pos: Vec3 { x: 1.0, y: -2.5, z: 0.25 }, kind: B, '
          'hit: Hit { dmg: 500 }, say: Say("gg"), mode: B, '
          'items: [Item { kind: 1, count: 10 }, Item { kind: 2, count: 300 }], '
          'tail: Some((9, "ok")) }')
    pos = u32(7) + f32(1.5) + f32(0.0) + f32(-2.0)
    valid("10-zerocopy-view", "a #[repr(C)] zerocopy body (little-endian U32 and F32 fields) "
          "viewed in place", 0x0016, 9, pos, "Position",
          "Position { entity: 7, x: 1.5, y: 0.0, z: -2.0 }")
    valid("11-header-extremes", "type_id 0xffff and sequence u64::MAX; 2-byte body, 2 padding bytes",
          0xFFFF, 2**64 - 1, u16(0xFFFF), "Extremes", "Extremes(65535)")
    valid("12-three-byte-body", "a 3-byte body with one padding byte (raw bytes, no packet type)",
          0x0100, 0x0102030405060708, b"abc")

    # ----------------------------------------------------------- invalid
    good32 = frame(0x0002, 1, u8(0xAB))
    invalid("01-empty-input", "no bytes at all (rule 1)", b"",
            "Frame(Truncated { available: 0, needed: 4 })")
    invalid("02-truncated-length", "3 bytes: the length field itself is incomplete (rule 1)",
            good32[:3], "Frame(Truncated { available: 3, needed: 4 })")
    invalid("03-length-zero", "length 0, rejected without underflow (rule 2)",
            frame(0x0001, 0, b"", length=0), "Frame(LengthTooSmall { length: 0, min: 28 })")
    invalid("04-length-below-min", "length 24 < 28 (rule 2)",
            frame(0x0001, 0, b"", length=24), "Frame(LengthTooSmall { length: 24, min: 28 })")
    invalid("05-length-over-max", "a 68-byte frame (37-byte body) against a 64-byte maximum (rule 3)",
            frame(0x0003, 0, bytes(37)), "Frame(LengthTooLarge { length: 68, max: 64 })",
            max_frame_len=64)
    invalid("06-length-u32-max", "length u32::MAX with only 8 bytes present: rejected on the length "
            "alone (rule 3 precedes rule 5), before any allocation",
            u32(0xFFFFFFFF) + bytes(4),
            "Frame(LengthTooLarge { length: 4294967295, max: 65536 })")
    invalid("07-misaligned", "length 30 is not a multiple of 4 (rule 4)",
            frame(0x0002, 1, u8(0xAB), length=30)[:30],
            "Frame(Misaligned { length: 30 })")
    invalid("08-truncated-frame", "a 32-byte frame cut after 28 bytes (rule 5)",
            good32[:28], "Frame(Truncated { available: 28, needed: 32 })")
    invalid("09-trailing-bytes", "a valid 32-byte frame followed by 4 more bytes in one datagram (rule 6)",
            good32 + bytes(4), "Frame(TrailingBytes { length: 32, extra: 4 })")
    invalid("10-two-frames-in-datagram", "two valid frames in one datagram (rule 6)",
            good32 + frame(0x0001, 2, b""), "Frame(TrailingBytes { length: 32, extra: 28 })")
    invalid("11-bad-version", "version 2, CRC valid (rule 7)",
            frame(0x0002, 1, u8(0xAB), version=2),
            "Frame(BadVersion { found: 2, expected: 1 })")
    invalid("12-version-zero", "version 0 (rule 7)",
            frame(0x0002, 1, u8(0xAB), version=0),
            "Frame(BadVersion { found: 0, expected: 1 })")
    invalid("13-reserved-flag", "flags 0x80: a reserved bit (rule 8)",
            frame(0x0002, 1, u8(0xAB), flags=0x80), "Frame(ReservedFlags { flags: 128 })")
    invalid("14-reserved-and-sealed", "flags 0x03: reserved bits are checked before the sealed bit (rule 8)",
            frame(0x0002, 1, u8(0xAB), flags=0x03), "Frame(ReservedFlags { flags: 3 })")
    invalid("15-sealed-on-plaintext", "flags 0x01 (sealed) reaching a plaintext decoder (rule 9)",
            frame(0x0002, 1, u8(0xAB), flags=0x01),
            "Frame(UnexpectedEncryption { sealed: true })")
    invalid("16-body-len-too-small", "body_len 0 in a 32-byte frame, whose body room is 4 (rule 10)",
            frame(0x0002, 1, u8(0xAB), body_len=0),
            "Frame(BodyLengthMismatch { body_len: 0, length: 32 })")
    invalid("17-body-len-too-large", "body_len 5 in a 32-byte frame: 5 pads to 8, room is 4 (rule 10)",
            frame(0x0002, 1, u8(0xAB), body_len=5),
            "Frame(BodyLengthMismatch { body_len: 5, length: 32 })")
    invalid("18-body-len-u32-max", "body_len u32::MAX in a 28-byte frame: no overflow when rounding "
            "(on 32-bit targets naive rounding wraps to 0) (rule 10)",
            frame(0x0001, 0, b"", body_len=0xFFFFFFFF),
            "Frame(BodyLengthMismatch { body_len: 4294967295, length: 28 })")
    invalid("19-bad-ending", "ending marker PK\\r\\0 (rule 11)",
            frame(0x0002, 1, u8(0xAB), ending=b"PK\r\x00"),
            "Frame(BadEnding { found: [80, 75, 13, 0] })")
    bad = bytearray(good32)
    bad[20] ^= 0x01  # flip one body bit after the CRC was computed
    invalid("20-crc-mismatch", "one body bit flipped after the CRC was computed (rule 12)",
            bytes(bad), "Frame(CrcMismatch { expected: %d, computed: %d })" % (
                struct.unpack("<I", good32[24:28])[0], zlib.crc32(bytes(bad[:24])) & 0xFFFFFFFF))
    invalid("21-crc-zero", "check field zero on an otherwise valid empty frame (rule 12)",
            frame(0x0001, 0, b"", crc=0),
            "Frame(CrcMismatch { expected: 0, computed: %d })" % (
                zlib.crc32(frame(0x0001, 0, b"")[:20]) & 0xFFFFFFFF))
    invalid("22-non-zero-padding", "padding 00 01 00 after a 1-byte body, CRC computed over it, "
            "so only rule 13 fails", frame(0x0002, 1, u8(0xAB), padding=bytes([0, 1, 0])),
            "Frame(NonZeroPadding { offset: 22, value: 1 })")
    invalid("23-order-ending-before-crc", "bad ending and bad CRC: the ending is checked first",
            frame(0x0002, 1, u8(0xAB), crc=0, ending=b"XXXX"),
            "Frame(BadEnding { found: [88, 88, 88, 88] })")
    invalid("24-order-version-before-everything", "bad version, reserved flags, body_len, ending "
            "and CRC all wrong: the version is checked first",
            frame(0x0002, 1, u8(0xAB), version=9, flags=0xFE, body_len=77, crc=1, ending=b"XXXX"),
            "Frame(BadVersion { found: 9, expected: 1 })")
    invalid("25-order-crc-before-padding", "bad CRC and non-zero padding: the CRC is checked first",
            frame(0x0002, 1, u8(0xAB), padding=bytes([0, 0, 5]), crc=0),
            "Frame(CrcMismatch { expected: 0, computed: %d })" % (
                zlib.crc32(frame(0x0002, 1, u8(0xAB), padding=bytes([0, 0, 5]))[:24]) & 0xFFFFFFFF))
    invalid("26-stream-eof-mid-frame", "a byte stream that ends 10 bytes into a frame",
            good32 + good32[:10], "Frame(UnexpectedEof { buffered: 10 })", mode="stream",
            notes=["the first frame is delivered; finish() then reports the unfinished one"])
    invalid("27-stream-garbage-after-frame", "a valid frame then a length below the minimum on a stream",
            good32 + u32(8) + bytes(4), "Frame(LengthTooSmall { length: 8, min: 28 })", mode="stream",
            notes=["the first frame is delivered, then the error; the decoder stays failed"])
    # Body-level errors: the envelope is valid, the body does not decode.
    invalid("28-body-invalid-bool", "a bool byte 2 in a BoolChar body",
            frame(0x0012, 0, u8(2) + boolean(False) + char("A") + char("B") + char("C")),
            "Decode(InvalidBool(2))", packet="BoolChar")
    invalid("29-body-invalid-char", "a surrogate 0xD800 as a char",
            frame(0x0012, 0, boolean(True) + boolean(False) + u32(0xD800) + char("B") + char("C")),
            "Decode(InvalidChar(55296))", packet="BoolChar")
    invalid("30-body-invalid-utf8", "a u8-prefixed string holding the byte 0xFF after 'a'",
            frame(0x0013, 0, seq("u8", b"a\xff") + string("u16", "") + string("u32", "")
                  + seq("u8", b"") + seq("u16", b"") + seq("u32", b"")),
            "Decode(InvalidUtf8 { valid_up_to: 1 })", packet="Strings")
    invalid("31-body-string-past-end", "a u8 string prefix of 200 with 2 bytes left in the body",
            frame(0x0013, 0, u8(200) + b"ab"),
            "Decode(UnexpectedEnd { needed: 200, remaining: 2 })", packet="Strings")
    invalid("32-body-trailing-bytes", "a OneByte body of 2 bytes",
            frame(0x0002, 0, bytes([1, 2])), "Decode(TrailingBytes { extra: 1 })", packet="OneByte")
    invalid("33-body-option-tag", "an Option tag of 2",
            frame(0x0014, 0, u8(2)), "Decode(InvalidOptionTag(2))", packet="Composite")
    invalid("34-wrong-packet-id", "a valid frame of type 0x0099 decoded as Ints (0x0010)",
            frame(0x0099, 0, ints), "Decode(WrongPacketId { expected: 16, found: 153 })", packet="Ints")
    invalid("35-body-unknown-discriminant", "Kind discriminant 9 (only A = 1 and B = 2 exist)",
            frame(0x0015, 0, nested[:16] + u8(9) + nested[17:]),
            'Decode(UnknownDiscriminant { value: 9, type_name: "Kind" })', packet="Nested")


if __name__ == "__main__":
    main()
