//! The client UDP socket's shared methods (`socket_methods!` in
//! packet-net's `transport/socket.rs`, over the `DatagramChannel` of
//! `transport/datagram.rs`: `send_with` with the pending hello,
//! `recv_from` / `recv_from_in` / `recv` with their open-and-count loop)
//! over an in-memory network (`packet_net::fuzzing::MemUdpSocket`: a
//! `PacketSocket` with the blocking socket's primitives). The input picks
//! plaintext or sealed, a protocol fingerprint or none, then up to 150
//! steps: garbage datagrams of any length (longer than the receive buffer
//! too, cut as a UDP socket cuts them), plaintext frames of any type id,
//! refusals naming this or another fingerprint, the server's own frames
//! (sealed: by a server end keyed with the client's hello) delivered late,
//! twice or with a byte flipped, sends, and receives of each kind.
//!
//! Properties beyond "no panic, no hang":
//! - every datagram the socket reads is counted once, received or
//!   dropped (`UdpStats`);
//! - plaintext, a frame comes back exactly when the datagram (as the
//!   receive buffer holds it) is a valid frame, equal to it, except a
//!   refusal-shaped one (wire format §11.5: never handed to the
//!   application; dropped outside the refusal's window); sealed, only
//!   the server's own unchanged datagrams come back, each at most once and
//!   equal to what was sealed, and every one of them that was not yet
//!   received does come back (none is dropped);
//! - a receive fails only when nothing is waiting (`WouldBlock`), or with
//!   the refusal's `ProtocolMismatch` (this client's fingerprint, the
//!   refusal's) while a client with a fingerprint has accepted nothing,
//!   or with a close notice's `ClosedByServer` (wire format §12: a plain
//!   one plaintext, or sealed before the server's first authenticated
//!   datagram; the server's own sealed one);
//! - a client that has a hello (sealed, or a fingerprint) sends it before
//!   each frame until a datagram from the server is accepted, then never;
//!   every frame it sends opens at the server end, equal to what was sent.
#![no_main]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::frame::{self, FrameConfig};
use packet_fuzz::mock::arb_frame;
use packet_net::fuzzing::{
    self, MemDatagrams, MemUdpSocket, Opened, Opener, Sealer, fingerprint_hello, frame_in, refusal,
    session_hello,
};
use packet_net::transport::{
    ClientSecurity, ServerSecurity, SessionToken, TransportConfig, TransportError,
};

const MAX_FRAME: u32 = 512;
const TOKEN: SessionToken = SessionToken([7; 16]);
const FP: u64 = 1;

fn keys() -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    )
}

/// A datagram in flight: its bytes, its source, and which of the
/// server's sealed datagrams it is, unchanged (`None`: anything else).
struct Datagram {
    bytes: Vec<u8>,
    from: SocketAddr,
    server: Option<usize>,
}

#[derive(Default)]
struct Net {
    inbox: VecDeque<Datagram>,
    /// What the socket sent, in order.
    sent: Vec<Vec<u8>>,
    /// Datagrams the socket read: how many, and those of the current
    /// receive (bytes and tag).
    consumed: u64,
    this_recv: Vec<(Vec<u8>, Option<usize>)>,
}

struct Shared(Rc<RefCell<Net>>);

impl MemDatagrams for Shared {
    fn send(&mut self, datagram: &[u8], _: Option<SocketAddr>) -> io::Result<usize> {
        self.0.borrow_mut().sent.push(datagram.to_vec());
        Ok(datagram.len())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut net = self.0.borrow_mut();
        let Some(d) = net.inbox.pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = d.bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&d.bytes[..n]);
        net.consumed += 1;
        net.this_recv.push((d.bytes[..n].to_vec(), d.server));
        Ok((n, d.from))
    }
}

fn server_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9))
}

/// A server's sealed datagram: its bytes, type id, body, whether the
/// client returned it yet.
struct Sealed {
    bytes: Vec<u8>,
    type_id: u16,
    body: Vec<u8>,
    received: bool,
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let sealed = u.arbitrary::<bool>()?;
    let fingerprint = u.arbitrary::<bool>()?.then_some(FP);
    let frame_config = FrameConfig::default().with_max_frame_len(MAX_FRAME);
    let mut config = TransportConfig::new().with_frame(frame_config);
    if let Some(fp) = fingerprint {
        config = config.with_fingerprint(fp);
    }
    let net = Rc::new(RefCell::new(Net::default()));
    let mut socket = MemUdpSocket::new(Shared(net.clone()), config);
    // The server end: sealed, keyed by the client's hello (any form).
    let (mut server_sealer, mut server_opener): (Option<Sealer>, Opener) = if sealed {
        socket = socket.sealed(ClientSecurity::new(TOKEN, keys()));
        let security = ServerSecurity::new(|t: &SessionToken| (*t == TOKEN).then(keys));
        let (_, mut opener, _) = fuzzing::halves(security, frame_config, true);
        let mut hello = session_hello(&TOKEN);
        let Ok(Opened::Keyed(h)) = opener.open_datagram(&mut hello, &frame_config) else {
            panic!("the server end refused the client's hello");
        };
        (h.sealer, opener)
    } else {
        (None, fuzzing::plain(&frame_config).1)
    };
    let hello: Option<Vec<u8>> = match (sealed, fingerprint) {
        (true, None) => Some(session_hello(&TOKEN).to_vec()),
        (true, Some(fp)) => Some(fingerprint_hello(&TOKEN, fp).to_vec()),
        (false, Some(fp)) => Some(fingerprint_hello(&SessionToken::PLAINTEXT, fp).to_vec()),
        (false, None) => None,
    };
    let recv_len = socket.new_recv_buf().len();
    let mut own_buf = socket.new_recv_buf();
    let mut server_sent: Vec<Sealed> = Vec::new();
    let mut accepted_any = false;

    for _ in 0..u.int_in_range(0..=150usize)? {
        match u.int_in_range(0..=8u8)? {
            0 => {
                let len = match u.int_in_range(0..=3u8)? {
                    0 => 0,
                    1 => recv_len + u.int_in_range(0..=64usize)?,
                    _ => u.int_in_range(0..=recv_len)?,
                };
                let mut bytes = vec![0; len];
                u.fill_buffer(&mut bytes)?;
                net.borrow_mut().inbox.push_back(Datagram {
                    bytes,
                    from: server_addr(),
                    server: None,
                });
            }
            1 => {
                let type_id: u16 = match u.int_in_range(0..=2u8)? {
                    0 => packet_net::transport::SESSION_HELLO_TYPE,
                    1 => u.int_in_range(1..=4)?,
                    _ => u.arbitrary()?,
                };
                let Some(b) = arb_frame(u, type_id)? else {
                    continue;
                };
                net.borrow_mut().inbox.push_back(Datagram {
                    bytes: b,
                    from: server_addr(),
                    server: None,
                });
            }
            2 => {
                let fp = u.int_in_range(0..=2u64)?;
                net.borrow_mut().inbox.push_back(Datagram {
                    bytes: refusal(fp).to_vec(),
                    from: server_addr(),
                    server: None,
                });
            }
            3 if server_sent.len() < 400 => {
                // The server sends a frame (plaintext: one more valid frame).
                let type_id = u.int_in_range(1..=4u16)?;
                let body: Vec<u8> = u.arbitrary::<Vec<u8>>()?.into_iter().take(200).collect();
                let mut b = vec![0u8; MAX_FRAME as usize];
                let n = match &mut server_sealer {
                    Some(s) => s.seal_with(type_id, &mut b, |w| w.put_bytes(&body)),
                    None => frame::encode_raw(type_id, 0, &body, &mut b).map_err(Into::into),
                };
                let n = n.expect("a frame that fits");
                b.truncate(n);
                server_sent.push(Sealed {
                    bytes: b,
                    type_id,
                    body,
                    received: false,
                });
            }
            4 | 5 if !server_sent.is_empty() => {
                // Delivered (late, again), or with a byte flipped.
                let i = u.choose_index(server_sent.len())?;
                let mut bytes = server_sent[i].bytes.clone();
                let flip = u.ratio(1, 4)?;
                if flip {
                    let at = u.choose_index(bytes.len())?;
                    bytes[at] ^= u.int_in_range(1..=255u8)?;
                }
                net.borrow_mut().inbox.push_back(Datagram {
                    bytes,
                    from: server_addr(),
                    server: (sealed && !flip).then_some(i),
                });
            }
            6 => {
                let type_id = u.int_in_range(1..=4u16)?;
                let body: Vec<u8> = u.arbitrary::<Vec<u8>>()?.into_iter().take(200).collect();
                let before = net.borrow().sent.len();
                socket
                    .send_raw(type_id, &body)
                    .expect("a send to the memory network");
                let net = net.borrow();
                let sent = &net.sent[before..];
                let pending = hello.as_ref().filter(|_| !accepted_any);
                assert_eq!(
                    sent.len(),
                    1 + usize::from(pending.is_some()),
                    "datagrams per send (hello pending: {})",
                    pending.is_some()
                );
                if let Some(h) = pending {
                    assert_eq!(&sent[0], h, "the hello sent");
                }
                let mut frame = sent[sent.len() - 1].clone();
                match server_opener.open_datagram(&mut frame, &frame_config) {
                    Ok(Opened::Frame(h)) => {
                        let f = frame_in(h, &frame);
                        assert_eq!((f.type_id(), f.body()), (type_id, &body[..]));
                    }
                    other => panic!("the server end could not open a frame sent: {other:?}"),
                }
            }
            _ => {
                // A receive of some kind, then the checks.
                let stats_before = socket.stats();
                net.borrow_mut().this_recv.clear();
                let kind = u.int_in_range(0..=2u8)?;
                let outcome: std::result::Result<(u16, Vec<u8>), TransportError> = match kind {
                    0 => socket
                        .recv_from()
                        .map(|(f, _)| (f.type_id(), f.body().to_vec())),
                    1 => socket
                        .recv_from_in(&mut own_buf)
                        .map(|(f, _)| (f.type_id(), f.body().to_vec())),
                    _ => socket.recv().map(|f| (f.type_id(), f.body().to_vec())),
                };
                let mut read = std::mem::take(&mut net.borrow_mut().this_recv);
                let stats = socket.stats();
                assert_eq!(
                    (stats.received + stats.dropped)
                        - (stats_before.received + stats_before.dropped),
                    read.len() as u64,
                    "datagrams read vs counted"
                );
                // The datagram that ended the receive, if any.
                let last = match &outcome {
                    Ok(_)
                    | Err(TransportError::ProtocolMismatch(_))
                    | Err(TransportError::ClosedByServer(_)) => {
                        Some(read.pop().expect("a datagram read"))
                    }
                    Err(TransportError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        assert!(
                            net.borrow().inbox.is_empty(),
                            "WouldBlock with datagrams waiting"
                        );
                        None
                    }
                    Err(e) => panic!("a receive failed: {e:?}"),
                };
                // Every datagram before it was dropped: rightly so.
                for (bytes, server) in &read {
                    if let Some(i) = server {
                        assert!(
                            server_sent[*i].received,
                            "the server's datagram {i} was dropped"
                        );
                    }
                    if !sealed {
                        // Wire format §11.5: outside the refusal's window
                        // (no fingerprint, or the server already
                        // answered) a refusal-shaped frame is invalid and
                        // dropped; every other valid frame comes back.
                        let stray_refusal = (fingerprint.is_none() || accepted_any)
                            && is_refusal_shaped(bytes, &frame_config);
                        assert!(
                            frame::decode_frame(bytes, &frame_config).is_err() || stray_refusal,
                            "a valid plaintext frame was dropped: {bytes:?}"
                        );
                    }
                }
                match (outcome, last) {
                    (Ok((type_id, body)), Some((bytes, server))) => {
                        if sealed {
                            let i = server.expect("a sealed frame not the server's came back");
                            let s = &mut server_sent[i];
                            assert!(!s.received, "the server's datagram {i} came back twice");
                            s.received = true;
                            assert_eq!((type_id, &body), (s.type_id, &s.body));
                        } else {
                            let f = frame::decode_frame(&bytes, &frame_config)
                                .expect("an invalid datagram came back as a frame");
                            assert!(
                                !is_refusal_shaped(&bytes, &frame_config),
                                "a refusal-shaped frame reached the application"
                            );
                            assert_eq!((type_id, &body[..]), (f.type_id(), f.body()));
                        }
                        accepted_any = true;
                    }
                    (Err(TransportError::ClosedByServer(n)), Some((bytes, server))) => {
                        // Wire format §12: a close notice is reported,
                        // never handed out, and changes nothing.
                        match server {
                            // Sealed, the server's own: authenticated.
                            Some(i) => {
                                assert!(sealed);
                                let s = &mut server_sent[i];
                                assert!(!s.received, "the server's datagram {i} came back twice");
                                s.received = true;
                                assert_eq!(
                                    (s.type_id, &s.body[..]),
                                    (packet_net::transport::SESSION_HELLO_TYPE, &n.body()[..])
                                );
                            }
                            // A plain one: plaintext, or sealed before the
                            // server's first authenticated datagram.
                            None => {
                                assert!(!sealed || !accepted_any, "a plain notice believed late");
                                let f = frame::decode_frame(&bytes, &frame_config)
                                    .expect("a notice from an invalid frame");
                                assert!(!f.header().is_sealed());
                                assert_eq!(f.type_id(), packet_net::transport::SESSION_HELLO_TYPE);
                                assert_eq!(f.body(), n.body(), "a notice from no notice");
                            }
                        }
                    }
                    (Err(TransportError::ProtocolMismatch(m)), Some((bytes, server))) => {
                        assert!(server.is_none());
                        assert_eq!(
                            Some(m.client),
                            fingerprint,
                            "a mismatch without a fingerprint"
                        );
                        assert!(!accepted_any, "a refusal after the server answered");
                        // Wire format §11.5: any valid plain frame of
                        // type 0xFFFF with an 8-byte body (the sequence
                        // is not looked at), carrying the server's.
                        let f = frame::decode_frame(&bytes, &frame_config)
                            .expect("a mismatch from an invalid frame");
                        assert!(!f.header().is_sealed(), "a mismatch from a sealed frame");
                        assert_eq!(f.type_id(), packet_net::transport::SESSION_HELLO_TYPE);
                        assert_eq!(
                            f.body(),
                            m.server.to_le_bytes(),
                            "a mismatch from no refusal"
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// A valid plain frame of the session hello's type with an 8-byte body:
/// the shape of a refusal (wire format §11.5).
fn is_refusal_shaped(bytes: &[u8], config: &FrameConfig) -> bool {
    frame::decode_frame(bytes, config).is_ok_and(|f| {
        !f.header().is_sealed()
            && f.type_id() == packet_net::transport::SESSION_HELLO_TYPE
            && f.body().len() == 8
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
