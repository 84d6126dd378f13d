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
//! back-reference, §11), long before any cut. A cut is reached only when
//! a field lies inside more than [`MAX_NESTING`] structs and enums (the
//! packet counted), which is the nesting limit of wire format §11.6: at
//! level 0 every field, whatever its type, is a cut (a type with no fields
//! there, a C-like enum, is fine). The walk then fails to compile with a
//! message saying so.
//!
//! # Bounded work
//!
//! The walk hashes the canonical description byte by byte, and a type used
//! twice is described twice, so a "diamond" (`A { x: B, y: B }`,
//! `B { x: C, y: C }`, ...) doubles the description at every level. The
//! walk therefore counts the bytes it hashes and fails to compile past
//! [`MAX_DESCRIPTION_LEN`] (wire format §11.6), with the same limit the
//! schema compiler checks; everything else it does is linear in those
//! bytes (`#[derive(PacketSet)]` and `#[derive(Packet)]` hand it packets
//! and variants already sorted by id and tag), so a set within the limits
//! stays far below rustc's constant-evaluation step limit
//! (`long_running_const_eval`).

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
#[derive(Clone, Copy, Debug)]
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
    /// Whether a named type entered at this level may describe its fields:
    /// `false` at level 0, where a field whose layout is not picked by type
    /// (a bounded string, a custom codec) is a [`Layout::Cut`] as well, so
    /// that every field there is one.
    const FIELDS: bool;
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
            const FIELDS: bool = false;
        }
        levels!(@chain $first $(, $next)*);
    };
    (@chain $prev:ident, $this:ident $(, $rest:ident)*) => {
        /// A nesting level (see [`Level`]).
        pub struct $this;
        impl Level for $this {
            type Next = Deep<$prev>;
            const FIELDS: bool = true;
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

/// The most structs and enums (the packet counted) a field of a packet may
/// lie inside (wire format §11.6): the levels below [`Top`].
pub const MAX_NESTING: usize = 16;

/// The longest canonical description of a packet set, in bytes (wire
/// format §11.6): everything hashed, from the magic to the last packet's
/// layout. A set over it is a compile error where its `FINGERPRINT` is
/// used, as the schema compiler refuses such a schema.
pub const MAX_DESCRIPTION_LEN: usize = 128 * 1024;

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
/// step of the selection sort [`fingerprint`] hashes packets in (ascending
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

/// The fingerprint of packets given as `(type id, layout)`, **by
/// ascending type id** (§11.2 hashes them in that order): pass an
/// unsorted array through [`by_id`] first, as `#[derive(PacketSet)]`
/// does. The walk is then linear in the description's length.
///
/// # Panics
///
/// A `const` panic, so a compile error where the fingerprint is a
/// constant: when the ids do not strictly ascend (unsorted, or an id
/// twice; sorting here instead would take quadratic steps in `const`,
/// with no memory to sort into), when a layout reaches a
/// [`Layout::Cut`] (a field inside more than [`MAX_NESTING`] structs and
/// enums) or when the description grows past [`MAX_DESCRIPTION_LEN`]
/// bytes (wire format §11.6).
///
/// ```
/// use packet_core::layout::{by_id, set_fingerprint, Layout, Prim};
///
/// const A: &Layout = &Layout::Prim(Prim::U8);
/// const B: &Layout = &Layout::Prim(Prim::Bool);
/// const FP: u64 = set_fingerprint(&by_id([(5, A), (1, B)]));
/// assert_eq!(FP, set_fingerprint(&[(1, B), (5, A)]));
/// ```
///
/// ```compile_fail,E0080
/// # use packet_core::layout::{set_fingerprint, Layout, Prim};
/// # const A: &Layout = &Layout::Prim(Prim::U8);
/// # const B: &Layout = &Layout::Prim(Prim::Bool);
/// // error[E0080]: evaluation panicked: protocol fingerprint: packets not
/// // by strictly ascending type id ...
/// const FP: u64 = set_fingerprint(&[(5, A), (1, B)]);
/// ```
pub const fn set_fingerprint(packets: &[(u16, &'static Layout)]) -> u64 {
    if !ascending(packets) {
        panic!(
            "protocol fingerprint: packets not by strictly ascending type id (set_fingerprint takes them sorted, wire format §11.2: pass them through layout::by_id; an id twice is an error)"
        );
    }
    let mut d = Description::new();
    d.bytes(MAGIC);
    d.u32(packets.len() as u32);
    let mut i = 0;
    while i < packets.len() {
        let (id, layout) = packets[i];
        d.bytes(&id.to_le_bytes());
        walk(&mut d, layout, &mut [0; STACK], 0);
        i += 1;
    }
    d.h
}

/// Whether the packets' ids strictly ascend (sorted, no id twice).
const fn ascending<T>(packets: &[(u16, T)]) -> bool {
    let mut i = 1;
    while i < packets.len() {
        if packets[i - 1].0 >= packets[i].0 {
            return false;
        }
        i += 1;
    }
    true
}

/// Heapsort in `const`, by a `u32` key: O(n log n) steps, where picking
/// the next smallest each time (as the walk must for an unsorted slice)
/// is O(n²), enough for a set of a few thousand packets, or an enum of a
/// few thousand variants, to run into rustc's constant-evaluation step
/// limit.
macro_rules! const_sort {
    ($(#[$m:meta])* $name:ident, $sift:ident, $t:ty, |$x:ident| $key:expr) => {
        $(#[$m])*
        pub const fn $name<const N: usize>(mut a: [$t; N]) -> [$t; N] {
            let mut start = N / 2;
            while start > 0 {
                start -= 1;
                $sift(&mut a, start, N);
            }
            let mut end = N;
            while end > 1 {
                end -= 1;
                let top = a[0];
                a[0] = a[end];
                a[end] = top;
                $sift(&mut a, 0, end);
            }
            a
        }

        /// Moves `a[root]` down the max-heap `a[..end]`.
        const fn $sift(a: &mut [$t], mut root: usize, end: usize) {
            const fn key($x: &$t) -> u32 {
                $key
            }
            loop {
                let mut child = 2 * root + 1;
                if child >= end {
                    return;
                }
                if child + 1 < end && key(&a[child]) < key(&a[child + 1]) {
                    child += 1;
                }
                if key(&a[root]) >= key(&a[child]) {
                    return;
                }
                let t = a[root];
                a[root] = a[child];
                a[child] = t;
                root = child;
            }
        }
    };
}

const_sort!(
    /// A set's `(type id, layout)` entries by ascending id, in `const`
    /// (`#[derive(PacketSet)]` passes its members through it): the order
    /// [`set_fingerprint`] takes them in.
    by_id,
    sift_by_id,
    (u16, &'static Layout),
    |e| e.0 as u32
);

const_sort!(
    /// An enum's variants by ascending tag (as a `u32`), in `const`
    /// (`#[derive(Packet)]` writes [`Layout::Enum`]'s variants through it,
    /// so that the walk takes them in one pass).
    by_tag,
    sift_by_tag,
    Variant,
    |v| v.tag
);

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

/// A description being hashed: the hash so far and how many bytes went
/// into it, which may not exceed [`MAX_DESCRIPTION_LEN`].
struct Description {
    h: u64,
    len: usize,
}

impl Description {
    const fn new() -> Self {
        Description {
            h: FNV_OFFSET,
            len: 0,
        }
    }

    const fn bytes(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        if self.len > MAX_DESCRIPTION_LEN {
            panic!(
                "protocol fingerprint: the packet set's canonical description is longer than 131072 bytes (MAX_DESCRIPTION_LEN, wire format §11.6): a struct or enum used by several fields is described again at every use"
            );
        }
        self.h = fnv_bytes(self.h, bytes);
    }

    const fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
}

/// Hashes `layout`'s canonical bytes; `stack[..depth]` holds the keys of
/// the named types being expanded, innermost last.
const fn walk(d: &mut Description, layout: &Layout, stack: &mut [u64; STACK], depth: usize) {
    match layout {
        Layout::Prim(p) => d.bytes(&[*p as u8]),
        Layout::Str { width, max } => {
            d.bytes(&[0x10, *width]);
            d.u32(*max);
        }
        Layout::List { width, max, item } => {
            d.bytes(&[0x11, *width]);
            d.u32(*max);
            walk(d, item, stack, depth);
        }
        Layout::Array { len, item } => {
            d.bytes(&[0x12]);
            d.u32(*len);
            walk(d, item, stack, depth);
        }
        Layout::Option(item) => {
            d.bytes(&[0x13]);
            walk(d, item, stack, depth);
        }
        Layout::Struct { key, fields } => {
            if let Some(back) = open(stack, depth, *key) {
                d.bytes(&[0x16]);
                d.u32(back);
                return;
            }
            stack[depth] = *key;
            d.bytes(&[0x14]);
            d.u32(fields.len() as u32);
            walk_fields(d, fields, stack, depth + 1);
        }
        Layout::Enum { key, tag, variants } => {
            if let Some(back) = open(stack, depth, *key) {
                d.bytes(&[0x16]);
                d.u32(back);
                return;
            }
            stack[depth] = *key;
            d.bytes(&[0x15, *tag as u8]);
            d.u32(variants.len() as u32);
            // Variants by ascending tag: in order when they are (derived
            // enums are, through `by_tag`), else the next smallest each time.
            let mut sorted = true;
            let mut i = 1;
            while i < variants.len() {
                if variants[i - 1].tag >= variants[i].tag {
                    sorted = false;
                }
                i += 1;
            }
            let mut last: i64 = -1;
            let mut n = 0;
            while n < variants.len() {
                let mut best: i64 = if sorted { n as i64 } else { -1 };
                let mut i = 0;
                while !sorted && i < variants.len() {
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
                d.u32(v.tag);
                d.u32(v.fields.len() as u32);
                walk_fields(d, v.fields, stack, depth + 1);
                last = v.tag as i64;
                n += 1;
            }
        }
        Layout::Raw(n) => {
            d.bytes(&[0x17]);
            d.u32(*n);
        }
        Layout::Opaque => d.bytes(&[0x18]),
        Layout::Cut => panic!(
            "protocol fingerprint: a field inside more than 16 nested structs and enums (the packet counted; MAX_NESTING, wire format §11.6)"
        ),
    }
}

const fn walk_fields(
    d: &mut Description,
    fields: &[&Layout],
    stack: &mut [u64; STACK],
    depth: usize,
) {
    if depth > STACK - 1 {
        panic!("protocol fingerprint: types nested too deep");
    }
    let mut i = 0;
    while i < fields.len() {
        walk(d, fields[i], stack, depth);
        i += 1;
    }
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
    fn const_sorts_order_by_id_and_tag() {
        const P: &Layout = &Layout::Prim(Prim::U8);
        let sorted = by_id([(9, P), (1, P), (65535, P), (3, P), (2, P)]);
        let ids: Vec<u16> = sorted.iter().map(|e| e.0).collect();
        assert_eq!(ids, [1, 2, 3, 9, 65535]);
        let v = |tag| Variant { tag, fields: &[] };
        let sorted = by_tag([v(7), v(u32::MAX), v(0), v(2), v(1)]);
        let tags: Vec<u32> = sorted.iter().map(|v| v.tag).collect();
        assert_eq!(tags, [0, 1, 2, 7, u32::MAX]);
    }

    #[test]
    fn unsorted_members_and_variants_hash_as_sorted() {
        const A: Layout = Layout::Enum {
            key: 1,
            tag: Prim::U16,
            variants: &[
                Variant {
                    tag: 7,
                    fields: &[],
                },
                Variant {
                    tag: 2,
                    fields: &[&Layout::Prim(Prim::U8)],
                },
            ],
        };
        const B: Layout = Layout::Enum {
            key: 1,
            tag: Prim::U16,
            variants: &by_tag([
                Variant {
                    tag: 7,
                    fields: &[],
                },
                Variant {
                    tag: 2,
                    fields: &[&Layout::Prim(Prim::U8)],
                },
            ]),
        };
        const S: &Layout = &Layout::Prim(Prim::Bool);
        assert_eq!(
            set_fingerprint(&by_id([(5, &A), (1, S)])),
            set_fingerprint(&[(1, S), (5, &B)])
        );
        let bytes = [
            0x15, 0x02, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0x01, 7, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            set_fingerprint(&by_id([(5, &A), (1, S)])),
            fingerprint(&[(5, &bytes), (1, &[0x0D])])
        );
    }

    #[test]
    #[should_panic(expected = "packets not by strictly ascending type id")]
    fn unsorted_packets_panic() {
        const S: &Layout = &Layout::Prim(Prim::Bool);
        set_fingerprint(&[(5, S), (1, S)]);
    }

    #[test]
    #[should_panic(expected = "packets not by strictly ascending type id")]
    fn an_id_twice_panics() {
        const S: &Layout = &Layout::Prim(Prim::Bool);
        set_fingerprint(&by_id([(5, S), (1, S), (5, S)]));
    }

    /// A large set in reverse order, sorted by `by_id` and hashed, all in
    /// `const`: n log n steps (picking the next smallest id each time
    /// took 4096² here).
    #[test]
    fn a_reversed_set_sorts_and_hashes_in_const() {
        const S: &Layout = &Layout::Prim(Prim::U8);
        const N: usize = 4096;
        const fn ids(reversed: bool) -> [(u16, &'static Layout); N] {
            let mut a: [(u16, &Layout); N] = [(0, S); N];
            let mut i = 0;
            while i < N {
                a[i].0 = if reversed { N - 1 - i } else { i } as u16;
                i += 1;
            }
            a
        }
        const FP: u64 = set_fingerprint(&by_id(ids(true)));
        assert_eq!(FP, set_fingerprint(&ids(false)));
    }

    /// Structs that each hold the next twice, `n` levels, a `u8` last.
    macro_rules! diamond {
        ($last:ident $(, $name:ident => $next:ident)*) => {
            const $last: Layout = Layout::Struct { key: 99, fields: &[&Layout::Prim(Prim::U8)] };
            $(const $name: Layout = Layout::Struct {
                key: type_key("diamond", stringify!($name)),
                fields: &[&$next, &$next],
            };)*
        };
    }
    diamond!(D14, D13 => D14, D12 => D13, D11 => D12, D10 => D11, D9 => D10, D8 => D9, D7 => D8,
             D6 => D7, D5 => D6, D4 => D5, D3 => D4, D2 => D3, D1 => D2, D0 => D1);

    #[test]
    fn a_description_within_the_limit_hashes() {
        // 5 + 2 × (5 + 2 × (... 6)) over 13 levels: 90,107 bytes, plus
        // the magic, the count and the id (the `const` is evaluated by
        // rustc, within its step limit).
        const FP: u64 = set_fingerprint(&[(1, &D1)]);
        assert_ne!(FP, 0);
        assert_eq!(MAX_DESCRIPTION_LEN, 131_072, "the panic message says so");
    }

    #[test]
    #[should_panic(expected = "longer than 131072 bytes (MAX_DESCRIPTION_LEN")]
    fn a_description_past_the_limit_panics() {
        // One level more: 180,219 bytes. In a `const` (as `FINGERPRINT`
        // is) this is a compile error; called at run time, a panic.
        set_fingerprint(&[(1, &D0)]);
    }

    #[test]
    #[should_panic(expected = "more than 16 nested structs and enums")]
    fn a_cut_panics() {
        set_fingerprint(&[(1, &Layout::Cut)]);
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
