#!/usr/bin/env python3
"""Writes the protocol-fingerprint vectors (wire-format.md §11) into
fingerprint/: for each schema, every packet's canonical layout bytes (hex)
and the set's FNV-1a 64 fingerprint.

An independent implementation of §11: it reads schemas with decode.py's
small parser (the subset of the schema language the vectors use) and shares
nothing with the Rust code. Checked by examples/schema-demo/tests/it/fingerprint.rs
against both the derive (`<Set as Fingerprint>::FINGERPRINT`) and the schema
compiler (`Schema::fingerprint`).

Run: `python3 docs/vectors/fingerprint.py` (rewrites fingerprint/*.txt).
"""

import os
import struct

from decode import Parser

HERE = os.path.dirname(os.path.abspath(__file__))

PRIM = {"u8": 0x01, "u16": 0x02, "u32": 0x03, "u64": 0x04, "u128": 0x05,
        "i8": 0x06, "i16": 0x07, "i32": 0x08, "i64": 0x09, "i128": 0x0A,
        "f32": 0x0B, "f64": 0x0C, "bool": 0x0D, "char": 0x0E}
STRING, LIST, ARRAY, OPTION, STRUCT, ENUM, BACK = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16
WIDTH = {"u8": 1, "u16": 2, "u32": 4}
MAGIC = b"PKFP\x01"


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def fnv1a64(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def prefixed(code, prefix, max_len):
    width = WIDTH[prefix]
    limit = (1 << (8 * width)) - 1
    bound = limit if max_len is None else min(max_len, limit)
    return bytes([code, width]) + u32(bound)


def layout(types, ty, open_):
    kind = ty[0]
    if kind == "name":
        if ty[1] in PRIM:
            return bytes([PRIM[ty[1]]])
        return named(types, ty[1], open_)
    if kind == "string":
        return prefixed(STRING, ty[1], ty[2])
    if kind == "bytes":
        return prefixed(LIST, ty[1], ty[2]) + bytes([PRIM["u8"]])
    if kind == "list":
        return prefixed(LIST, ty[2], ty[3]) + layout(types, ty[1], open_)
    if kind == "array":
        return bytes([ARRAY]) + u32(ty[2]) + layout(types, ty[1], open_)
    if kind == "option":
        return bytes([OPTION]) + layout(types, ty[1], open_)
    if kind == "box":
        return layout(types, ty[1], open_)  # box is its value on the wire
    raise ValueError(ty)


def named(types, name, open_):
    if name in open_:
        # Back-reference: 0 = the innermost struct or enum being expanded.
        return bytes([BACK]) + u32(open_[::-1].index(name))
    open_ = open_ + [name]
    decl = types[name]
    if decl[0] == "struct":
        fields = [t for _, t in decl[2]]
        return bytes([STRUCT]) + u32(len(fields)) + b"".join(layout(types, t, open_) for t in fields)
    _, tag, variants = decl
    out = bytes([ENUM, PRIM[tag]]) + u32(len(variants))
    for _, value, shape in sorted(variants, key=lambda v: v[1] & 0xFFFFFFFF):
        if shape is None:
            fields = []
        elif shape[0] == "named":
            fields = [t for _, t in shape[1]]
        else:
            fields = shape[1]
        out += u32(value) + u32(len(fields)) + b"".join(layout(types, t, open_) for t in fields)
    return out


def packets(text):
    types = Parser(text).items()
    out = []
    for name, decl in types.items():
        if decl[0] == "struct" and decl[1] is not None:
            out.append((decl[1], name, named(types, name, [])))
    return sorted(out)


def fingerprint(pkts):
    data = MAGIC + u32(len(pkts))
    for type_id, _, body in pkts:
        data += struct.pack("<H", type_id) + body
    return fnv1a64(data)


# Small schemas for the cases vectors.packet does not have. Each is also
# written in Rust with the derive by the test that checks these files.
INLINE = {
    "01-one-packet": """
packet Ping = 0x0001 { at: u64 }
""",
    "02-names-do-not-count": """
packet Pong = 0x0001 { time: u64 }
""",
    "03-bounds-and-widths": """
packet Chat = 0x0102 {
    room: u16,
    name: string(len = u8),
    text: string(max = 200),
    tags: list<u16>(len = u8, max = 4),
    blob: bytes(len = u32),
}
""",
    "04-recursion": """
struct Tree { value: u8, kids: list<Tree>(len = u8, max = 8) }
struct Folder { name: string(len = u8), entries: list<Entry>(len = u8) }
struct Entry { id: u32, folder: option<box<Folder>> }
enum Shape: u16 { Dot = 7, Pair(box<Shape>, box<Shape>) = 2, Empty = 0 }
packet Show = 0x0400 { tree: Tree, root: Folder, shape: Shape }
packet Ping = 0x0001 { at: u64 }
""",
}


def write(name, source_line, pkts, comment):
    lines = [f"# {comment}", source_line]
    for type_id, pname, body in pkts:
        lines.append(f"packet 0x{type_id:04x} {pname} {body.hex()}")
    lines.append(f"fingerprint 0x{fingerprint(pkts):016x}")
    with open(os.path.join(HERE, "fingerprint", name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(os.path.join(HERE, "fingerprint"), exist_ok=True)
    for name, text in INLINE.items():
        source = " ".join(line.strip() for line in text.strip().splitlines())
        write(name, f"schema {source}", packets(text),
              "generated by fingerprint.py from the inline schema below; do not edit")
    with open(os.path.join(HERE, "vectors.packet")) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("///")
                       and not line.lstrip().startswith("//!"))
    write("05-vectors-packet", "file vectors.packet", packets(text),
          "generated by fingerprint.py from vectors.packet; do not edit")


if __name__ == "__main__":
    main()
