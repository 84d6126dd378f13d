//! The encoder's nesting limit: a value of a recursive type encodes
//! exactly when a decoder takes it back. Up to `Reader::MAX_DEPTH` heap
//! levels (`Box`, `Vec`, counted as the decoder counts them) it encodes
//! and round-trips; one level more is `EncodeError::TooDeep` (and
//! `encoded_len` is `usize::MAX`), however deep the value, without
//! recursing past the limit: a 100,000-level chain is refused on a
//! 256 KiB stack, where encoding it used to overflow the stack and abort
//! the process.

use packet_core::frame::{FrameConfig, PacketBuf};
use packet_core::{Decode, DecodeError, Encode, EncodeError, Packet, Reader, Writer};

const MAX: usize = Reader::MAX_DEPTH as usize;
const TOO_DEEP: EncodeError = EncodeError::TooDeep { max: MAX };

/// The defect report's type: marked `recursive` as packet-schema marks
/// the types it generates.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(recursive)]
struct Node {
    v: u8,
    next: Option<Box<Node>>,
}

/// A packet that holds one.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0401)]
struct Holder {
    root: Node,
}

/// Not recursive itself, but its `Vec` is one more level above each
/// `Node`: the decoder counts it, so the encoder must.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0402)]
struct Forest {
    roots: Vec<Node>,
}

/// Through `Vec`: every node's list is a level, an empty one too.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Tree {
    value: u8,
    children: Vec<Tree>,
}

/// A list of numbers at every level: at the bottom of a chain the
/// numbers' own `Vec` is one level past the last `Box`.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Tagged {
    #[packet(len = u8)]
    tags: Vec<u16>,
    next: Option<Box<Tagged>>,
}

/// A non-recursive type with a `Vec` inside, inside a recursive one.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Payload {
    data: Vec<u8>,
}

#[derive(Packet, Debug, Clone, PartialEq)]
struct Carrier {
    payload: Payload,
    next: Option<Box<Carrier>>,
}

/// `Box<str>` decodes as a string, not as a level.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Named {
    name: Box<str>,
    next: Option<Box<Named>>,
}

/// A chain of `Node`s with `boxes` boxes (`boxes + 1` nodes), built and
/// taken apart without recursion.
fn node(boxes: usize) -> Node {
    let mut n = Node { v: 0, next: None };
    for i in 0..boxes {
        n = Node {
            v: (i % 251) as u8,
            next: Some(Box::new(n)),
        };
    }
    n
}

/// Drops a chain one level at a time: the derived type's drop glue is
/// std's, recursive, and a 100,000-level chain would overflow a small
/// stack (see the docs of `#[packet(recursive)]`).
fn unchain(mut n: Node) {
    while let Some(next) = n.next.take() {
        n = *next;
    }
}

fn encode<T: Encode>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = vec![0u8; 1 << 20];
    let mut w = Writer::new(&mut out);
    value.encode(&mut w)?;
    let n = w.position();
    out.truncate(n);
    Ok(out)
}

fn decode<'de, T: Decode<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// At every depth around the limit, the encoder accepts exactly what the
/// decoder accepts: `wire(d)` is the body a depth-`d` value has (built by
/// hand, so that it exists past the limit too), `value(d)` the value.
fn symmetric<T>(what: &str, value: impl Fn(usize) -> T, wire: impl Fn(usize) -> Vec<u8>)
where
    T: Encode + for<'de> Decode<'de> + PartialEq + core::fmt::Debug,
{
    for d in MAX - 3..=MAX + 3 {
        let v = value(d);
        let bytes = wire(d);
        let decoded = decode::<T>(&bytes);
        match encode(&v) {
            Ok(out) => {
                assert_eq!(out, bytes, "{what} {d}: the body");
                assert_eq!(v.encoded_len(), bytes.len(), "{what} {d}: encoded_len");
                assert_eq!(decoded.as_ref(), Ok(&v), "{what} {d}: decodes back");
            }
            Err(e) => {
                assert_eq!(e, TOO_DEEP, "{what} {d}");
                assert_eq!(v.encoded_len(), usize::MAX, "{what} {d}: encoded_len");
                assert_eq!(
                    decoded,
                    Err(DecodeError::TooDeep {
                        max: Reader::MAX_DEPTH
                    }),
                    "{what} {d}: the decoder refuses it too"
                );
            }
        }
    }
}

#[test]
fn the_limit_is_the_decoders() {
    assert_eq!(Writer::MAX_DEPTH, Reader::MAX_DEPTH);
    let msg = TOO_DEEP.to_string();
    assert!(msg.contains("128") && msg.contains("decoder"), "{msg}");
}

#[test]
fn depth_128_encodes_and_round_trips_129_is_too_deep() {
    let ok = node(MAX);
    let body = encode(&ok).expect("128 boxes encode");
    assert_eq!(body.len(), ok.encoded_len());
    assert_eq!(decode::<Node>(&body), Ok(ok.clone()));
    let frame = PacketBuf::<65536>::new()
        .encode(&Holder { root: ok.clone() }, 1)
        .expect("as a packet too")
        .to_vec();
    let f = packet_core::frame::decode_frame(&frame, &FrameConfig::default()).expect("a frame");
    assert_eq!(f.decode_packet::<Holder>(), Ok(Holder { root: ok }));

    let deep = node(MAX + 1);
    assert_eq!(encode(&deep), Err(TOO_DEEP));
    assert_eq!(deep.encoded_len(), usize::MAX);
    let holder = Holder { root: deep };
    assert_eq!(
        PacketBuf::<65536>::new().encode(&holder, 1).map(|_| ()),
        Err(TOO_DEEP)
    );
    assert_eq!(holder.encoded_len(), usize::MAX);
}

/// Runs `f` on a thread with a `stack`-byte stack.
fn on_stack(stack: usize, f: impl FnOnce() + Send + 'static) {
    let done = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("a thread")
        .join();
    assert!(done.is_ok(), "the {stack}-byte-stack thread panicked");
}

#[test]
fn far_too_deep_is_an_error_on_a_small_stack() {
    // 256 KiB: far less than 100,000 levels of recursion take, so the
    // limit is checked before any deep recursion happens.
    on_stack(256 * 1024, || {
        let deep = node(100_000);
        assert_eq!(deep.encoded_len(), usize::MAX);
        assert_eq!(encode(&deep), Err(TOO_DEEP));
        let holder = Holder { root: deep };
        assert_eq!(holder.encoded_len(), usize::MAX);
        // What `PacketBuf::encode` does, into a buffer on the heap.
        let mut buf = vec![0u8; 65536];
        assert_eq!(
            packet_core::frame::encode_packet(&holder, 1, &mut buf),
            Err(TOO_DEEP)
        );
        let forest = Forest {
            roots: vec![node(1), holder.root],
        };
        assert_eq!(forest.encoded_len(), usize::MAX);
        assert_eq!(
            packet_core::frame::encode_packet(&forest, 1, &mut buf),
            Err(TOO_DEEP)
        );
        for root in forest.roots {
            unchain(root);
        }
    });
    // The report's case: `PacketBuf::<65536>::encode` on a 2 MiB thread
    // (tokio's worker default) aborted the process at depth 3,000.
    on_stack(2 * 1024 * 1024, || {
        let holder = Holder {
            root: node(100_000),
        };
        assert_eq!(
            PacketBuf::<65536>::new().encode(&holder, 1).map(|_| ()),
            Err(TOO_DEEP)
        );
        unchain(holder.root);
    });
}

#[test]
fn encoder_and_decoder_agree_around_the_limit() {
    // `Node`: one box per level.
    let node_wire = |d: usize| {
        let mut b: Vec<u8> = (0..d).rev().flat_map(|i| [(i % 251) as u8, 1]).collect();
        b.extend([0, 0]);
        b
    };
    symmetric("Node", node, node_wire);

    // `Forest`: its `Vec` is one more level.
    symmetric(
        "Forest",
        |d| Forest {
            roots: vec![node(d)],
        },
        |d| [vec![1, 0], node_wire(d)].concat(),
    );

    // `Tree`: `d` nested lists (the leaf's empty list counts).
    symmetric(
        "Tree",
        |d| {
            let mut t = Tree {
                value: 0,
                children: vec![],
            };
            for _ in 1..d {
                t = Tree {
                    value: 0,
                    children: vec![t],
                };
            }
            t
        },
        |d| {
            let mut b = [0u8, 1, 0].repeat(d - 1);
            b.extend([0, 0, 0]);
            b
        },
    );

    // `Tagged`: `d` boxes, then the last node's tag list.
    symmetric(
        "Tagged",
        |d| {
            let mut t = Tagged {
                tags: vec![7],
                next: None,
            };
            for _ in 0..d {
                t = Tagged {
                    tags: vec![],
                    next: Some(Box::new(t)),
                };
            }
            t
        },
        |d| {
            let mut b = [0u8, 1].repeat(d);
            b.extend([1, 7, 0, 0]);
            b
        },
    );

    // `Carrier`: `d` boxes, then the last payload's bytes.
    symmetric(
        "Carrier",
        |d| {
            let mut c = Carrier {
                payload: Payload { data: vec![9] },
                next: None,
            };
            for _ in 0..d {
                c = Carrier {
                    payload: Payload { data: vec![] },
                    next: Some(Box::new(c)),
                };
            }
            c
        },
        |d| {
            let mut b = [0u8, 0, 1].repeat(d);
            b.extend([1, 0, 9, 0]);
            b
        },
    );

    // `Named`: `d` boxes; the names are no level.
    symmetric(
        "Named",
        |d| {
            let mut n = Named {
                name: "z".into(),
                next: None,
            };
            for _ in 0..d {
                n = Named {
                    name: "".into(),
                    next: Some(Box::new(n)),
                };
            }
            n
        },
        |d| {
            let mut b = [0u8, 0, 1].repeat(d);
            b.extend([1, 0, b'z', 0]);
            b
        },
    );
}

/// A deep value that fails leaves nothing behind in the writer: the
/// next value encodes through the same writer from its own top level.
#[test]
fn a_refused_value_does_not_count_against_the_next() {
    let mut out = vec![0u8; 4096];
    let mut w = Writer::new(&mut out);
    assert_eq!(node(MAX + 5).encode(&mut w), Err(TOO_DEEP));
    let before = w.position();
    node(MAX).encode(&mut w).expect("at the limit");
    assert_eq!(w.position() - before, node(MAX).encoded_len());
}

/// Types without a recursive type inside count nothing: their `encode`
/// is the code it was, and their `encoded_len` is the plain sum.
#[test]
fn non_recursive_types_do_not_count() {
    const { assert!(!<Payload as Encode>::RECURSIVE) };
    const { assert!(!<Vec<Payload> as Encode>::RECURSIVE) };
    const { assert!(<Node as Encode>::RECURSIVE) };
    const { assert!(<Forest as Encode>::RECURSIVE) };
    const { assert!(<Option<Box<Node>> as Encode>::RECURSIVE) };
    const { assert!(<(u8, Node) as Encode>::RECURSIVE) };
    // 200 levels of plain `Vec`s in a non-recursive type would be refused
    // by a decoder too, but no Rust type nests that deep by hand; what
    // matters here is that a writer at any depth never limits them.
    let mut out = [0u8; 16];
    let mut w = Writer::new(&mut out);
    Payload { data: vec![1, 2] }
        .encode(&mut w)
        .expect("encodes");
    assert_eq!(w.written(), [2, 0, 1, 2]);
}

/// Types declared through a `macro_rules!` (as the benches declare
/// theirs): the counting bodies keep the derive's hygiene.
macro_rules! declare {
    ($($name:ident { $($field:ident: $ty:ty),* })*) => {$(
        #[derive(Packet, Debug, Clone, PartialEq)]
        struct $name { $($field: $ty),* }
    )*};
}

declare! {
    Point { x: u16, y: u16 }
    Shape { corners: Vec<Point>, inner: Option<Box<Shape>> }
}

#[test]
fn types_from_a_macro_count_too() {
    let mut s = Shape {
        corners: vec![Point { x: 1, y: 2 }],
        inner: None,
    };
    for _ in 0..MAX {
        s = Shape {
            corners: vec![],
            inner: Some(Box::new(s)),
        };
    }
    assert_eq!(encode(&s), Err(TOO_DEEP));
    assert_eq!(s.encoded_len(), usize::MAX);
    // One level less (out of its box: a `Box<Shape>` is a level itself).
    let ok = *s.inner.take().expect("one level less");
    let body = encode(&ok).expect("encodes");
    assert_eq!(body.len(), ok.encoded_len());
    assert_eq!(decode::<Shape>(&body), Ok(ok));
}
