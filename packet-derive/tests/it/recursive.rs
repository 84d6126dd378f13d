//! Recursive types derive: `MAX_SIZE` is `None`, `MIN_SIZE` is finite and
//! never cycles, values round-trip, and hostile nesting is refused with
//! `DecodeError::TooDeep` rather than overflowing the stack.

use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, DecodeError, Encode, Packet, Reader, Writer};
use proptest::prelude::*;

#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0301)]
struct Tree {
    value: u32,
    children: Vec<Tree>,
}

#[derive(Packet, Debug, Clone, PartialEq)]
struct List {
    head: u8,
    tail: Option<Box<List>>,
}

/// A borrowed, length-limited recursive type with a lifetime.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Menu<'a> {
    #[packet(len = u8, max_len = 32)]
    label: &'a str,
    #[packet(len = u8, max_len = 8)]
    items: Vec<Menu<'a>>,
}

/// A recursive enum spelled with `Self`.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(tag = u8)]
enum Expr {
    Lit(i32),
    Neg(Box<Self>),
    Add(Box<Expr>, Box<Expr>),
}

/// Mutual recursion: the derive cannot see that `A` and `B` form a cycle,
/// so one of them says so.
#[derive(Packet, Debug, Clone, PartialEq)]
struct A {
    id: u16,
    b: Option<Box<B>>,
}

#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(recursive)]
struct B {
    flag: bool,
    items: Vec<A>,
}

/// A generic recursive type.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Chain<T> {
    item: T,
    next: Option<Box<Chain<T>>>,
}

mod other {
    #[derive(packet_core::Packet, Debug, Clone, PartialEq)]
    pub struct Leaf {
        pub x: u16,
    }
}

/// Names another type of the same name by path: not recursive, so its
/// sizes stay exact.
#[derive(Packet, Debug, Clone, PartialEq)]
struct Leaf {
    inner: other::Leaf,
    more: Option<other::Leaf>,
}

#[test]
fn size_constants() {
    assert_eq!(Tree::MAX_SIZE, None);
    assert_eq!(Tree::MIN_SIZE, 4 + 2);
    assert_eq!(Tree::MAX_FRAME_LEN, None);
    assert_eq!(List::MAX_SIZE, None);
    assert_eq!(List::MIN_SIZE, 1 + 1);
    assert_eq!(Menu::MAX_SIZE, None);
    assert_eq!(Menu::MIN_SIZE, 1 + 1);
    assert_eq!(Expr::MAX_SIZE, None);
    // tag + the smallest variant: `Neg` counts its box as 0.
    assert_eq!(Expr::MIN_SIZE, 1);
    assert_eq!(A::MAX_SIZE, None);
    assert_eq!(A::MIN_SIZE, 2 + 1);
    assert_eq!(B::MAX_SIZE, None);
    assert_eq!(B::MIN_SIZE, 1 + 2);
    assert_eq!(<Chain<u64>>::MAX_SIZE, None);
    assert_eq!(<Chain<u64>>::MIN_SIZE, 8 + 1);
    assert_eq!(Leaf::MAX_SIZE, Some(2 + 3));
    assert_eq!(Leaf::MIN_SIZE, 2 + 1);
}

#[test]
fn generic_recursive_type_round_trips() {
    let chain = Chain {
        item: 5u16,
        next: Some(Box::new(Chain {
            item: 6u16,
            next: None,
        })),
    };
    let body = encode_body(&chain);
    assert_eq!(body, [5, 0, 1, 6, 0, 0]);
    assert_eq!(decode_body::<Chain<u16>>(&body), Ok(chain));
}

fn encode_body<T: Encode>(value: &T) -> Vec<u8> {
    let mut out = vec![0u8; value.encoded_len()];
    let mut w = Writer::new(&mut out);
    value.encode(&mut w).expect("encodes");
    assert_eq!(w.position(), out.len(), "encoded_len is exact");
    out
}

fn decode_body<'de, T: Decode<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

#[test]
fn golden_small_tree() {
    let tree = Tree {
        value: 1,
        children: vec![
            Tree {
                value: 2,
                children: vec![],
            },
            Tree {
                value: 3,
                children: vec![Tree {
                    value: 4,
                    children: vec![],
                }],
            },
        ],
    };
    #[rustfmt::skip]
    let expected = [
        1, 0, 0, 0, 2, 0,       // value 1, two children
        2, 0, 0, 0, 0, 0,       //   value 2, no children
        3, 0, 0, 0, 1, 0,       //   value 3, one child
        4, 0, 0, 0, 0, 0,       //     value 4, no children
    ];
    let body = encode_body(&tree);
    assert_eq!(body, expected);
    assert_eq!(decode_body::<Tree>(&body), Ok(tree.clone()));

    // And as a framed packet.
    let mut buf = [0u8; 128];
    let n = frame::encode_packet(&tree, 9, &mut buf).expect("fits");
    let f = frame::decode_frame(&buf[..n], &FrameConfig::default()).expect("valid frame");
    assert_eq!(f.type_id(), Tree::ID);
    assert_eq!(f.body(), &expected[..]);
    assert_eq!(f.decode_packet::<Tree>(), Ok(tree));
}

#[test]
fn golden_list_and_expr() {
    let list = List {
        head: 7,
        tail: Some(Box::new(List {
            head: 8,
            tail: None,
        })),
    };
    assert_eq!(encode_body(&list), [7, 1, 8, 0]);
    let e = Expr::Add(
        Box::new(Expr::Lit(2)),
        Box::new(Expr::Neg(Box::new(Expr::Lit(-1)))),
    );
    let body = encode_body(&e);
    assert_eq!(body, [2, 0, 2, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(decode_body::<Expr>(&body), Ok(e));
}

/// `depth` nested `List`s: `[head, 1]` per level, `[head, 0]` at the end.
fn nested_list(depth: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 * depth + 2);
    for _ in 0..depth {
        body.extend_from_slice(&[0xAA, 1]);
    }
    body.extend_from_slice(&[0xAA, 0]);
    body
}

#[test]
fn nesting_up_to_the_limit_decodes() {
    let depth = Reader::MAX_DEPTH as usize;
    let list: List = decode_body(&nested_list(depth)).expect("at the limit");
    let mut levels = 0;
    let mut cur = &list;
    while let Some(next) = &cur.tail {
        levels += 1;
        cur = next;
    }
    assert_eq!(levels, depth);
}

#[test]
fn hostile_deep_nesting_is_too_deep_not_a_stack_overflow() {
    // One level past the limit, and far past it (a 64 KiB body).
    for depth in [Reader::MAX_DEPTH as usize + 1, 32 * 1024] {
        let body = nested_list(depth);
        assert_eq!(
            decode_body::<List>(&body),
            Err(DecodeError::TooDeep {
                max: Reader::MAX_DEPTH
            }),
            "depth {depth}"
        );
    }
    // Through `Vec`: every node has one child.
    let mut body = Vec::new();
    for _ in 0..40_000 {
        body.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
    }
    assert_eq!(
        decode_body::<Tree>(&body),
        Err(DecodeError::TooDeep {
            max: Reader::MAX_DEPTH
        })
    );
    // Through both halves of a mutual cycle.
    let mut body = Vec::new();
    for _ in 0..40_000 {
        body.extend_from_slice(&[1, 0, 1, 1, 1, 0]); // A { id: 1, b: Some(B { flag: true, items: [..1] }) }
    }
    assert_eq!(
        decode_body::<A>(&body),
        Err(DecodeError::TooDeep {
            max: Reader::MAX_DEPTH
        })
    );
    // And through a framed packet.
    let mut body = Vec::new();
    for _ in 0..10_000 {
        body.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
    }
    let mut buf = vec![0u8; 64 * 1024];
    let n = frame::encode_raw(Tree::ID, 1, &body, &mut buf).expect("fits");
    let f = frame::decode_frame(&buf[..n], &FrameConfig::default()).expect("valid frame");
    assert_eq!(
        f.decode_packet::<Tree>(),
        Err(DecodeError::TooDeep {
            max: Reader::MAX_DEPTH
        })
    );
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = any::<u32>().prop_map(|value| Tree {
        value,
        children: Vec::new(),
    });
    leaf.prop_recursive(6, 64, 4, |inner| {
        (any::<u32>(), prop::collection::vec(inner, 0..4))
            .prop_map(|(value, children)| Tree { value, children })
    })
}

fn list() -> impl Strategy<Value = List> {
    prop::collection::vec(any::<u8>(), 1..100).prop_map(|heads| {
        let mut iter = heads.into_iter().rev();
        let mut list = List {
            head: iter.next().expect("non-empty"),
            tail: None,
        };
        for head in iter {
            list = List {
                head,
                tail: Some(Box::new(list)),
            };
        }
        list
    })
}

fn a() -> impl Strategy<Value = A> {
    let leaf = any::<u16>().prop_map(|id| A { id, b: None });
    leaf.prop_recursive(5, 48, 3, |inner| {
        (
            any::<u16>(),
            any::<bool>(),
            prop::collection::vec(inner, 0..3),
        )
            .prop_map(|(id, flag, items)| A {
                id,
                b: Some(Box::new(B { flag, items })),
            })
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    any::<i32>()
        .prop_map(Expr::Lit)
        .prop_recursive(6, 64, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
                (inner.clone(), inner).prop_map(|(a, b)| Expr::Add(Box::new(a), Box::new(b))),
            ]
        })
}

proptest! {
    #[test]
    fn tree_round_trips(t in tree()) {
        let body = encode_body(&t);
        prop_assert_eq!(decode_body::<Tree>(&body), Ok(t.clone()));
        let mut buf = vec![0u8; 64 * 1024];
        let n = frame::encode_packet(&t, 1, &mut buf).expect("fits");
        let f = frame::decode_frame(&buf[..n], &FrameConfig::default()).expect("valid");
        prop_assert_eq!(f.decode_packet::<Tree>(), Ok(t));
    }

    #[test]
    fn list_round_trips(l in list()) {
        let body = encode_body(&l);
        prop_assert_eq!(decode_body::<List>(&body), Ok(l));
    }

    #[test]
    fn mutual_recursion_round_trips(v in a()) {
        let body = encode_body(&v);
        prop_assert_eq!(decode_body::<A>(&body), Ok(v));
    }

    #[test]
    fn expr_round_trips(e in expr()) {
        let body = encode_body(&e);
        prop_assert_eq!(decode_body::<Expr>(&body), Ok(e));
    }

    #[test]
    fn borrowed_menu_round_trips(labels in prop::collection::vec("[a-z]{0,32}", 1..8)) {
        let menu = Menu {
            label: &labels[0],
            items: labels[1..].iter().map(|l| Menu { label: l, items: vec![Menu { label: l, items: vec![] }] }).collect(),
        };
        let body = encode_body(&menu);
        prop_assert_eq!(decode_body::<Menu<'_>>(&body), Ok(menu));
    }

    #[test]
    fn truncated_recursive_bodies_are_errors(t in tree(), cut in any::<prop::sample::Index>()) {
        let body = encode_body(&t);
        let cut = cut.index(body.len());
        prop_assert!(decode_body::<Tree>(&body[..cut]).is_err());
    }
}
