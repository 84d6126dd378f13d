//! `Reader::take_str`'s validated window (one UTF-8 pass over up to 1 KiB
//! ahead, strings inside it cut out at character boundaries) against a
//! string-by-string reference: same strings, same errors, same bytes
//! consumed, whatever the strings, the binary bytes between them, where
//! invalid UTF-8 sits and where the input or a window ends.

use packet_core::codec::decode_str;
use packet_core::error::DecodeError;
use packet_core::{Decode, Reader};
use proptest::prelude::*;

/// One field of a body: raw bytes read with `take` (binary fields between
/// strings), one `u16`-prefixed string, or a `Vec<String>`.
#[derive(Debug, Clone)]
enum Part {
    Gap(Vec<u8>),
    Str(Vec<u8>),
    Strs(Vec<Vec<u8>>),
}

fn push_str(body: &mut Vec<u8>, s: &[u8]) {
    body.extend_from_slice(&(s.len() as u16).to_le_bytes());
    body.extend_from_slice(s);
}

fn body_of(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        match p {
            Part::Gap(g) => body.extend_from_slice(g),
            Part::Str(s) => push_str(&mut body, s),
            Part::Strs(v) => {
                body.extend_from_slice(&(v.len() as u16).to_le_bytes());
                for s in v {
                    push_str(&mut body, s);
                }
            }
        }
    }
    body
}

/// What each part decodes to, through `Reader` (window on).
fn decode(parts: &[Part], bytes: &[u8]) -> (Vec<Result<Vec<String>, DecodeError>>, usize) {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    for p in parts {
        let got = match p {
            Part::Gap(g) => r.take(g.len()).map(|_| Vec::new()),
            Part::Str(_) => String::decode(&mut r).map(|s| vec![s]),
            Part::Strs(_) => Vec::<String>::decode(&mut r),
        };
        let failed = got.is_err();
        out.push(got);
        if failed {
            break;
        }
    }
    (out, r.position())
}

/// The reference: lengths and `core::str::from_utf8` per string, by hand.
fn reference(parts: &[Part], bytes: &[u8]) -> (Vec<Result<Vec<String>, DecodeError>>, usize) {
    let mut pos = 0usize;
    let take = |pos: &mut usize, n: usize| -> Result<&[u8], DecodeError> {
        let remaining = bytes.len() - *pos;
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining,
            });
        }
        *pos += n;
        Ok(&bytes[*pos - n..*pos])
    };
    let one = |pos: &mut usize| -> Result<String, DecodeError> {
        let len = take(pos, 2)?;
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let s = take(pos, len)?;
        core::str::from_utf8(s)
            .map(String::from)
            .map_err(|e| DecodeError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            })
    };
    let mut out = Vec::new();
    for p in parts {
        let got = match p {
            Part::Gap(g) => take(&mut pos, g.len()).map(|_| Vec::new()),
            Part::Str(_) => one(&mut pos).map(|s| vec![s]),
            Part::Strs(_) => take(&mut pos, 2).and_then(|n| {
                let n = usize::from(u16::from_le_bytes([n[0], n[1]]));
                // A count the input cannot hold is refused up front.
                let remaining = bytes.len() - pos;
                if n > remaining {
                    return Err(DecodeError::UnexpectedEnd {
                        needed: n,
                        remaining,
                    });
                }
                (0..n).map(|_| one(&mut pos)).collect()
            }),
        };
        let failed = got.is_err();
        out.push(got);
        if failed {
            break;
        }
    }
    (out, pos)
}

/// String bytes: ASCII, multi-byte characters, invalid bytes, and long
/// runs that cross the 1 KiB window's end.
fn string_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-z:_]{0,24}".prop_map(String::into_bytes),
        2 => "[a-zé€😀]{0,12}".prop_map(String::into_bytes),
        1 => ("[a-z]{900,1100}", "[é€😀]{0,3}").prop_map(|(a, b)| (a + &b).into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => ("[a-zé€]{0,10}", any::<u8>(), 0usize..12).prop_map(|(s, bad, at)| {
            // One byte replaced: invalid somewhere, or a character split.
            let mut b = s.into_bytes();
            if !b.is_empty() {
                let at = at % b.len();
                b[at] = bad;
            }
            b
        }),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        3 => string_bytes().prop_map(Part::Str),
        1 => proptest::collection::vec(string_bytes(), 0..4).prop_map(Part::Strs),
        // Binary fields: ASCII (the window runs through them) or anything.
        1 => proptest::collection::vec(0u8..0x80, 0..40).prop_map(Part::Gap),
        2 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(Part::Gap),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn the_window_agrees_with_string_by_string(
        parts in proptest::collection::vec(part(), 1..24),
        cut in any::<prop::sample::Index>(),
        corrupt in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut body = body_of(&parts);
        if let Some((at, byte)) = corrupt && !body.is_empty() {
            let at = at.index(body.len());
            body[at] = byte;
        }
        prop_assert_eq!(decode(&parts, &body), reference(&parts, &body));
        let short = &body[..cut.index(body.len() + 1)];
        prop_assert_eq!(decode(&parts, short), reference(&parts, short));
    }
}

/// Hand-picked edges: a string whose last character straddles the end of
/// a window, one starting mid-character inside a window, and a window cut
/// short by the input.
#[test]
fn window_edges() {
    // 1,023 ASCII bytes then "é": the window from the first string's start
    // (1 KiB) ends inside "é", so the second string needs a new window.
    let first = "a".repeat(1019);
    let parts = [
        Part::Str(first.into_bytes()),
        Part::Str("é€x".as_bytes().to_vec()),
        Part::Str(b"tail".to_vec()),
    ];
    let body = body_of(&parts);
    assert_eq!(decode(&parts, &body), reference(&parts, &body));
    assert!(decode(&parts, &body).0.iter().all(Result::is_ok));
    // With a `u8` prefix a length byte can be a lead byte, so a valid
    // window can hold a string that starts, or ends, inside a character:
    // the same error as the string alone.
    let mut body = vec![2, b'a', b'b', 195, 0xa9];
    body.extend_from_slice(&[b'x'; 194]);
    let mut r = Reader::new(&body);
    assert_eq!(decode_str::<u8>(usize::MAX, &mut r), Ok("ab"));
    assert_eq!(
        decode_str::<u8>(usize::MAX, &mut r),
        Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
    );
    let body = [2, b'a', b'b', 1, 0xc3, 0xa9];
    let mut r = Reader::new(&body);
    assert_eq!(decode_str::<u8>(usize::MAX, &mut r), Ok("ab"));
    assert_eq!(
        decode_str::<u8>(usize::MAX, &mut r),
        Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
    );
    // A string cut short by the input: the length error, not UTF-8's.
    let body = [2, b'a', b'b', 5, b'c'];
    let mut r = Reader::new(&body);
    assert_eq!(decode_str::<u8>(usize::MAX, &mut r), Ok("ab"));
    assert_eq!(
        decode_str::<u8>(usize::MAX, &mut r),
        Err(DecodeError::UnexpectedEnd {
            needed: 5,
            remaining: 1
        })
    );
}
