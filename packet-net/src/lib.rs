//! # packet-net
//!
//! Networking for the *packet* protocol: TCP and UDP transports (blocking
//! and tokio), session servers with dispatch by packet type id, sealed
//! sessions with per-session keys. Re-exports all of [`packet_core`], so a
//! networked game needs this one dependency.
//!
//! Features: `crypto` and `tokio` (default), `tracing` (the servers'
//! log events for an operator: bound, stopped, sessions opened and ended
//! with their reasons, refusals, accept errors; never one per packet; see
//! [`server`](crate::server#logging)), and `derive`, which
//! `#[derive(Packet)]` and `#[derive(PacketSet)]` need:
//!
//! ```toml
//! packet-net = { version = "0.1", features = ["derive"] }
//! ```
//!
//! Without it rustc reports that `Packet` is "only a trait, without a
//! derive macro", without naming the feature.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs: each feature-gated item shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use packet_core::*;

/// Builder setters, `with_<field>(value) -> Self` (`const fn`s after
/// `[const]`, else `[]`), each documented by the doc comment given
/// before its `field: Type, with_field;` line.
macro_rules! setters {
    ([$($const:tt)?]) => {};
    ([$($const:tt)?] $(#[$doc:meta])* $field:ident: $ty:ty, $with:ident; $($rest:tt)*) => {
        $(#[$doc])*
        pub $($const)? fn $with(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }
        setters!([$($const)?] $($rest)*);
    };
}

mod guard;
#[macro_use]
mod log;
pub mod server;
mod session;
pub mod transport;

pub use session::DisconnectReason;

/// Internals for tests, benches and fuzz targets (not a stable API): the
/// session core and the connection buffers, reached from outside the
/// crate only through here (quinn-proto's `fuzzing` module does the
/// same).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::session::{Connection, Event, Lifecycle, Limits};
    pub use crate::transport::queue::{DatagramFlush, Inbox, Outbox, READ_CHUNK, WriteQueue};
    pub use crate::transport::security::{
        CLOSE_NOTICE_LEN, FINGERPRINT_HELLO_LEN, Halves, Handshake, Hello, Incoming, Opened,
        Opener, REFUSAL_LEN, SESSION_HELLO_LEN, Sealer, close_notice, fingerprint_hello, frame_in,
        refusal, session_hello,
    };
    use crate::transport::{Security, TransportConfig, security::SessionToken};
    use packet_core::frame::FrameConfig;

    /// The send side, receive side and client hello of one connection.
    pub fn halves(
        security: impl Security,
        frame: FrameConfig,
        datagrams: bool,
    ) -> (Sealer, Opener, Option<SessionToken>) {
        let h = security.halves(frame, None, datagrams);
        (h.sealer, h.opener, h.hello.map(|h| h.token))
    }

    /// A plaintext accepting end's receive side, requiring `fingerprint`
    /// in the hello when set.
    pub fn plain_server_opener(frame: &FrameConfig, fingerprint: Option<u64>) -> Opener {
        crate::transport::security::plain_server(frame, fingerprint).opener
    }

    /// Plaintext send and receive sides.
    pub fn plain(frame: &FrameConfig) -> (Sealer, Opener) {
        let h = crate::transport::security::plain(frame);
        (h.sealer, h.opener)
    }

    /// An inbox receiving through `opener`.
    pub fn inbox(frame: &FrameConfig, opener: Opener) -> Inbox {
        Inbox::new(frame, opener)
    }

    /// Hands the queued frames of `out` to `send` as datagrams, up to
    /// `max_segments` of one length per call (see the UDP servers).
    pub fn send_datagrams(
        out: &mut Outbox,
        max_segments: usize,
        send: impl FnMut(&[u8], usize) -> std::io::Result<()>,
    ) -> DatagramFlush {
        out.send_datagrams(max_segments, send)
    }

    /// The queue of `out`.
    pub fn queue(out: &mut Outbox) -> &mut WriteQueue {
        out.queue_mut()
    }

    /// One batched receive call on `socket`, as the UDP servers make it
    /// (`recvmmsg` through quinn-udp, where the OS has it): hands
    /// every datagram it got, with its source, to `each`; returns how
    /// many. Allocates a receive area per call (tests only).
    pub fn recv_batch(
        socket: &std::net::UdpSocket,
        each: impl FnMut(std::net::SocketAddr, &mut [u8]),
    ) -> std::io::Result<usize> {
        use crate::transport::batch::{RecvArea, UdpBatch};
        let batch = UdpBatch::new(socket.into())?;
        batch.recv(&mut RecvArea::new(), socket.into(), each)
    }

    /// The UDP servers' splitting of one receive call's slots into
    /// datagrams (`transport::batch::split_slots`): slot `i` of `bytes`
    /// (`slot_len` bytes each) as `slots[i]` describes it (source, bytes
    /// received, GRO stride); each datagram with its source to `each`;
    /// returns how many.
    pub fn split_slots(
        bytes: &mut [u8],
        slot_len: usize,
        slots: &[(std::net::SocketAddr, usize, usize)],
        each: impl FnMut(std::net::SocketAddr, &mut [u8]),
    ) -> usize {
        let metas: Vec<quinn_udp::RecvMeta> = slots
            .iter()
            .map(|&(addr, len, stride)| {
                let mut meta = quinn_udp::RecvMeta::default();
                (meta.addr, meta.len, meta.stride) = (addr, len, stride);
                meta
            })
            .collect();
        crate::transport::batch::split_slots(bytes, slot_len, slot_len, &metas, each)
    }

    pub use crate::server::udp::Endpoint as UdpEndpoint;
    #[cfg(feature = "crypto")]
    pub use crate::transport::mem::{
        MemDatagrams, MemIo, MemSocket, MemStream, MemUdp, MemUdpSocket,
    };

    /// Installs the send side a hello keyed.
    pub fn key_outbox(out: &mut Outbox, sealer: Sealer) {
        out.set_sealer(sealer);
    }

    /// An outbox for `config` sending through `sealer` (and the hello).
    pub fn outbox(config: &TransportConfig, sealer: Sealer, hello: Option<SessionToken>) -> Outbox {
        let hello = hello.map(|token| crate::transport::security::Hello {
            token,
            fingerprint: None,
        });
        Outbox::new(config, sealer, hello)
    }
}

// The crate README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
