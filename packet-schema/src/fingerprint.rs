//! The protocol fingerprint from a schema alone (wire format §11): each
//! packet's canonical layout description, and the FNV-1a 64 hash over the
//! packets sorted by type id. `#[derive(PacketSet)]` computes the same
//! number at compile time (`packet_core::layout::Fingerprint`); the
//! schema-demo tests prove the two equal.
//!
//! The walk over the layouts is iterative and bounded by the limits of
//! wire format §11.6, the derive's: no field inside more than
//! [`MAX_NESTING`] structs and enums (the packet counted), and at most
//! [`MAX_DESCRIPTION_LEN`] bytes of description for all the packets
//! together, counted as they are written, so a type used several times in
//! several levels (a "diamond", whose description doubles at each level)
//! stops the walk instead of exhausting memory or time. Validation reports
//! a schema over either limit (E0116, E0117) through `check_packets`, so
//! a schema without errors always has a fingerprint.
//!
//! What does not live here: the other checks, and the hello that carries
//! the fingerprint (the networking layer).

use std::fmt;

use crate::ast::{self, LenWidth, Prim, Type, TypeKind, VariantKind};
use crate::validate::{DefKind, Schema, TypeId, variant_tags};

/// `PKFP` and the description's version, the first bytes hashed.
const MAGIC: &[u8] = b"PKFP\x01";

/// The most structs and enums, the packet counted, that a field of a
/// packet may lie inside (wire format §11.6; the derive's
/// `packet_core::layout::MAX_NESTING`): the 17th type of a chain may only
/// be one without fields, such as a C-like enum.
pub const MAX_NESTING: usize = 16;

/// The longest canonical description of a schema's packets, in bytes,
/// from the magic to the last packet's layout (wire format §11.6; the
/// derive's `packet_core::layout::MAX_DESCRIPTION_LEN`).
pub const MAX_DESCRIPTION_LEN: usize = 128 * 1024;

/// FNV-1a 64 over `bytes`, continuing from `h` (start from
/// [`FNV_OFFSET`]).
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// FNV-1a 64's offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Why a schema's packets have no fingerprint (wire format §11.6).
/// Validation reports each as a diagnostic, so only a schema with errors
/// gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintError {
    /// The packet the problem is in.
    pub packet: TypeId,
    /// Its name with its modules (`chat.Say`).
    pub packet_name: String,
    /// What is wrong.
    pub problem: Problem,
}

/// What keeps a packet's layout from being described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A field of the packet lies inside more than [`MAX_NESTING`] structs
    /// and enums (E0116).
    TooDeep {
        /// The types open at that field: the packet first, then each
        /// nested struct or enum, the one whose fields are too deep last
        /// ([`MAX_NESTING`] + 1 of them).
        chain: Vec<TypeId>,
    },
    /// The description grows past [`MAX_DESCRIPTION_LEN`] bytes within
    /// this packet's layout, the packets being described by ascending id
    /// (E0117).
    TooLong {
        /// The bytes of description before this packet's layout.
        before: usize,
        /// The packets described, this one included.
        packets: usize,
        /// The bytes described when the limit was reached: `before` and
        /// this packet's layout up to there.
        described: usize,
        /// Of the bytes described (this packet's up to the limit
        /// included), those of the structs and enums the packets hold,
        /// described again at every use (wire format §11.2); the rest is
        /// the packets' own: the magic and count, each packet's id, node
        /// and fields.
        nested: usize,
        /// The packets with the longest layouts (this one's up to the
        /// limit), longest first, at most three: the packet and its
        /// layout's bytes.
        largest: Vec<(TypeId, usize)>,
    },
    /// A type path does not resolve: the schema has errors.
    Unresolved,
}

impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.packet_name;
        match &self.problem {
            Problem::TooDeep { chain } => write!(
                f,
                "packet `{name}` has no protocol fingerprint: a field lies inside {} structs and enums, more than {MAX_NESTING} (wire format §11.6)",
                chain.len()
            ),
            Problem::TooLong { .. } => write!(
                f,
                "packet `{name}` has no protocol fingerprint: the packets' canonical description passes {MAX_DESCRIPTION_LEN} bytes in its layout (wire format §11.6)"
            ),
            Problem::Unresolved => write!(
                f,
                "packet `{name}` has no protocol fingerprint: it names a type that does not resolve (the schema has errors)"
            ),
        }
    }
}

impl std::error::Error for FingerprintError {}

impl Schema {
    /// Every packet's `(type id, canonical layout bytes)`, sorted by id
    /// (wire format §11), or the first reason there is none (only for a
    /// schema with errors: validation reports each).
    pub fn packet_layouts(&self) -> Result<Vec<(u16, Vec<u8>)>, FingerprintError> {
        let (layouts, mut errors) = check_packets(self);
        if errors.is_empty() {
            Ok(layouts)
        } else {
            Err(errors.swap_remove(0))
        }
    }

    /// The protocol fingerprint of every packet of the schema (wire format
    /// §11): equal to `<Set as Fingerprint>::FINGERPRINT` of a
    /// `#[derive(PacketSet)]` over the generated packets. A schema without
    /// packets has one too (the hash of the magic and a count of 0, as
    /// §11.2 defines it), which no derived set can have, as the derive
    /// refuses an empty set: `packet-schema fingerprint` refuses to print
    /// it.
    pub fn fingerprint(&self) -> Result<u64, FingerprintError> {
        Ok(fingerprint_of(&self.packet_layouts()?))
    }
}

/// Every packet's layout by ascending id, and every reason a packet has
/// none: each packet too deep ([`Problem::TooDeep`], its walk stopped
/// there), and the packet in which the description passes
/// [`MAX_DESCRIPTION_LEN`] (then the walk stops altogether; not reported
/// after a packet too deep, whose partial walk may be what filled it). The
/// work is bounded by the limit: partial walks count towards it too.
pub(crate) fn check_packets(schema: &Schema) -> (Vec<(u16, Vec<u8>)>, Vec<FingerprintError>) {
    let mut packets: Vec<(u16, TypeId)> = schema
        .types
        .iter()
        .enumerate()
        .filter_map(|(t, def)| Some((def.packet_id()?, t)))
        .collect();
    packets.sort_by_key(|(id, _)| *id);
    let (mut layouts, mut errors) = (Vec::new(), Vec::new());
    // The magic and the packet count.
    let mut used = MAGIC.len() + 4;
    // For E0117's explanation: how much of it is nested types, and which
    // packets are the longest.
    let mut nested = 0;
    let mut sizes: Vec<(TypeId, usize)> = Vec::new();
    for (id, packet) in packets {
        used += 2;
        let mut w = Walker {
            schema,
            out: Vec::new(),
            room: MAX_DESCRIPTION_LEN.saturating_sub(used),
            open: Vec::new(),
            todo: Vec::new(),
            nested: 0,
        };
        let result = w.packet(packet);
        let before = used;
        used += w.out.len();
        nested += w.nested;
        sizes.push((packet, w.out.len()));
        let problem = match result {
            Ok(()) => {
                layouts.push((id, w.out));
                continue;
            }
            Err(Stop::TooDeep(chain)) => Problem::TooDeep { chain },
            Err(Stop::Unresolved) => Problem::Unresolved,
            Err(Stop::TooLong) => {
                let packets = sizes.len();
                let described = before + w.out.len();
                sizes.sort_by_key(|&(t, len)| (std::cmp::Reverse(len), t));
                sizes.truncate(3);
                Problem::TooLong {
                    before,
                    packets,
                    described,
                    nested,
                    largest: std::mem::take(&mut sizes),
                }
            }
        };
        let last = matches!(problem, Problem::TooLong { .. });
        let deep = |e: &FingerprintError| matches!(e.problem, Problem::TooDeep { .. });
        if last && errors.iter().any(deep) {
            break;
        }
        errors.push(FingerprintError {
            packet,
            packet_name: schema.types[packet].full_name(),
            problem,
        });
        if last {
            break;
        }
    }
    (layouts, errors)
}

/// The fingerprint of `(type id, layout bytes)` pairs sorted by id.
pub fn fingerprint_of(sorted: &[(u16, Vec<u8>)]) -> u64 {
    let mut h = fnv1a(FNV_OFFSET, MAGIC);
    h = fnv1a(h, &(sorted.len() as u32).to_le_bytes());
    for (id, bytes) in sorted {
        h = fnv1a(h, &id.to_le_bytes());
        h = fnv1a(h, bytes);
    }
    h
}

fn prim_code(p: Prim) -> u8 {
    match p {
        Prim::U8 => 0x01,
        Prim::U16 => 0x02,
        Prim::U32 => 0x03,
        Prim::U64 => 0x04,
        Prim::U128 => 0x05,
        Prim::I8 => 0x06,
        Prim::I16 => 0x07,
        Prim::I32 => 0x08,
        Prim::I64 => 0x09,
        Prim::I128 => 0x0A,
        Prim::F32 => 0x0B,
        Prim::F64 => 0x0C,
        Prim::Bool => 0x0D,
        Prim::Char => 0x0E,
    }
}

/// Why a walk stopped.
enum Stop {
    TooDeep(Vec<TypeId>),
    TooLong,
    Unresolved,
}

/// What is left to write, innermost last.
enum Step<'s> {
    /// A field's or an item's type.
    Ty(&'s Type),
    /// A variant's tag and field count (8 bytes).
    Variant(u32, u32),
    /// The end of the innermost named type: it is no longer open.
    Close,
}

/// One packet's layout, written iteratively (no recursion, whatever the
/// nesting) and at most `room` bytes long.
struct Walker<'s> {
    schema: &'s Schema,
    out: Vec<u8>,
    room: usize,
    /// The named types being expanded, innermost last.
    open: Vec<TypeId>,
    todo: Vec<Step<'s>>,
    /// Bytes written inside a struct or enum the packet holds.
    nested: usize,
}

impl<'s> Walker<'s> {
    fn packet(&mut self, t: TypeId) -> Result<(), Stop> {
        self.def(t)?;
        while let Some(step) = self.todo.pop() {
            match step {
                Step::Ty(ty) => self.ty(ty)?,
                Step::Variant(tag, n) => {
                    self.put(&tag.to_le_bytes())?;
                    self.put(&n.to_le_bytes())?;
                }
                Step::Close => {
                    self.open.pop();
                }
            }
        }
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        if self.out.len() + bytes.len() > self.room {
            return Err(Stop::TooLong);
        }
        self.out.extend_from_slice(bytes);
        if self.open.len() > 1 {
            self.nested += bytes.len();
        }
        Ok(())
    }

    fn put_u32(&mut self, code: u8, v: u32) -> Result<(), Stop> {
        self.put(&[code])?;
        self.put(&v.to_le_bytes())
    }

    /// A named type: a back-reference if it is being expanded, else its
    /// struct or enum node, whose fields are queued.
    fn def(&mut self, t: TypeId) -> Result<(), Stop> {
        if let Some(i) = self.open.iter().rev().position(|o| *o == t) {
            return self.put_u32(0x16, i as u32);
        }
        let schema: &'s Schema = self.schema;
        let kind = &schema.types[t].kind;
        // A type entered with MAX_NESTING open may have no fields: theirs
        // would lie inside one type too many (the derive's level 0).
        if self.open.len() >= MAX_NESTING && has_fields(kind) {
            let mut chain = self.open.clone();
            chain.push(t);
            return Err(Stop::TooDeep(chain));
        }
        self.open.push(t);
        self.todo.push(Step::Close);
        match kind {
            DefKind::Packet(p) => self.fields(&p.body.fields)?,
            DefKind::Struct(s) => self.fields(&s.body.fields)?,
            DefKind::Enum(e) => self.enumeration(e)?,
        }
        Ok(())
    }

    fn fields(&mut self, fields: &'s [ast::Field]) -> Result<(), Stop> {
        self.put_u32(0x14, fields.len() as u32)?;
        self.todo
            .extend(fields.iter().rev().map(|f| Step::Ty(&f.ty)));
        Ok(())
    }

    fn enumeration(&mut self, e: &'s ast::Enum) -> Result<(), Stop> {
        let repr = e.repr.as_ref().map_or(Prim::U8, |p| p.value);
        self.put(&[0x15, prim_code(repr)])?;
        self.put(&(e.variants.len() as u32).to_le_bytes())?;
        // Tags as u32 (a negative one sign-extended), ascending.
        let mut variants: Vec<(u32, &'s ast::Variant)> = variant_tags(e)
            .map(|(v, tag)| (tag as i64 as u32, v))
            .collect();
        variants.sort_by_key(|(tag, _)| *tag);
        // Queued last variant first, so the first comes out first.
        for (tag, v) in variants.into_iter().rev() {
            let tys: Vec<&'s Type> = match &v.kind {
                VariantKind::Unit => Vec::new(),
                VariantKind::Tuple(tys) => tys.iter().collect(),
                VariantKind::Struct(f) => f.fields.iter().map(|f| &f.ty).collect(),
            };
            self.todo.extend(tys.iter().rev().copied().map(Step::Ty));
            self.todo.push(Step::Variant(tag, tys.len() as u32));
        }
        Ok(())
    }

    fn ty(&mut self, ty: &'s Type) -> Result<(), Stop> {
        let prefix = |w: &mut Self, code: u8, o: &ast::SeqOpts| {
            let width = o.len.as_ref().map_or(LenWidth::U16, |l| l.value);
            let max = o
                .max
                .as_ref()
                .map_or(width.max(), |m| (m.value.max(0) as u64).min(width.max()));
            w.put(&[code, width.size() as u8])?;
            w.put(&(max as u32).to_le_bytes())
        };
        match &ty.kind {
            TypeKind::Prim(p) => self.put(&[prim_code(*p)]),
            TypeKind::String(o) => prefix(self, 0x10, o),
            TypeKind::Bytes(o) => {
                prefix(self, 0x11, o)?;
                self.put(&[prim_code(Prim::U8)])
            }
            TypeKind::List(inner, o) => {
                prefix(self, 0x11, o)?;
                self.todo.push(Step::Ty(inner));
                Ok(())
            }
            TypeKind::Array(inner, n) => {
                self.put_u32(0x12, n.value as u32)?;
                self.todo.push(Step::Ty(inner));
                Ok(())
            }
            TypeKind::Option(inner) => {
                self.put(&[0x13])?;
                self.todo.push(Step::Ty(inner));
                Ok(())
            }
            TypeKind::Box(inner) => {
                self.todo.push(Step::Ty(inner));
                Ok(())
            }
            TypeKind::Named(path) => {
                let t = self.schema.resolve(path).ok_or(Stop::Unresolved)?;
                self.def(t)
            }
        }
    }
}

/// Whether a type's node has fields on the wire: a struct's or packet's,
/// or any variant's.
fn has_fields(kind: &DefKind) -> bool {
    match kind {
        DefKind::Packet(p) => !p.body.fields.is_empty(),
        DefKind::Struct(s) => !s.body.fields.is_empty(),
        DefKind::Enum(e) => e.variants.iter().any(|v| match &v.kind {
            VariantKind::Unit => false,
            VariantKind::Tuple(tys) => !tys.is_empty(),
            VariantKind::Struct(f) => !f.fields.is_empty(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layouts(src: &str) -> Vec<(u16, Vec<u8>)> {
        let c = crate::compile_str("t.packet", src, &crate::Options::default());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.schema.packet_layouts().unwrap()
    }

    #[test]
    fn names_do_not_count_and_recursion_is_a_back_reference() {
        let a =
            layouts("struct Tree { v: u8, kids: list<Tree>(len = u8) }\npacket P = 1 { t: Tree }");
        let b =
            layouts("struct Node { x: u8, sub: list<Node>(len = u8) }\npacket Q = 1 { n: Node }");
        assert_eq!(a, b);
        assert_eq!(
            a[0].1,
            [
                0x14, 1, 0, 0, 0, // P: one field
                0x14, 2, 0, 0, 0, 0x01, // Tree: two fields, u8
                0x11, 1, 0xff, 0, 0, 0, // list, u8 prefix, max 255
                0x16, 0, 0, 0, 0, // back to Tree
            ]
        );
    }

    fn codes(src: &str) -> Vec<&'static str> {
        let c = crate::compile_str("t.packet", src, &crate::Options::default());
        c.diagnostics.iter().map(|d| d.code).collect()
    }

    /// The chain `P → S1 → … → S15 → last`: `last` is the 17th type.
    fn chain(last: &str) -> String {
        let mut text = String::from("packet P = 1 { a: S1 }\n");
        for i in 1..15 {
            text.push_str(&format!("struct S{i} {{ a: S{} }}\n", i + 1));
        }
        text + "struct S15 { a: Last }\n" + last
    }

    #[test]
    fn the_nesting_limit_counts_fields_inside_named_types() {
        // The 17th type may be expanded only without fields.
        assert_eq!(codes(&chain("enum Last { A, B }")), [""; 0]);
        assert_eq!(codes(&chain("struct Last {}")), [""; 0]);
        assert_eq!(codes(&chain("struct Last { x: u8 }")), ["E0116"]);
        assert_eq!(
            codes(&chain("enum Last { A, B(string(max = 4)) }")),
            ["E0116"]
        );
        // Containers do not count, named types do.
        assert_eq!(
            codes(&chain("struct Last { x: list<u8>(max = 2) }")),
            ["E0116"]
        );
        assert_eq!(
            codes(&chain("enum Last { A, B }").replacen("a: S1", "a: option<box<[S1; 2]>>", 1)),
            [""; 0]
        );
        // A back-reference is not expanded, so it may be that deep.
        let back = chain("struct Last { up: list<S1>(max = 2) }");
        assert_eq!(codes(&back), ["E0116"], "Last has a field");
        let back = chain("enum Last { A, B }").replace(
            "struct S15 { a: Last }",
            "struct S15 { a: Last, up: list<S1>(max = 2) }",
        );
        assert_eq!(codes(&back), [""; 0]);
        // Every packet too deep is reported.
        let two = chain("struct Last { x: u8 }") + "packet Q = 2 { s: S1 }\n";
        assert_eq!(codes(&two), ["E0116", "E0116"]);
    }

    #[test]
    fn the_description_limit_is_for_the_whole_set() {
        // One struct of 8,000 `u64`s (8,005 bytes) in each of 16 packets:
        // 16 × (2 + 5 + 8,005) + 9 = 128,201 bytes, under the limit; a
        // 17th packet passes it, and it is the one named.
        let fields: Vec<String> = (0..8000).map(|i| format!("f{i}: u64")).collect();
        let big = format!("struct Big {{ {} }}\n", fields.join(", "));
        let packets = |n: u16| -> String {
            (1..=n)
                .map(|i| format!("packet P{i} = {i} {{ b: option<Big> }}\n"))
                .collect()
        };
        let src = big.clone() + &packets(16);
        let c = crate::compile_str("t.packet", &src, &crate::Options::default());
        let layouts = c.schema.packet_layouts().unwrap();
        let total: usize = 9 + layouts.iter().map(|(_, l)| 2 + l.len()).sum::<usize>();
        assert!(total <= MAX_DESCRIPTION_LEN && total > 120_000, "{total}");
        let src = big + &packets(17);
        let c = crate::compile_str("t.packet", &src, &crate::Options::default());
        let e = c.schema.packet_layouts().unwrap_err();
        assert_eq!(e.packet_name, "P17");
        assert!(matches!(e.problem, Problem::TooLong { before, .. } if before == total + 2));
        let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"E0117"), "{codes:?}");
    }

    #[test]
    fn fnv1a_64_known_values() {
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x85944171f73967e8);
    }
}
