-- The schema-independent part of the dissector: the envelope rules of
-- docs/wire-format.md §4 in their order, a CRC-32, the body walker that
-- interprets the TYPES descriptors above, TCP reassembly, UDP, the
-- heuristic and the port preference. Values use the notation of
-- packet-schema's `inspect` module (its tests compare the two).

local proto = Proto("packet", "packet protocol")
local pf = {
    length = ProtoField.uint32("packet.length", "length", base.DEC),
    version = ProtoField.uint8("packet.version", "version", base.DEC),
    flags = ProtoField.uint8("packet.flags", "flags", base.HEX),
    type_id = ProtoField.uint16("packet.type_id", "type_id", base.HEX),
    body_len = ProtoField.uint32("packet.body_len", "body_len", base.DEC),
    sequence = ProtoField.uint64("packet.sequence", "sequence", base.DEC),
    packet = ProtoField.string("packet.name", "packet"),
    field = ProtoField.none("packet.field", "field"),
    error = ProtoField.string("packet.error", "error"),
    token = ProtoField.bytes("packet.hello.token", "token"),
    fingerprint = ProtoField.uint64("packet.fingerprint", "fingerprint", base.HEX),
    close_reason = ProtoField.uint16("packet.close.reason", "reason", base.DEC),
    close_detail = ProtoField.uint16("packet.close.detail", "detail", base.DEC),
}
-- The close notice's reason codes (wire-format §12).
local CLOSE_REASONS = {
    [1] = "server full", [2] = "server shutting down", [3] = "idle timeout",
    [4] = "protocol error", [5] = "server error", [6] = "closed by the application",
}
local all_fields = { pf.length, pf.version, pf.flags, pf.type_id, pf.body_len, pf.sequence, pf.packet,
    pf.field, pf.error, pf.token, pf.fingerprint, pf.close_reason, pf.close_detail }
for _, f in ipairs(PF) do all_fields[#all_fields + 1] = f end
proto.fields = all_fields
local ef_malformed = ProtoExpert.new("packet.malformed", "malformed frame", expert.group.MALFORMED,
    expert.severity.ERROR)
proto.experts = { ef_malformed }
proto.prefs.port = Pref.uint("Port", DEFAULT_PORT, "TCP and UDP port of the protocol (0: heuristic only)")
proto.prefs.max_frame = Pref.uint("Largest frame", MAX_FRAME_LEN, "The receiver's maximum frame length in bytes")

local f_udp = Field.new("udp")
local band, bor, bxor, rshift = bit32.band, bit32.bor, bit32.bxor, bit32.rshift

-- CRC-32 (IEEE 802.3, reflected, init and xorout 0xFFFFFFFF), table driven.
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) == 1 then c = bxor(rshift(c, 1), 0xEDB88320) else c = rshift(c, 1) end
    end
    crc_table[i] = c
end
local function crc32(s)
    local crc = 0xFFFFFFFF
    for i = 1, #s do
        crc = bxor(rshift(crc, 8), crc_table[band(bxor(crc, s:byte(i)), 0xFF)])
    end
    return bxor(crc, 0xFFFFFFFF)
end

-- Little-endian bytes as an unsigned number (exact up to 2^53).
local function le(s)
    local v = 0
    for i = #s, 1, -1 do v = v * 256 + s:byte(i) end
    return v
end

-- Little-endian bytes of any width as a decimal string (two's complement
-- when signed): long division, so u64 and u128 are exact.
local function decimal(s, signed)
    local b = {}
    for i = #s, 1, -1 do b[#b + 1] = s:byte(i) end -- big-endian
    local neg = signed and b[1] >= 128
    if neg then
        local carry = 1
        for i = #b, 1, -1 do
            local x = 255 - b[i] + carry
            b[i] = x % 256
            carry = math.floor(x / 256)
        end
    end
    local digits = {}
    local zero = false
    while not zero do
        local rem = 0
        zero = true
        for i = 1, #b do
            local x = rem * 256 + b[i]
            b[i] = math.floor(x / 10)
            rem = x % 10
            if b[i] ~= 0 then zero = false end
        end
        digits[#digits + 1] = tostring(rem)
    end
    local out = string.reverse(table.concat(digits))
    if neg then out = "-" .. out end
    return out
end

local function hex_le(s)
    local out = {}
    for i = #s, 1, -1 do out[#out + 1] = string.format("%02x", s:byte(i)) end
    return table.concat(out)
end

-- Rust's str::from_utf8: nil when valid, else valid_up_to.
local function utf8_error(s)
    local i, n = 1, #s
    while i <= n do
        local c = s:byte(i)
        local len, lo, hi = 0, 0x80, 0xBF
        if c < 0x80 then len = 1
        elseif c >= 0xC2 and c <= 0xDF then len = 2
        elseif c == 0xE0 then len, lo = 3, 0xA0
        elseif c >= 0xE1 and c <= 0xEC then len = 3
        elseif c == 0xED then len, hi = 3, 0x9F
        elseif c >= 0xEE and c <= 0xEF then len = 3
        elseif c == 0xF0 then len, lo = 4, 0x90
        elseif c >= 0xF1 and c <= 0xF3 then len = 4
        elseif c == 0xF4 then len, hi = 4, 0x8F
        else return i - 1 end
        for k = 1, len - 1 do
            local d = s:byte(i + k)
            local l, h = 0x80, 0xBF
            if k == 1 then l, h = lo, hi end
            if d == nil or d < l or d > h then return i - 1 end
        end
        i = i + len
    end
    return nil
end

local function quote(s)
    return '"' .. s:gsub('[\0-\31\127"\\]', function(ch)
        if ch == '"' then return '\\"' end
        if ch == "\\" then return "\\\\" end
        return string.format("\\x%02x", ch:byte())
    end) .. '"'
end

local function utf8_char(u)
    if u < 0x80 then return string.char(u) end
    if u < 0x800 then return string.char(0xC0 + math.floor(u / 64), 0x80 + u % 64) end
    if u < 0x10000 then
        return string.char(0xE0 + math.floor(u / 4096), 0x80 + math.floor(u / 64) % 64, 0x80 + u % 64)
    end
    return string.char(0xF0 + math.floor(u / 262144), 0x80 + math.floor(u / 4096) % 64,
        0x80 + math.floor(u / 64) % 64, 0x80 + u % 64)
end

-- The body walker. A cursor: the frame's tvb, the position and the end of
-- the body (offsets into the tvb), the list/box depth, and the compound
-- items still open (their lengths are set when they close, or at the
-- position of a failure).
local function decimal_n(n) return string.format("%.0f", n) end
local function count(n, what) return string.format("%d %s%s", n, what, (n == 1) and "" or "s") end

local Fail = {}
local function fail(rule, from, to)
    error(setmetatable({ rule = rule, from = from, to = to }, Fail), 0)
end

local function take(c, n)
    local rem = c.lim - c.pos
    if n > rem then
        fail(string.format("body: UnexpectedEnd { needed: %s, remaining: %d }", decimal_n(n), rem), c.pos, c.lim)
    end
    local at = c.pos
    c.pos = c.pos + n
    return c.tvb:raw(at, n), at
end

-- An item over [at, pos): the schema field's own ProtoField with its value
-- when the descriptor has one (filterable: `packet.Move.entity == 7`),
-- else the generic `packet.field`; the text in the notation above.
local function item(c, tree, at, text, d, value)
    local it
    if d ~= nil and d.pf ~= nil then
        it = tree:add(PF[d.pf], c.tvb(at, c.pos - at), value)
    else
        it = tree:add(pf.field, c.tvb(at, c.pos - at))
    end
    it:set_text(text)
    return it
end

local function open(c, tree, at, text, d, value)
    local it = item(c, tree, at, text, d, value)
    c.open[#c.open + 1] = { it, at }
    return it
end

local function close(c)
    local top = table.remove(c.open)
    top[1]:set_len(c.pos - top[2])
end

local function enter(c)
    if c.depth >= 128 then fail("body: TooDeep { max: 128 }", c.pos, c.pos) end
    c.depth = c.depth + 1
end

local function prefix(c, w, max)
    local raw, at = take(c, w)
    local n = le(raw)
    if max ~= nil and n > max then
        fail(string.format("body: LengthOverMax { len: %s, max: %s }", decimal_n(n), decimal_n(max)), at, c.pos)
    end
    return n
end

local walk

local function walk_fields(c, tree, fields)
    for _, f in ipairs(fields) do walk(c, tree, f[1], f[2]) end
end

local function label(l, v) return l .. ": " .. v end

walk = function(c, tree, lbl, d)
    local start = c.pos
    local k = d.k
    if k == "u" or k == "i" then
        local raw = take(c, d.n)
        local text = decimal(raw, k == "i")
        local value = text
        if d.n <= 4 then
            value = le(raw)
            if k == "i" and value >= 2 ^ (8 * d.n - 1) then value = value - 2 ^ (8 * d.n) end
        elseif d.n == 8 then
            value = (k == "i") and c.tvb(start, 8):le_int64() or c.tvb(start, 8):le_uint64()
        end
        item(c, tree, start, label(lbl, text), d, value)
    elseif k == "f32" or k == "f64" then
        local n = (k == "f32") and 4 or 8
        take(c, n)
        local v = (n == 4) and c.tvb(start, 4):le_float() or c.tvb(start, 8):le_float()
        local fmt = (n == 4) and "%.9g" or "%.17g"
        item(c, tree, start, label(lbl, string.format(fmt .. " (bits 0x%s)", v, hex_le(c.tvb:raw(start, n)))), d, v)
    elseif k == "bool" then
        local b = take(c, 1):byte()
        if b > 1 then fail(string.format("body: InvalidBool(%d)", b), start, c.pos) end
        item(c, tree, start, label(lbl, b == 1 and "true" or "false"), d, b == 1)
    elseif k == "char" then
        local u = le(take(c, 4))
        if (u >= 0xD800 and u <= 0xDFFF) or u > 0x10FFFF then
            fail(string.format("body: InvalidChar(%s)", decimal_n(u)), start, c.pos)
        end
        local v
        if u < 0x20 or (u >= 0x7F and u <= 0x9F) then
            v = string.format("U+%04X", u)
        else
            v = string.format("'%s' (U+%04X)", utf8_char(u), u)
        end
        item(c, tree, start, label(lbl, v), d, u)
    elseif k == "str" or k == "bytes" then
        local n = prefix(c, d.w, d.max)
        local s, at = take(c, n)
        if k == "bytes" then
            local hex = {}
            for i = 1, math.min(n, 64) do hex[i] = string.format("%02x", s:byte(i)) end
            local more = (n > 64) and "..." or ""
            item(c, tree, start, label(lbl, count(n, "byte") .. ": " .. table.concat(hex) .. more), d, s)
        else
            local bad = utf8_error(s)
            if bad ~= nil then
                fail(string.format("body: InvalidUtf8 { valid_up_to: %d }", bad), at, c.pos)
            end
            item(c, tree, start, label(lbl, quote(s)), d, s)
        end
    elseif k == "list" or k == "arr" then
        local n = d.n
        if k == "list" then
            n = prefix(c, d.w, d.max)
            local rem = c.lim - c.pos
            if n > rem then
                fail(string.format("body: UnexpectedEnd { needed: %s, remaining: %d }", decimal_n(n), rem), start, c.lim)
            end
            enter(c)
        end
        local it = open(c, tree, start, label(lbl, count(n, "item")))
        for i = 0, n - 1 do walk(c, it, "[" .. i .. "]", d.of) end
        close(c)
        if k == "list" then c.depth = c.depth - 1 end
    elseif k == "opt" then
        local t = take(c, 1):byte()
        if t == 0 then
            item(c, tree, start, label(lbl, "none"))
        elseif t == 1 then
            local it = open(c, tree, start, label(lbl, "some"))
            walk(c, it, "some", d.of)
            close(c)
        else
            fail(string.format("body: InvalidOptionTag(%d)", t), start, start + 1)
        end
    elseif k == "box" then
        enter(c)
        walk(c, tree, lbl, d.of)
        c.depth = c.depth - 1
    elseif k == "ref" then
        local t = TYPES[d.t]
        if t.k == "enum" then
            local tag = le(take(c, t.w))
            local v = t.variants[tag]
            if v == nil then
                fail(string.format('body: UnknownDiscriminant { value: %s, type_name: "%s" }', decimal_n(tag), t.name),
                    start, c.pos)
            end
            local it = open(c, tree, start, label(lbl, string.format("%s (%s)", v[1], decimal_n(tag))), d, tag)
            walk_fields(c, it, v[2])
            close(c)
        else
            local it = open(c, tree, start, label(lbl, t.name))
            walk_fields(c, it, t.fields)
            close(c)
        end
    end
end

local function add_error(t, tree, rule, from, to)
    local it = tree:add(pf.error, t(from, to - from), rule)
    it:set_text("error: " .. rule)
    it:add_proto_expert_info(ef_malformed, rule)
end

local function header(t, tree, n)
    local fields = {
        { 0, 4, pf.length }, { 4, 1, pf.version }, { 5, 1, pf.flags }, { 6, 2, pf.type_id },
        { 8, 4, pf.body_len }, { 12, 8, pf.sequence },
    }
    for _, f in ipairs(fields) do
        if f[1] + f[2] <= n then
            local it = tree:add_le(f[3], t(f[1], f[2]))
            if f[3] == pf.flags and band(t(5, 1):uint(), 1) == 1 then it:append_text(" (sealed)") end
        end
    end
end

local function pad(n) return math.floor((n + 3) / 4) * 4 end

-- The configured maximum as packet-core's FrameConfig rounds it: down to a
-- multiple of 4, at least 40.
local function max_frame()
    local max = proto.prefs.max_frame - proto.prefs.max_frame % 4
    if max < 40 then max = 40 end
    return max
end

-- A session frame of type 0xFFFF (wire-format §7.3, §11.5, §12), by its
-- body length: the version-1 hello (16: token), the hello with a
-- fingerprint (24: token, u64 LE; a zero token is a plaintext session's),
-- the refusal (8: the server's fingerprint), the close notice (4: reason
-- and detail, u16 LE each). nil for any other frame.
local function session_form(t, type_id, body_len)
    if type_id ~= 0xFFFF then return nil end
    if body_len == 16 then return "session hello (version 1)" end
    if body_len == 8 then return "refusal" end
    if body_len == 4 then return "close notice" end
    if body_len ~= 24 then return nil end
    if t:raw(20, 16) == string.rep("\0", 16) then return "plaintext session hello" end
    return "session hello"
end

local function session_body(t, tree, form, body_len)
    local body = tree:add(pf.field, t(20, body_len))
    body:set_text("body: " .. form)
    if body_len == 8 then
        body:add_le(pf.fingerprint, t(20, 8)):set_text("server fingerprint: 0x" .. hex_le(t:raw(20, 8)))
        return
    end
    if body_len == 4 then
        local reason = t(20, 2):le_uint()
        local name = CLOSE_REASONS[reason] or string.format("other(%d)", reason)
        body:add_le(pf.close_reason, t(20, 2)):set_text(string.format("reason: %d (%s)", reason, name))
        body:add_le(pf.close_detail, t(22, 2)):set_text(string.format("detail: %d", t(22, 2):le_uint()))
        return
    end
    local token = {}
    for i = 1, 16 do token[i] = string.format("%02x", t:raw(20, 16):byte(i)) end
    body:add(pf.token, t(20, 16)):set_text("token: " .. table.concat(token))
    if body_len == 24 then
        body:add_le(pf.fingerprint, t(36, 8)):set_text("fingerprint: 0x" .. hex_le(t:raw(36, 8)))
    end
end

-- One frame in `t` (exactly the bytes of one datagram, or one frame of a
-- stream): the rules of wire-format §4 in order, then the body. Returns
-- the summary.
local function dissect_frame(t, pinfo, root)
    local n = t:len()
    local tree = root:add(proto, t(0, n))
    header(t, tree, n)
    local function bad(rule, from, to)
        add_error(t, tree, "rule " .. rule, from, to)
        tree:append_text(", malformed, rule " .. rule)
        return "malformed, rule " .. rule
    end
    if n < 4 then return bad(string.format("1: Truncated { available: %d, needed: 4 }", n), 0, n) end
    local length = t(0, 4):le_uint()
    local max = max_frame()
    if length < 28 then return bad(string.format("2: LengthTooSmall { length: %s, min: 28 }", decimal_n(length)), 0, 4) end
    if length > max then
        return bad(string.format("3: LengthTooLarge { length: %s, max: %d }", decimal_n(length), max), 0, 4)
    end
    if length % 4 ~= 0 then return bad(string.format("4: Misaligned { length: %s }", decimal_n(length)), 0, 4) end
    if n < length then
        return bad(string.format("5: Truncated { available: %d, needed: %s }", n, decimal_n(length)), 0, n)
    end
    if n > length then
        return bad(string.format("6: TrailingBytes { length: %s, extra: %d }", decimal_n(length), n - length), length, n)
    end
    local version = t(4, 1):uint()
    if version ~= 1 then return bad(string.format("7: BadVersion { found: %d, expected: 1 }", version), 4, 5) end
    local flags = t(5, 1):uint()
    if band(flags, 0xFE) ~= 0 then return bad(string.format("8: ReservedFlags { flags: %d }", flags), 5, 6) end
    local type_id = t(6, 2):le_uint()
    local body_len = t(8, 4):le_uint()
    local sequence = decimal(t:raw(12, 8), false)
    local sealed = flags == 1
    local check = sealed and 16 or 4
    if sealed and length < 40 then
        return bad(string.format("10: LengthTooSmall { length: %s, min: 40 }", decimal_n(length)), 0, 4)
    end
    local room = length - 20 - check - 4
    if body_len > room or pad(body_len) ~= room then
        return bad(string.format("10: BodyLengthMismatch { body_len: %s, length: %s }", decimal_n(body_len),
            decimal_n(length)), 8, 12)
    end
    if t:raw(n - 4, 4) ~= "PK\r\n" then
        local e = { t:raw(n - 4, 4):byte(1, 4) }
        return bad(string.format("11: BadEnding { found: [%d, %d, %d, %d] }", e[1], e[2], e[3], e[4]), n - 4, n)
    end
    local p = pad(body_len)
    if sealed then
        local summary = string.format("sealed (type 0x%04x), sequence %s, %d bytes", type_id, sequence, n)
        tree:add(pf.field, t(20, p)):set_text(string.format("ciphertext: %d bytes (sealed)", p))
        tree:add(pf.field, t(20 + p, 16)):set_text("tag: 16 bytes (Poly1305, not verified)")
        tree:add(pf.field, t(36 + p, 4)):set_text("ending: PK\\r\\n")
        tree:append_text(", " .. summary)
        return summary
    end
    local stored = t(20 + p, 4):le_uint()
    local computed = crc32(t:raw(0, 20 + p))
    if stored ~= computed then
        return bad(string.format("12: CrcMismatch { expected: %s, computed: %s }", decimal_n(stored), decimal_n(computed)),
            20 + p, 24 + p)
    end
    for i = 20 + body_len, 20 + p - 1 do
        local v = t(i, 1):uint()
        if v ~= 0 then return bad(string.format("13: NonZeroPadding { offset: %d, value: %d }", i, v), i, i + 1) end
    end
    local ty = PACKETS[type_id]
    local session = (ty == nil) and session_form(t, type_id, body_len) or nil
    local name = ty and TYPES[ty].full or session or "unknown packet"
    local summary = string.format("%s (type 0x%04x), sequence %s, %d bytes", name, type_id, sequence, n)
    local problem
    if session ~= nil then
        session_body(t, tree, session, body_len)
    elseif ty == nil then
        tree:add(pf.field, t(20, body_len)):set_text("body: " .. count(body_len, "byte") .. ", type id not in the schema")
    else
        local body = tree:add(pf.packet, t(20, body_len), name)
        body:set_text("body: " .. name)
        local c = { tvb = t, pos = 20, lim = 20 + body_len, depth = 0, open = {} }
        local ok, err = pcall(walk_fields, c, body, TYPES[ty].fields)
        if not ok then
            if getmetatable(err) ~= Fail then error(err, 0) end
            for i = #c.open, 1, -1 do c.open[i][1]:set_len(c.pos - c.open[i][2]) end
            problem = err
        elseif c.pos < c.lim then
            problem = { rule = string.format("body: TrailingBytes { extra: %d }", c.lim - c.pos), from = c.pos, to = c.lim }
        end
    end
    if p > body_len then
        tree:add(pf.field, t(20 + body_len, p - body_len)):set_text("padding: " .. count(p - body_len, "byte"))
    end
    tree:add(pf.field, t(20 + p, 4)):set_text(string.format("check: 0x%08x (correct)", stored))
    tree:add(pf.field, t(24 + p, 4)):set_text("ending: PK\\r\\n")
    if problem then
        add_error(t, tree, problem.rule, problem.from, problem.to)
        summary = summary .. ", malformed body, " .. problem.rule
    end
    tree:append_text(", " .. summary)
    return summary
end

local function set_info(pinfo, summary)
    pinfo.cols.protocol = "packet"
    local info = tostring(pinfo.cols.info)
    if info:sub(1, 8) == "packet: " then
        pinfo.cols.info:append(" | " .. summary)
    else
        pinfo.cols.info = "packet: " .. summary
    end
end

local function frame_len(tvb, pinfo, offset)
    local length = tvb(offset, 4):le_uint()
    if length < 28 or length > max_frame() or length % 4 ~= 0 then
        return tvb:len() - offset -- malformed: the rest of the segment, reported by dissect_frame
    end
    return length
end

local function dissect_pdu(tvb, pinfo, tree)
    set_info(pinfo, dissect_frame(tvb, pinfo, tree))
    return tvb:len()
end

function proto.dissector(tvb, pinfo, tree)
    if f_udp() then
        set_info(pinfo, dissect_frame(tvb, pinfo, tree))
        return tvb:len()
    end
    -- Frames back to back; one that continues past this segment asks TCP
    -- for the rest (reassembly). Done by hand rather than with
    -- dissect_tcp_pdus, which does not reassemble when called from the
    -- heuristic.
    local off, n = 0, tvb:len()
    while off < n do
        if n - off < 4 then
            pinfo.desegment_offset = off
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            return n
        end
        local len = frame_len(tvb, pinfo, off)
        if n - off < len then
            pinfo.desegment_offset = off
            pinfo.desegment_len = len - (n - off)
            return n
        end
        dissect_pdu(tvb(off, len):tvb(), pinfo, tree)
        off = off + len
    end
    return n
end

-- The heuristic: a plausible header (a length >= 28, a multiple of 4
-- within the maximum, version 1, no reserved flag, a body length that
-- fits the length) and `PK\r\n` where the length says the frame ends. A
-- datagram must be exactly one frame; on TCP a frame longer than the
-- segment is taken on its header alone.
local function plausible(tvb, datagram)
    local n = tvb:len()
    if n < 12 then return false end
    local length = tvb(0, 4):le_uint()
    if length < 28 or length % 4 ~= 0 or length > max_frame() then return false end
    if tvb(4, 1):uint() ~= 1 then return false end
    local flags = tvb(5, 1):uint()
    if band(flags, 0xFE) ~= 0 then return false end
    local room = length - ((flags == 1) and 40 or 28)
    local body_len = tvb(8, 4):le_uint()
    if room < 0 or body_len > room or pad(body_len) ~= room then return false end
    if datagram and n ~= length then return false end
    if n < length then return true end
    return tvb:raw(length - 4, 4) == "PK\r\n"
end

local function heur_tcp(tvb, pinfo, tree)
    if not plausible(tvb, false) then return false end
    pinfo.conversation = proto
    proto.dissector(tvb, pinfo, tree)
    return true
end

local function heur_udp(tvb, pinfo, tree)
    if not plausible(tvb, true) then return false end
    proto.dissector(tvb, pinfo, tree)
    return true
end

proto:register_heuristic("tcp", heur_tcp)
proto:register_heuristic("udp", heur_udp)

local registered = 0
local function register_port()
    local tcp, udp = DissectorTable.get("tcp.port"), DissectorTable.get("udp.port")
    if registered ~= 0 then
        tcp:remove(registered, proto)
        udp:remove(registered, proto)
    end
    registered = proto.prefs.port
    if registered ~= 0 then
        tcp:add(registered, proto)
        udp:add(registered, proto)
    end
end
proto.prefs_changed = register_port
register_port()
