#!/usr/bin/env python3
"""Writes the protocol-fingerprint vectors (wire-format.md §11) into
fingerprint/: for each schema, every packet's canonical layout bytes (hex)
and the set's FNV-1a 64 fingerprint.

An independent implementation of §11: it reads schemas with decode.py's
small parser (the subset of the schema language the vectors use) and shares
nothing with the Rust code. Checked by examples/schema-demo/tests/it/fingerprint.rs
against both the derive (`<Set as Fingerprint>::FINGERPRINT`) and the schema
compiler (`Schema::fingerprint`).

It refuses a set of packets past the limits of §11.6, as the derive and
the schema compiler do: a field inside more than 16 structs and enums (the
packet counted), or more than 131072 bytes of description for the set. The
walk stops where a limit is passed.

Run: `python3 docs/vectors/fingerprint.py` (rewrites fingerprint/*.txt), or
`python3 docs/vectors/fingerprint.py --check` (CI: the committed files are
what this script writes, and the §11.6 limits hold at their edges; exit
status 1 on any failure, nothing written).
"""

import os
import struct
import sys

from decode import Parser

HERE = os.path.dirname(os.path.abspath(__file__))

PRIM = {"u8": 0x01, "u16": 0x02, "u32": 0x03, "u64": 0x04, "u128": 0x05,
        "i8": 0x06, "i16": 0x07, "i32": 0x08, "i64": 0x09, "i128": 0x0A,
        "f32": 0x0B, "f64": 0x0C, "bool": 0x0D, "char": 0x0E}
STRING, LIST, ARRAY, OPTION, STRUCT, ENUM, BACK = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16
WIDTH = {"u8": 1, "u16": 2, "u32": 4}
MAGIC = b"PKFP\x01"

# Wire-format §11.6.
MAX_NESTING = 16             # structs and enums around a field, the packet counted
MAX_DESCRIPTION_LEN = 131072  # bytes of description per set, from the magic


class LimitError(ValueError):
    """A set of packets past a limit of §11.6: no fingerprint is defined."""

    def __init__(self, limit, message):
        super().__init__(message)
        self.limit = limit  # "nesting" or "length"


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


def has_fields(decl):
    """Whether a struct (packet) or enum writes any field (§11.6, 1)."""
    if decl[0] == "struct":
        return len(decl[2]) > 0
    return any(shape is not None and len(shape[1]) > 0 for _, _, shape in decl[2])


class Walker:
    """Writes the layouts of one set's packets (§11.2), counting every byte
    of the set's description from the magic: past MAX_DESCRIPTION_LEN, or
    at a struct or enum with fields entered with MAX_NESTING already open,
    it raises LimitError at once, so the work stays bounded whatever the
    schema."""

    def __init__(self, types):
        self.types = types
        self.used = len(MAGIC) + 4  # the magic and the packet count

    def put(self, out, data):
        self.used += len(data)
        if self.used > MAX_DESCRIPTION_LEN:
            raise LimitError("length", "the set's canonical description is longer than "
                             f"{MAX_DESCRIPTION_LEN} bytes (wire-format §11.6)")
        out += data

    def packet(self, type_id, name):
        self.put(bytearray(), struct.pack("<H", type_id))
        out = bytearray()
        self.named(out, name, [])
        return bytes(out)

    def layout(self, out, ty, open_):
        kind = ty[0]
        if kind == "name":
            if ty[1] in PRIM:
                self.put(out, bytes([PRIM[ty[1]]]))
            else:
                self.named(out, ty[1], open_)
        elif kind == "string":
            self.put(out, prefixed(STRING, ty[1], ty[2]))
        elif kind == "bytes":
            self.put(out, prefixed(LIST, ty[1], ty[2]) + bytes([PRIM["u8"]]))
        elif kind == "list":
            self.put(out, prefixed(LIST, ty[2], ty[3]))
            self.layout(out, ty[1], open_)
        elif kind == "array":
            self.put(out, bytes([ARRAY]) + u32(ty[2]))
            self.layout(out, ty[1], open_)
        elif kind == "option":
            self.put(out, bytes([OPTION]))
            self.layout(out, ty[1], open_)
        elif kind == "box":
            self.layout(out, ty[1], open_)  # box is its value on the wire
        else:
            raise ValueError(ty)

    def named(self, out, name, open_):
        if name in open_:
            # Back-reference: 0 = the innermost struct or enum being
            # expanded. Not expanded, so never too deep.
            self.put(out, bytes([BACK]) + u32(open_[::-1].index(name)))
            return
        decl = self.types[name]
        # Its fields would lie inside len(open_) + 1 structs and enums.
        if len(open_) >= MAX_NESTING and has_fields(decl):
            chain = " > ".join(open_ + [name])
            raise LimitError("nesting", f"a field inside more than {MAX_NESTING} nested "
                             f"structs and enums, the packet counted: {chain} (wire-format §11.6)")
        open_ = open_ + [name]
        if decl[0] == "struct":
            self.put(out, bytes([STRUCT]) + u32(len(decl[2])))
            for _, t in decl[2]:
                self.layout(out, t, open_)
            return
        _, tag, variants = decl
        self.put(out, bytes([ENUM, PRIM[tag]]) + u32(len(variants)))
        for _, value, shape in sorted(variants, key=lambda v: v[1] & 0xFFFFFFFF):
            if shape is None:
                fields = []
            elif shape[0] == "named":
                fields = [t for _, t in shape[1]]
            else:
                fields = shape[1]
            self.put(out, u32(value) + u32(len(fields)))
            for t in fields:
                self.layout(out, t, open_)


def packets(text):
    """Every packet of the schema as (type id, name, layout), by ascending
    id; LimitError for a set past §11.6's limits."""
    types = Parser(text).items()
    ids = sorted((decl[1], name) for name, decl in types.items()
                 if decl[0] == "struct" and decl[1] is not None)
    walker = Walker(types)
    return [(type_id, name, walker.packet(type_id, name)) for type_id, name in ids]


def description_len(pkts):
    """The set's description length (§11.6, 2): magic, count, ids, layouts."""
    return len(MAGIC) + 4 + sum(2 + len(body) for _, _, body in pkts)


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


def render(source_line, pkts, comment):
    lines = [f"# {comment}", source_line]
    for type_id, pname, body in pkts:
        lines.append(f"packet 0x{type_id:04x} {pname} {body.hex()}")
    lines.append(f"fingerprint 0x{fingerprint(pkts):016x}")
    return "\n".join(lines) + "\n"


def vectors():
    """Every vector file: (name, text)."""
    out = []
    for name, text in INLINE.items():
        source = " ".join(line.strip() for line in text.strip().splitlines())
        out.append((name, render(f"schema {source}", packets(text),
                                 "generated by fingerprint.py from the inline schema below; do not edit")))
    with open(os.path.join(HERE, "vectors.packet")) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("///")
                       and not line.lstrip().startswith("//!"))
    out.append(("05-vectors-packet", render("file vectors.packet", packets(text),
                                            "generated by fingerprint.py from vectors.packet; do not edit")))
    return out


# ------------------------------------------------- the limits (§11.6), --check

def chain(last):
    """§11.6's example: packet P holds S1, S1 holds S2, ..., S15 holds
    `last` (its declaration, which names itself Last)."""
    lines = ["packet P = 0x0001 { a: S1 }"]
    lines += [f"struct S{i} {{ a: S{i + 1} }}" for i in range(1, 15)]
    lines.append("struct S15 { a: Last }")
    return "\n".join(lines) + "\n" + last + "\n"


def diamond(levels, fan=2, wrap="{}"):
    """A packet and levels - 1 structs each holding the next `fan` times
    (each field's type `wrap` of it), then `struct D<levels> { x: u8 }`:
    with fan 2, a layout of 11 * 2**levels - 5 bytes (§11.6, 2)."""
    def holding(i):
        return ", ".join(f"f{k}: " + wrap.format(f"D{i}") for k in range(fan))
    lines = [f"packet P = 0x0001 {{ {holding(1)} }}"]
    lines += [f"struct D{i} {{ {holding(i + 1)} }}" for i in range(1, levels)]
    lines.append(f"struct D{levels} {{ x: u8 }}")
    return "\n".join(lines) + "\n"


def exactly(extra):
    """A set whose description is 131072 + extra bytes: the magic, the
    count, the id and the packet's node (16 bytes), 500 fields option<W>
    of a struct of 256 u8 fields (1 + 261 bytes each), 56 + extra u8
    fields. (Options keep the smallest body within a 64 KiB frame, so
    the schema compiler takes these schemas too, apart from the limit.)"""
    wide = "struct W { " + ", ".join(f"f{i}: u8" for i in range(256)) + " }"
    fields = [f"w{i}: option<W>" for i in range(500)] + [f"b{i}: u8" for i in range(56 + extra)]
    return wide + "\npacket P = 0x0001 { " + ", ".join(fields) + " }\n"


# (name, schema, the limit it passes or None, its description length if within)
LIMITS = [
    ("a field inside 16 types, C-like enum 17th (§11.6's example)",
     chain("enum Last { Calm, Angry }"), None, None),
    ("an empty struct 17th", chain("struct Last {}"), None, None),
    ("a back-reference 17th (not expanded)",
     chain("struct Last { x: u8 }").replace("struct S15 { a: Last }", "struct S15 { a: option<box<S1>> }"),
     None, None),
    ("a field in the 17th type: a data variant", chain("enum Last { Calm, Angry(u8) }"), "nesting", None),
    ("a field in the 17th type: a struct", chain("struct Last { x: u8 }"), "nesting", None),
    ("a list of a too-deep type counts the named types only",
     chain("struct Last { x: list<option<[u8; 2]>>(len = u8) }"), "nesting", None),
    ("a 13-level diamond: 90 107 bytes of layout", diamond(13), None, 11 * 2**13 - 5 + 11),
    ("a 14-level diamond: 180 219 bytes of layout", diamond(14), "length", None),
    ("a 15-level diamond: 360 443 bytes (§11.6's example)", diamond(15), "length", None),
    ("a 15-level diamond holding each type 8 times (about 8**15 bytes) stops at the limit",
     diamond(15, fan=8, wrap="option<{}>"), "length", None),
    ("exactly 131072 bytes of description", exactly(0), None, MAX_DESCRIPTION_LEN),
    ("131073 bytes of description", exactly(1), "length", None),
    ("the limit counts the whole set: two packets of 65 536 bytes (id included)",
     "".join(f"packet {p} = {i} {{ x: u8, " + ", ".join(f"f{k}: option<u8>" for k in range(32764))
             + " }\n" for i, p in ((1, "A"), (2, "B"))),
     "length", None),
]


def check():
    failures = 0

    def report(ok, what):
        nonlocal failures
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}  {what}")

    for name, text in vectors():
        with open(os.path.join(HERE, "fingerprint", name + ".txt")) as f:
            report(f.read() == text, f"fingerprint/{name}.txt is what fingerprint.py writes")
    for what, text, limit, length in LIMITS:
        try:
            pkts = packets(text)
            got, detail = None, f"description {description_len(pkts)} bytes"
            ok = limit is None and (length is None or description_len(pkts) == length)
        except LimitError as e:
            got, detail = e.limit, str(e)
            ok = got == limit
        want = "refused: " + limit if limit else "a fingerprint"
        report(ok, f"§11.6 {what}: {want} ({detail})")
    print(f"{len(vectors()) + len(LIMITS)} checks, {failures} failures")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--check"]:
        return check()
    if sys.argv[1:]:
        print("usage: fingerprint.py [--check]", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(HERE, "fingerprint"), exist_ok=True)
    for name, text in vectors():
        with open(os.path.join(HERE, "fingerprint", name + ".txt"), "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
