//! A recursive value nested deeper than a decoder takes: every send path
//! sizes its frame with `encoded_len`, which stops at the limit, and then
//! reports `EncodeError::TooDeep` as `PacketBuf::encode` does. Nothing is
//! sent, and however deep the value, no path recurses past the limit (a
//! 100,000-level chain on a 256 KiB stack used to overflow it and abort).

use packet_core::error::EncodeError;
use packet_core::{Packet, Reader};
use packet_net::transport::TransportError;
use packet_net::transport::blocking::UdpPacketSocket;

#[derive(Packet, Debug, PartialEq)]
#[packet(recursive)]
struct Node {
    v: u8,
    next: Option<Box<Node>>,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0B12)]
struct Chain {
    root: Node,
}

fn chain(boxes: usize) -> Chain {
    let mut n = Node { v: 0, next: None };
    for _ in 0..boxes {
        n = Node {
            v: 1,
            next: Some(Box::new(n)),
        };
    }
    Chain { root: n }
}

/// Takes a chain apart without std's recursive drop.
fn unchain(c: Chain) {
    let mut n = c.root;
    while let Some(next) = n.next.take() {
        n = *next;
    }
}

fn assert_too_deep(result: Result<(), TransportError>) {
    match result {
        Err(TransportError::Encode(e)) => assert_eq!(
            e,
            EncodeError::TooDeep {
                max: Reader::MAX_DEPTH as usize
            }
        ),
        other => panic!("expected TooDeep, got {other:?}"),
    }
}

#[test]
fn a_datagram_send_of_a_too_deep_value_is_an_error_on_a_small_stack() {
    let done = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let peer = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
            let mut s = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
            s.connect(peer.local_addr().unwrap()).unwrap();
            for boxes in [Reader::MAX_DEPTH as usize + 1, 100_000] {
                let deep = chain(boxes);
                assert_too_deep(s.send(&deep));
                assert_too_deep(s.send_to(&deep, peer.local_addr().unwrap()));
                unchain(deep);
            }
            // At the limit it goes out.
            let ok = chain(Reader::MAX_DEPTH as usize);
            s.send(&ok).unwrap();
            unchain(ok);
        })
        .unwrap()
        .join();
    assert!(done.is_ok(), "the small-stack thread panicked");
}

#[cfg(feature = "tokio")]
#[test]
fn the_codec_refuses_a_too_deep_value_and_writes_nothing() {
    use bytes::BytesMut;
    use packet_net::transport::tokio::PacketCodec;
    use tokio_util::codec::Encoder;
    let mut codec = PacketCodec::default();
    let mut out = BytesMut::new();
    let deep = chain(100_000);
    assert_too_deep(codec.encode(&deep, &mut out));
    assert!(out.is_empty());
    unchain(deep);
}
