//! The protocol fingerprint (wire-format §11): every type's wire layout as
//! `const` data, and the 64-bit FNV-1a hash of a packet set's canonical
//! layout description, computed at compile time.
//!
//! What lives here: [`Layout`] (the description of one type's wire form:
//! primitive kinds, length-prefix widths and bounds, array lengths, option
//! and enum tags, nested types), the [`WireLayout`] trait that every
//! built-in codec type implements here and `#[derive(Packet)]` implements
//! for derived types, [`Fingerprint`] (implemented by
//! `#[derive(PacketSet)]`), the `const fn`s that serialize and hash, and
//! [`ProtocolMismatch`], the error of a session refused for a different
//! fingerprint.
//! What does not: the codec itself ([`crate::codec`]) and the session
//! hello that carries the fingerprint (the networking layer).
//!
//! ```
//! # #[cfg(feature = "derive")] {
//! use packet_core::layout::Fingerprint;
//! use packet_core::{Packet, PacketSet};
//!
//! #[derive(Packet)]
//! #[packet(id = 1)]
//! struct Ping { at: u64 }
//!
//! #[derive(PacketSet)]
//! enum Msg { Ping(Ping) }
//!
//! // A compile-time constant; client and server compare it at the hello.
//! const FP: u64 = <Msg as Fingerprint>::FINGERPRINT;
//! assert_eq!(FP, packet_core::layout::fingerprint(&[(1, &[0x14, 1, 0, 0, 0, 0x04])]));
//! # }
//! ```
//!
//! # Recursive types, on stable Rust
//!
//! A `const` may not depend on itself, so a type's layout cannot simply
//! name its fields' layouts when a field leads back to the type. Each
//! derived type's layout is therefore defined per *level* `L`: a derived
//! type at level `n` names its fields' layouts at level `n − 1`, and at
//! level 0 a [`Layout::Cut`]. The packet starts at [`Top`] (16 levels), so
//! the constants form a finite graph with no cycle, and the walk that
//! hashes it stops at the first type already being expanded (a
//! back-reference, §11), long before any cut. Only a chain of more than 16
//! distinct nested structs and enums reaches a cut; the walk then fails to
//! compile with a message saying so.

use crate::view::View;

#[cfg(feature = "alloc")]
use alloc::{boxed::Box, string::String, vec::Vec};

/// A primitive wire kind and its code in the canonical description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Prim {
    U8 = 0x01,
    U16 = 0x02,
    U32 = 0x03,
    U64 = 0x04,
    U128 = 0x05,
    I8 = 0x06,
    I16 = 0x07,
    I32 = 0x08,
    I64 = 0x09,
    I128 = 0x0A,
    F32 = 0x0B,
    F64 = 0x0C,
    Bool = 0x0D,
    Char = 0x0E,
}

/// One variant of a data or C-like enum: its tag (the tag value as a
/// `u32`, signed tags sign-extended) and its fields.
#[derive(Debug)]
pub struct Variant {
    /// The tag on the wire.
    pub tag: u32,
    /// The variant's fields in order.
    pub fields: &'static [&'static Layout],
}

/// The wire form of one type, as §11 of the wire format describes it.
#[derive(Debug)]
pub enum Layout {
    /// A fixed-width primitive.
    Prim(Prim),
    /// A UTF-8 string behind a length prefix of `width` bytes, at most
    /// `max` bytes (the smaller of the field's `max_len` and the prefix's).
    Str {
        /// The prefix's width in bytes: 1, 2 or 4.
        width: u8,
        /// The largest accepted length.
        max: u32,
    },
    /// A sequence (byte strings included) behind a count prefix.
    List {
        /// The prefix's width in bytes: 1, 2 or 4.
        width: u8,
        /// The largest accepted count.
        max: u32,
        /// The element.
        item: &'static Layout,
    },
    /// `[T; N]`: N elements, no prefix.
    Array {
        /// N.
        len: u32,
        /// The element.
        item: &'static Layout,
    },
    /// A tag byte 0 / 1, then the value when 1.
    Option(&'static Layout),
    /// A struct or tuple: the fields in order. `key` identifies a named
    /// type for back-references (0 for tuples, which never recur).
    Struct {
        /// The type's identity (not hashed; see [`type_key`]).
        key: u64,
        /// The fields in order.
        fields: &'static [&'static Layout],
    },
    /// An enum: a tag of kind `tag`, then the fields of the variant named.
    Enum {
        /// The type's identity (not hashed).
        key: u64,
        /// The tag's integer kind.
        tag: Prim,
        /// The variants, in any order (hashed by ascending tag).
        variants: &'static [Variant],
    },
    /// `n` bytes written as a zerocopy type's memory ([`View`]).
    Raw(u32),
    /// A field with a custom codec (`#[packet(with = ...)]`): its layout
    /// is unknown, and only its presence is hashed.
    Opaque,
    /// Where the level budget ran out (see the module docs); never hashed.
    Cut,
}

/// A type whose wire layout is known at compile time, at nesting level
/// `L` (see the module docs; use it as `WireLayout<Top>` or through
/// [`Fingerprint`]). Implemented here for every built-in codec type and by
/// `#[derive(Packet)]`.
pub trait WireLayout<L: Level = Top> {
    /// The layout.
    const LAYOUT: &'static Layout;
}

/// A nesting level: how many more named types a layout may enter.
pub trait Level {
    /// What the fields of a named type entered at this level use:
    /// [`Deep`] of the level below, or [`Cut`] at level 0.
    type Next;
}

/// Picks a field type's layout one level down (or a cut). Derived code
/// names `<<L as Level>::Next as Pick<Field>>::LAYOUT`.
pub trait Pick<T: ?Sized> {
    /// The field's layout.
    const LAYOUT: &'static Layout;
}

/// The selector of the level below `D`.
pub struct Deep<D>(core::marker::PhantomData<D>);

/// The selector at level 0: every field is a [`Layout::Cut`].
pub struct Cut;

impl<D: Level, T: ?Sized + WireLayout<D>> Pick<T> for Deep<D> {
    const LAYOUT: &'static Layout = T::LAYOUT;
}

impl<T: ?Sized> Pick<T> for Cut {
    const LAYOUT: &'static Layout = &Layout::Cut;
}

macro_rules! levels {
    ($first:ident $(, $next:ident)*) => {
        /// Nesting level 0 (see [`Level`]).
        pub struct $first;
        impl Level for $first {
            type Next = Cut;
        }
        levels!(@chain $first $(, $next)*);
    };
    (@chain $prev:ident, $this:ident $(, $rest:ident)*) => {
        /// A nesting level (see [`Level`]).
        pub struct $this;
        impl Level for $this {
            type Next = Deep<$prev>;
        }
        levels!(@chain $this $(, $rest)*);
    };
    (@chain $last:ident) => {};
}
levels!(
    L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16
);

/// The level a packet's layout starts at: 16 named types deep.
pub type Top = L16;

/// A named type's identity for back-references: FNV-1a of its path
/// (`module_path!()`, `::`, its name), never 0. Not part of the hash.
///
/// Every instantiation of a generic derived type has the same key, so a
/// generic type nested in another instantiation of itself
/// (`Wrapper<Wrapper<u8>>`) is described as a back-reference: still a
/// deterministic number, but not the one the schema side (which has no
/// generics) computes.
pub const fn type_key(module: &str, name: &str) -> u64 {
    let h = fnv_bytes(FNV_OFFSET, module.as_bytes());
    let h = fnv_bytes(h, b"::");
    fnv_bytes(h, name.as_bytes()) | 1
}

// ---------------------------------------------------------- built-in types

macro_rules! prim {
    ($($t:ty => $p:ident),*) => {$(
        impl<L: Level> WireLayout<L> for $t {
            const LAYOUT: &'static Layout = &Layout::Prim(Prim::$p);
        }
    )*};
}
prim!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128,
      i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128,
      f32 => F32, f64 => F64, bool => Bool, char => Char);

/// The layout of a string with the default (`u16`) prefix and no bound.
const DEFAULT_STR: Layout = Layout::Str {
    width: 2,
    max: u16::MAX as u32,
};

impl<L: Level> WireLayout<L> for str {
    const LAYOUT: &'static Layout = &DEFAULT_STR;
}

#[cfg(feature = "alloc")]
impl<L: Level> WireLayout<L> for String {
    const LAYOUT: &'static Layout = &DEFAULT_STR;
}

impl<L: Level, T: WireLayout<L>> WireLayout<L> for [T] {
    const LAYOUT: &'static Layout = &Layout::List {
        width: 2,
        max: u16::MAX as u32,
        item: T::LAYOUT,
    };
}

#[cfg(feature = "alloc")]
impl<L: Level, T: WireLayout<L>> WireLayout<L> for Vec<T> {
    const LAYOUT: &'static Layout = <[T] as WireLayout<L>>::LAYOUT;
}

#[cfg(feature = "alloc")]
impl<L: Level, T: ?Sized + WireLayout<L>> WireLayout<L> for Box<T> {
    const LAYOUT: &'static Layout = T::LAYOUT;
}

impl<L: Level, T: ?Sized + WireLayout<L>> WireLayout<L> for &T {
    const LAYOUT: &'static Layout = T::LAYOUT;
}

impl<L: Level, T: WireLayout<L>, const N: usize> WireLayout<L> for [T; N] {
    const LAYOUT: &'static Layout = &Layout::Array {
        len: N as u32,
        item: T::LAYOUT,
    };
}

impl<L: Level, T: WireLayout<L>> WireLayout<L> for Option<T> {
    const LAYOUT: &'static Layout = &Layout::Option(T::LAYOUT);
}

impl<L: Level, T> WireLayout<L> for View<'_, T> {
    const LAYOUT: &'static Layout = &Layout::Raw(size_of::<T>() as u32);
}

macro_rules! tuple {
    ($(($($t:ident),+))*) => {$(
        impl<L: Level, $($t: WireLayout<L>),+> WireLayout<L> for ($($t,)+) {
            const LAYOUT: &'static Layout = &Layout::Struct {
                key: 0,
                fields: &[$($t::LAYOUT),+],
            };
        }
    )*};
}
tuple! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

// ------------------------------------------------------------- packet sets

/// A packet set's protocol fingerprint (wire format §11), a compile-time
/// constant. Implemented by `#[derive(PacketSet)]`; read it as
/// `<Msg as Fingerprint>::FINGERPRINT`.
pub trait Fingerprint<L: Level = Top> {
    /// FNV-1a 64 of the set's canonical layout description.
    const FINGERPRINT: u64;
}

/// A packet's entry in its set's fingerprint: its id and layout (blanket
/// for every packet with a layout). `#[derive(PacketSet)]` bounds its
/// `Fingerprint` impl on this, generic in `L`, so that a member that is not
/// a packet is reported once, by the `PacketSet` impl, and a member without
/// a layout only where the fingerprint is used.
pub trait Member<L: Level = Top> {
    /// `(Packet::ID, WireLayout::LAYOUT)`.
    const ENTRY: (u16, &'static Layout);
}

impl<L: Level, P: crate::Packet + WireLayout<L> + ?Sized> Member<L> for P {
    const ENTRY: (u16, &'static Layout) = (P::ID, P::LAYOUT);
}

/// The index of the packet with the smallest type id above `last`: one
/// step of the selection sort both fingerprints hash packets in (ascending
/// id, §11), in `const`. The caller asks once per packet, so one exists.
const fn next_above<T>(packets: &[(u16, T)], last: i32) -> usize {
    let mut best: Option<usize> = None;
    let mut i = 0;
    while i < packets.len() {
        let id = packets[i].0 as i32;
        if id > last {
            best = match best {
                Some(b) if packets[b].0 as i32 <= id => Some(b),
                _ => Some(i),
            };
        }
        i += 1;
    }
    match best {
        Some(b) => b,
        None => panic!("no packet id above the last one hashed"),
    }
}

/// The fingerprint of packets given as `(type id, layout)`, in any order
/// (for `#[derive(PacketSet)]`, which refuses duplicate ids). Fails to
/// compile (a `const` panic) when a layout reaches a [`Layout::Cut`].
pub const fn set_fingerprint(packets: &[(u16, &'static Layout)]) -> u64 {
    let mut h = fnv_bytes(FNV_OFFSET, MAGIC);
    h = fnv_bytes(h, &(packets.len() as u32).to_le_bytes());
    let mut last: i32 = -1;
    let mut n = 0;
    while n < packets.len() {
        let (id, layout) = packets[next_above(packets, last)];
        h = fnv_bytes(h, &id.to_le_bytes());
        h = walk(h, layout, &mut [0; STACK], 0);
        last = id as i32;
        n += 1;
    }
    h
}

/// The fingerprint of canonical descriptions already serialized: each
/// `(type id, bytes of its layout)` as §11 writes them, in any order.
/// The reference the tests compare the `const` walk with.
pub const fn fingerprint(packets: &[(u16, &[u8])]) -> u64 {
    let mut h = fnv_bytes(FNV_OFFSET, MAGIC);
    h = fnv_bytes(h, &(packets.len() as u32).to_le_bytes());
    let mut last: i32 = -1;
    let mut n = 0;
    while n < packets.len() {
        let (id, bytes) = packets[next_above(packets, last)];
        h = fnv_bytes(h, &id.to_le_bytes());
        h = fnv_bytes(h, bytes);
        last = id as i32;
        n += 1;
    }
    h
}

/// The first bytes hashed: `PKFP` and the description's version, 1.
pub const MAGIC: &[u8] = b"PKFP\x01";

/// How many named types the walk can hold open (more than [`Top`]'s 16).
const STACK: usize = 32;

/// FNV-1a 64's offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64's prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64: continues hash `h` over `bytes`.
pub const fn fnv_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

const fn fnv_u32(h: u64, v: u32) -> u64 {
    fnv_bytes(h, &v.to_le_bytes())
}

/// Hashes `layout`'s canonical bytes; `stack[..depth]` holds the keys of
/// the named types being expanded, innermost last.
const fn walk(h: u64, layout: &Layout, stack: &mut [u64; STACK], depth: usize) -> u64 {
    match layout {
        Layout::Prim(p) => fnv_bytes(h, &[*p as u8]),
        Layout::Str { width, max } => fnv_u32(fnv_bytes(h, &[0x10, *width]), *max),
        Layout::List { width, max, item } => {
            let h = fnv_u32(fnv_bytes(h, &[0x11, *width]), *max);
            walk(h, item, stack, depth)
        }
        Layout::Array { len, item } => {
            walk(fnv_u32(fnv_bytes(h, &[0x12]), *len), item, stack, depth)
        }
        Layout::Option(item) => walk(fnv_bytes(h, &[0x13]), item, stack, depth),
        Layout::Struct { key, fields } => {
            if let Some(back) = open(stack, depth, *key) {
                return fnv_u32(fnv_bytes(h, &[0x16]), back);
            }
            stack[depth] = *key;
            let h = fnv_u32(fnv_bytes(h, &[0x14]), fields.len() as u32);
            walk_fields(h, fields, stack, depth + 1)
        }
        Layout::Enum { key, tag, variants } => {
            if let Some(back) = open(stack, depth, *key) {
                return fnv_u32(fnv_bytes(h, &[0x16]), back);
            }
            stack[depth] = *key;
            let mut h = fnv_u32(fnv_bytes(h, &[0x15, *tag as u8]), variants.len() as u32);
            // Variants by ascending tag.
            let mut last: i64 = -1;
            let mut n = 0;
            while n < variants.len() {
                let mut best: i64 = -1;
                let mut i = 0;
                while i < variants.len() {
                    let t = variants[i].tag as i64;
                    if t > last && (best < 0 || t < variants[best as usize].tag as i64) {
                        best = i as i64;
                    }
                    i += 1;
                }
                if best < 0 {
                    panic!("two variants of an enum share a tag");
                }
                let v = &variants[best as usize];
                h = fnv_u32(fnv_u32(h, v.tag), v.fields.len() as u32);
                h = walk_fields(h, v.fields, stack, depth + 1);
                last = v.tag as i64;
                n += 1;
            }
            h
        }
        Layout::Raw(n) => fnv_u32(fnv_bytes(h, &[0x17]), *n),
        Layout::Opaque => fnv_bytes(h, &[0x18]),
        Layout::Cut => {
            panic!("protocol fingerprint: more than 16 nested structs and enums in one packet")
        }
    }
}

const fn walk_fields(
    mut h: u64,
    fields: &[&Layout],
    stack: &mut [u64; STACK],
    depth: usize,
) -> u64 {
    if depth > STACK - 1 {
        panic!("protocol fingerprint: types nested too deep");
    }
    let mut i = 0;
    while i < fields.len() {
        h = walk(h, fields[i], stack, depth);
        i += 1;
    }
    h
}

/// The back-reference distance to `key` if a type with that key is being
/// expanded (0 = the innermost), else `None`. Tuples (key 0) never match.
const fn open(stack: &[u64; STACK], depth: usize, key: u64) -> Option<u32> {
    if key == 0 {
        return None;
    }
    let mut i = 0;
    while i < depth {
        if stack[depth - 1 - i] == key {
            return Some(i as u32);
        }
        i += 1;
    }
    None
}

/// Two peers' fingerprints differ: the session is refused at its hello
/// (wire format §11.5). Its message is `protocol mismatch: client 0x…,
/// server 0x…` (16 hex digits each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("protocol mismatch: client {client:#018x}, server {server:#018x}")]
pub struct ProtocolMismatch {
    /// The fingerprint the client sent.
    pub client: u64,
    /// The server's own.
    pub server: u64,
}

/// The server's check of a client's fingerprint at the hello.
///
/// ```
/// use packet_core::layout::{ProtocolMismatch, check_fingerprint};
///
/// assert_eq!(check_fingerprint(7, 7), Ok(()));
/// let e = check_fingerprint(0x1234, 0xabcd).unwrap_err();
/// assert_eq!(e, ProtocolMismatch { client: 0x1234, server: 0xabcd });
/// assert_eq!(
///     e.to_string(),
///     "protocol mismatch: client 0x0000000000001234, server 0x000000000000abcd"
/// );
/// ```
pub const fn check_fingerprint(client: u64, server: u64) -> Result<(), ProtocolMismatch> {
    if client == server {
        Ok(())
    } else {
        Err(ProtocolMismatch { client, server })
    }
}

/// A single packet's fingerprint: the fingerprint of the set holding only
/// it (handy to tell which packet differs).
pub const fn packet_fingerprint<P: crate::Packet + WireLayout<Top>>() -> u64 {
    set_fingerprint(&[(P::ID, P::LAYOUT)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_64_known_values() {
        // The published FNV-1a 64 test values.
        assert_eq!(fnv_bytes(FNV_OFFSET, b""), 0xcbf29ce484222325);
        assert_eq!(fnv_bytes(FNV_OFFSET, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv_bytes(FNV_OFFSET, b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn the_walk_hashes_the_canonical_bytes() {
        type T = (u8, Option<[u16; 3]>, &'static str);
        let walked = set_fingerprint(&[(7, <T as WireLayout>::LAYOUT)]);
        let bytes = [
            0x14, 3, 0, 0, 0, 0x01, 0x13, 0x12, 3, 0, 0, 0, 0x02, 0x10, 2, 0xff, 0xff, 0, 0,
        ];
        assert_eq!(walked, fingerprint(&[(7, &bytes)]));
    }
}
