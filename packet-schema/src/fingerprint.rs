//! The protocol fingerprint from a schema alone (wire format §11): each
//! packet's canonical layout description, and the FNV-1a 64 hash over the
//! packets sorted by type id. `#[derive(PacketSet)]` computes the same
//! number at compile time (`packet_core::layout::Fingerprint`); the
//! schema-demo tests prove the two equal.
//!
//! What does not live here: checks (the schema is already valid), and the
//! hello that carries the fingerprint (the networking layer).

use crate::ast::{self, LenWidth, Prim, Type, TypeKind, VariantKind};
use crate::validate::{DefKind, Schema, TypeId, variant_tags};

/// `PKFP` and the description's version, the first bytes hashed.
const MAGIC: &[u8] = b"PKFP\x01";

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

impl Schema {
    /// Every packet's `(type id, canonical layout bytes)`, sorted by id
    /// (wire format §11).
    pub fn packet_layouts(&self) -> Vec<(u16, Vec<u8>)> {
        let mut out: Vec<(u16, Vec<u8>)> = self
            .types
            .iter()
            .enumerate()
            .filter_map(|(t, def)| {
                let id = def.packet_id()?;
                let mut bytes = Vec::new();
                Walker { schema: self }.def(t, &mut bytes, &mut Vec::new());
                Some((id, bytes))
            })
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// The protocol fingerprint of every packet of the schema (wire format
    /// §11): equal to `<Set as Fingerprint>::FINGERPRINT` of a
    /// `#[derive(PacketSet)]` over the generated packets.
    pub fn fingerprint(&self) -> u64 {
        fingerprint_of(&self.packet_layouts())
    }
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

struct Walker<'s> {
    schema: &'s Schema,
}

impl Walker<'_> {
    /// A named type: a back-reference if it is being expanded, else its
    /// struct or enum node. `open` holds the named types being expanded.
    fn def(&self, t: TypeId, out: &mut Vec<u8>, open: &mut Vec<TypeId>) {
        if let Some(i) = open.iter().rev().position(|o| *o == t) {
            out.push(0x16);
            out.extend_from_slice(&(i as u32).to_le_bytes());
            return;
        }
        open.push(t);
        match &self.schema.types[t].kind {
            DefKind::Packet(p) => self.fields(p.body.fields.iter().map(|f| &f.ty), out, open),
            DefKind::Struct(s) => self.fields(s.body.fields.iter().map(|f| &f.ty), out, open),
            DefKind::Enum(e) => self.enumeration(e, out, open),
        }
        open.pop();
    }

    fn fields<'t>(
        &self,
        tys: impl ExactSizeIterator<Item = &'t Type>,
        out: &mut Vec<u8>,
        open: &mut Vec<TypeId>,
    ) {
        out.push(0x14);
        out.extend_from_slice(&(tys.len() as u32).to_le_bytes());
        for ty in tys {
            self.ty(ty, out, open);
        }
    }

    fn enumeration(&self, e: &ast::Enum, out: &mut Vec<u8>, open: &mut Vec<TypeId>) {
        let repr = e.repr.as_ref().map_or(Prim::U8, |p| p.value);
        out.push(0x15);
        out.push(prim_code(repr));
        out.extend_from_slice(&(e.variants.len() as u32).to_le_bytes());
        // Tags as u32 (a negative one sign-extended), ascending.
        let mut variants: Vec<(u32, &ast::Variant)> = variant_tags(e)
            .map(|(v, tag)| (tag as i64 as u32, v))
            .collect();
        variants.sort_by_key(|(tag, _)| *tag);
        for (tag, v) in variants {
            out.extend_from_slice(&tag.to_le_bytes());
            let tys: Vec<&Type> = match &v.kind {
                VariantKind::Unit => Vec::new(),
                VariantKind::Tuple(tys) => tys.iter().collect(),
                VariantKind::Struct(f) => f.fields.iter().map(|f| &f.ty).collect(),
            };
            out.extend_from_slice(&(tys.len() as u32).to_le_bytes());
            for ty in tys {
                self.ty(ty, out, open);
            }
        }
    }

    fn ty(&self, ty: &Type, out: &mut Vec<u8>, open: &mut Vec<TypeId>) {
        let prefix = |code: u8, o: &ast::SeqOpts, out: &mut Vec<u8>| {
            let width = o.len.as_ref().map_or(LenWidth::U16, |l| l.value);
            let max = o
                .max
                .as_ref()
                .map_or(width.max(), |m| (m.value.max(0) as u64).min(width.max()));
            out.push(code);
            out.push(width.size() as u8);
            out.extend_from_slice(&(max as u32).to_le_bytes());
        };
        match &ty.kind {
            TypeKind::Prim(p) => out.push(prim_code(*p)),
            TypeKind::String(o) => prefix(0x10, o, out),
            TypeKind::Bytes(o) => {
                prefix(0x11, o, out);
                out.push(prim_code(Prim::U8));
            }
            TypeKind::List(inner, o) => {
                prefix(0x11, o, out);
                self.ty(inner, out, open);
            }
            TypeKind::Array(inner, n) => {
                out.push(0x12);
                out.extend_from_slice(&(n.value as u32).to_le_bytes());
                self.ty(inner, out, open);
            }
            TypeKind::Option(inner) => {
                out.push(0x13);
                self.ty(inner, out, open);
            }
            TypeKind::Box(inner) => self.ty(inner, out, open),
            TypeKind::Named(path) => {
                let t = self.schema.resolve(path).expect("a checked schema");
                self.def(t, out, open);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layouts(src: &str) -> Vec<(u16, Vec<u8>)> {
        let c = crate::compile_str("t.packet", src, &crate::Options::default());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.schema.packet_layouts()
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

    #[test]
    fn fnv1a_64_known_values() {
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x85944171f73967e8);
    }
}
