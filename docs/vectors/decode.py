#!/usr/bin/env python3
"""Decodes every body vector from the schema alone, as another language would.

Reads vectors.packet (a small parser for the subset of the schema language
it uses), decodes the body of every valid/ and invalid/ vector that names a
`packet` by the rules of wire-format.md §3, and compares the result with the
vector's `value` or `expect` line, in the notation of README.md. It shares no
code with gen.py (which writes bodies field by field, by hand) or with the
Rust tests: it shows that the schema, the doc and the notation are enough.

Run: `python3 docs/vectors/decode.py` (exit status 1 on any mismatch).
"""

import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------ the schema

TOKEN = re.compile(r"\s+|//[^\n]*|(0x[0-9a-fA-F_]+|\d[\d_]*)|([A-Za-z_]\w*)|(\S)")


def tokens(text):
    out = []
    for m in TOKEN.finditer(text):
        if m.group(1):
            out.append(int(m.group(1).replace("_", ""), 0))
        elif m.group(2):
            out.append(m.group(2))
        elif m.group(3):
            out.append(m.group(3))
    return out


class Parser:
    def __init__(self, text):
        self.t = tokens(text)
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected=None):
        tok = self.peek()
        if expected is not None and tok != expected:
            raise SyntaxError(f"expected {expected!r}, found {tok!r}")
        self.i += 1
        return tok

    def items(self):
        types = {}
        while self.peek() is not None:
            kind, name = self.take(), self.take()
            if kind == "packet":
                self.take("=")
                types[name] = ("struct", self.take(), self.fields())
            elif kind == "struct":
                types[name] = ("struct", None, self.fields())
            elif kind == "enum":
                types[name] = self.enum()
            else:
                raise SyntaxError(f"unexpected {kind!r}")
        return types

    def fields(self):
        self.take("{")
        fields = []
        while self.peek() != "}":
            name = self.take()
            self.take(":")
            fields.append((name, self.type()))
            if self.peek() == ",":
                self.take()
        self.take("}")
        return fields

    def enum(self):
        tag = "u8"
        if self.peek() == ":":
            self.take()
            tag = self.take()
        self.take("{")
        variants, value = [], -1
        while self.peek() != "}":
            name, shape = self.take(), None
            if self.peek() == "{":
                shape = ("named", self.fields())
            elif self.peek() == "(":
                self.take()
                types = []
                while self.peek() != ")":
                    types.append(self.type())
                    if self.peek() == ",":
                        self.take()
                self.take(")")
                shape = ("positional", types)
            value += 1
            if self.peek() == "=":
                self.take()
                value = self.take()
            variants.append((name, value, shape))
            if self.peek() == ",":
                self.take()
        self.take("}")
        return ("enum", tag, variants)

    def type(self):
        tok = self.take()
        if tok == "[":
            item = self.type()
            self.take(";")
            n = self.take()
            self.take("]")
            return ("array", item, n)
        if tok in ("list", "option", "box"):
            self.take("<")
            item = self.type()
            self.take(">")
            return (tok, item) + (self.seq_options() if tok == "list" else ())
        if tok in ("string", "bytes"):
            return (tok,) + self.seq_options()
        return ("name", tok)

    def seq_options(self):
        prefix, max_len = "u16", None
        if self.peek() == "(":
            self.take()
            while self.peek() != ")":
                key = self.take()
                self.take("=")
                value = self.take()
                if key == "len":
                    prefix = value
                else:
                    max_len = value
                if self.peek() == ",":
                    self.take()
            self.take(")")
        return (prefix, max_len)


# ------------------------------------------------------------ decoding

class BodyError(Exception):
    def __init__(self, variant, **fields):
        super().__init__(variant)
        self.text = f"body.{variant} {json.dumps(fields, ensure_ascii=False)}"


INTS = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q", "i8": "<b", "i16": "<h",
        "i32": "<i", "i64": "<q"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        remaining = len(self.data) - self.pos
        if n > remaining:
            raise BodyError("UnexpectedEnd", needed=n, remaining=remaining)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, name):
        if name in ("u128", "i128"):
            return int.from_bytes(self.take(16), "little", signed=name == "i128")
        fmt = INTS[name]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]


def decode(types, ty, r):
    kind = ty[0]
    if kind == "name":
        name = ty[1]
        if name in INTS or name in ("u128", "i128"):
            return r.int(name)
        if name in ("f32", "f64"):
            width = 4 if name == "f32" else 8
            return "0x" + r.take(width)[::-1].hex()
        if name == "bool":
            b = r.int("u8")
            if b > 1:
                raise BodyError("InvalidBool", byte=b)
            return b == 1
        if name == "char":
            v = r.int("u32")
            if 0xD800 <= v <= 0xDFFF or v > 0x10FFFF:
                raise BodyError("InvalidChar", value=v)
            return chr(v)
        decl = types[name]
        if decl[0] == "struct":
            return {f: decode(types, t, r) for f, t in decl[2]}
        _, tag_type, variants = decl
        tag = r.int(tag_type)
        for vname, value, shape in variants:
            if value == tag:
                if shape is None:
                    return vname
                if shape[0] == "named":
                    return {vname: {f: decode(types, t, r) for f, t in shape[1]}}
                return {vname: [decode(types, t, r) for t in shape[1]]}
        raise BodyError("UnknownDiscriminant", value=tag, type_name=name)
    if kind == "array":
        if ty[1] == ("name", "u8"):
            return r.take(ty[2]).hex()
        return [decode(types, ty[1], r) for _ in range(ty[2])]
    if kind == "option":
        tag = r.int("u8")
        if tag == 0:
            return None
        if tag == 1:
            return {"some": decode(types, ty[1], r)}
        raise BodyError("InvalidOptionTag", tag=tag)
    if kind == "box":
        return decode(types, ty[1], r)
    # string, bytes, list: prefix, then max, then the remaining body (§3).
    prefix, max_len = ty[-2], ty[-1]
    n = r.int(prefix)
    if max_len is not None and n > max_len:
        raise BodyError("LengthOverMax", len=n, max=max_len)
    remaining = len(r.data) - r.pos
    if n > remaining:
        raise BodyError("UnexpectedEnd", needed=n, remaining=remaining)
    if kind == "bytes":
        return r.take(n).hex()
    if kind == "string":
        raw = r.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BodyError("InvalidUtf8", valid_up_to=e.start)
    return [decode(types, ty[1], r) for _ in range(n)]


def decode_packet(types, name, type_id, body):
    _, packet_id, fields = types[name]
    if type_id != packet_id:
        raise BodyError("WrongPacketId", expected=packet_id, found=type_id)
    r = Reader(body)
    value = {f: decode(types, t, r) for f, t in fields}
    if r.pos != len(body):
        raise BodyError("TrailingBytes", extra=len(body) - r.pos)
    return value


# ------------------------------------------------------------ the files

def read_vector(path):
    meta, hexdigits = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                key, _, value = line[1:].strip().partition(":")
                meta.setdefault(key.strip(), value.strip())
            else:
                hexdigits.append(line)
    return meta, bytes.fromhex("".join("".join(hexdigits).split()))


def main():
    with open(os.path.join(HERE, "vectors.packet"), encoding="utf-8") as f:
        types = Parser(f.read()).items()
    checked, failed = 0, 0
    sessions = 0
    for kind in ("valid", "invalid"):
        for name in sorted(os.listdir(os.path.join(HERE, kind))):
            meta, data = read_vector(os.path.join(HERE, kind, name))
            if "session" in meta:
                sessions += 1
                problem = check_session(meta, data)
                if problem:
                    failed += 1
                    print(f"{kind}/{name}: {problem}")
            if "packet" not in meta:
                continue
            # The envelope of these vectors is valid (§2): header, then body.
            type_id = struct.unpack("<H", data[6:8])[0]
            body_len = struct.unpack("<I", data[8:12])[0]
            body = data[20:20 + body_len]
            try:
                got = json.dumps(decode_packet(types, meta["packet"], type_id, body),
                                 ensure_ascii=False)
                want = meta["value"] if kind == "valid" else meta["expect"]
            except BodyError as e:
                got, want = e.text, meta["expect"]
            checked += 1
            if got != want:
                failed += 1
                print(f"{kind}/{name}:\n  decoded  {got}\n  expected {want}")
    print(f"{checked} body vectors decoded from vectors.packet, {sessions} session hello / "
          f"refusal / close notice vectors read by wire-format 7.3, 11.5 and 12, {failed} mismatches")
    return 1 if failed or checked < 20 or sessions < 6 else 0


def check_session(meta, data):
    """A session hello or refusal (wire-format 7.3, 11.5), read from the
    frame's bytes by the doc alone: type 0xffff, sequence 0, then the body
    by its length: 16 = the version-1 hello (token), 24 = the hello with a
    fingerprint (token, u64 LE), 8 = the refusal (the server's u64 LE),
    4 = the close notice of wire-format 12 (reason, detail: u16 LE).
    Returns what is wrong, or None."""
    length, version, flags, type_id, body_len, sequence = struct.unpack("<IBBHIQ", data[:20])
    if (type_id, sequence, flags) != (0xFFFF, 0, 0) or length != len(data):
        return f"not a plain frame of type 0xffff, sequence 0: {type_id:#x} {sequence} {flags}"
    body = data[20:20 + body_len]
    want_fp = meta.get("fingerprint")
    if meta["session"] == "notice":
        # Wire-format 12: reason u16 LE, detail u16 LE; smaller than every
        # hello (no amplification).
        if body_len != 4:
            return f"a close notice's body is 4 bytes, not {body_len}"
        reason, detail = struct.unpack("<HH", body)
        if (str(reason), str(detail)) != (meta.get("reason"), meta.get("detail")):
            return f"reason {reason} detail {detail}, expected {meta.get('reason')} {meta.get('detail')}"
        if reason != 6 and detail != 0:
            return f"detail {detail} with reason {reason}: only reason 6 carries one"
        if length >= 44:
            return f"a close notice of {length} bytes is not smaller than every hello (44, 52)"
        return None
    if meta["session"] == "refusal":
        if body_len != 8:
            return f"a refusal's body is 8 bytes, not {body_len}"
        got = f"0x{struct.unpack('<Q', body)[0]:016x}"
        if got != want_fp:
            return f"fingerprint {got}, expected {want_fp}"
        if length >= 44:
            return f"a refusal of {length} bytes is not smaller than every hello (44, 52)"
        return None
    if meta["session"] != "hello" or body_len not in (16, 24):
        return f"not a hello: {meta['session']}, body {body_len} bytes"
    if body[:16].hex() != meta["token"]:
        return f"token {body[:16].hex()}, expected {meta['token']}"
    got = f"0x{struct.unpack('<Q', body[16:])[0]:016x}" if body_len == 24 else None
    if got != want_fp:
        return f"fingerprint {got}, expected {want_fp}"
    return None


if __name__ == "__main__":
    sys.exit(main())
