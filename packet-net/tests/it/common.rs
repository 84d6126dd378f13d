//! Shared helpers of the networking integration tests.

use std::time::{Duration, Instant};

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Packet, Reader, Writer};

/// Type id the echo servers answer.
pub const ECHO: u16 = 0x0E01;

/// A hand-written packet with a borrowed field.
#[derive(Debug, PartialEq)]
pub struct Msg<'a> {
    pub client: u32,
    pub seq: u32,
    pub data: &'a [u8],
}

impl Encode for Msg<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        8 + self.data.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.client.encode(w)?;
        self.seq.encode(w)?;
        self.data.encode(w)
    }
}
impl<'de> Decode<'de> for Msg<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Msg {
            client: u32::decode(r)?,
            seq: u32::decode(r)?,
            data: <&[u8]>::decode(r)?,
        })
    }
}
impl Packet for Msg<'_> {
    const ID: u16 = ECHO;
}

/// The payload client `c` sends as message `s`: length and bytes vary.
pub fn payload(c: u32, s: u32, out: &mut Vec<u8>) {
    out.clear();
    let len = ((c as usize * 7 + s as usize * 13) % 300) + 1;
    out.extend((0..len).map(|i| (i as u32 ^ c.wrapping_mul(31) ^ s.wrapping_mul(7)) as u8));
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

/// The echo servers' router: decodes each `ECHO` frame as a [`Msg`] and
/// replies with it.
pub fn echo_router() -> packet_net::server::Router<()> {
    packet_net::server::Router::new().on_frame(ECHO, |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        ctx.reply(&m)
    })
}

/// An in-process login server: issues each client a fresh session token
/// with fresh keys, and gives the game server a key provider that hands
/// each token's keys out once (then forgets the token).
#[cfg(feature = "crypto")]
pub mod login {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::{Arc, Mutex};

    use packet_core::crypto::{ChannelKeys, SecretKey};
    use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};

    #[derive(Default)]
    pub struct Login {
        table: Mutex<HashMap<SessionToken, ChannelKeys>>,
        next: AtomicU8,
    }

    impl Login {
        pub fn new() -> Arc<Self> {
            Arc::new(Self::default())
        }

        /// A fresh token and keys (distinct per call; deterministic for
        /// the tests), registered for one session.
        pub fn issue(&self) -> (SessionToken, ClientSecurity) {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let token = SessionToken([n; 16]);
            let keys = || {
                ChannelKeys::new(
                    SecretKey::from_bytes([n; 32]),
                    SecretKey::from_bytes([n ^ 0x80; 32]),
                )
            };
            self.table.lock().unwrap().insert(token, keys());
            (token, ClientSecurity::new(token, keys()))
        }

        /// The key provider of a sealed server: each token's keys are
        /// handed out once.
        pub fn provider(self: &Arc<Self>) -> ServerSecurity {
            let me = self.clone();
            ServerSecurity::new(move |t| me.table.lock().unwrap().remove(t))
        }

        /// A client's first bytes on a stream, written by hand: the hello,
        /// then one sealed frame with `body`; returns their length.
        pub fn first_bytes(sec: ClientSecurity, body: &[u8], wire: &mut [u8]) -> usize {
            use packet_net::fuzzing;
            let (mut sealer, _, hello) = fuzzing::halves(sec, Default::default(), false);
            let hello = fuzzing::session_hello(&hello.unwrap());
            wire[..hello.len()].copy_from_slice(&hello);
            hello.len()
                + sealer
                    .seal_with(super::ECHO, &mut wire[hello.len()..], |w| w.put_bytes(body))
                    .unwrap()
        }

        /// The keys of session `token` (what an attacker who stole them
        /// would hold): a second client end of that session.
        pub fn stolen(token: SessionToken) -> ClientSecurity {
            let n = token.0[0];
            let keys = ChannelKeys::new(
                SecretKey::from_bytes([n; 32]),
                SecretKey::from_bytes([n ^ 0x80; 32]),
            );
            ClientSecurity::new(token, keys)
        }
    }
}

/// What a raw TCP client reads as the server ends its session: the close
/// notice (wire format §12), plain (`None`: the server closed without
/// one). Then the client closes its side, as the crate's streams do on a
/// notice, which ends the server's linger after it; and reads to the end.
pub fn read_close(s: &mut std::net::TcpStream) -> Option<packet_net::transport::CloseNotice> {
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 64];
    while got.len() < packet_net::fuzzing::CLOSE_NOTICE_LEN {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    while matches!(s.read(&mut b), Ok(n) if n > 0) {}
    if got.is_empty() {
        return None;
    }
    let f = packet_core::frame::Frame::parse(&got)
        .unwrap_or_else(|e| panic!("not one close notice: {got:02x?}: {e:?}"));
    let notice = packet_net::transport::CloseNotice::parse(f.type_id(), f.body());
    Some(notice.unwrap_or_else(|| panic!("not a close notice: {got:02x?}")))
}

/// [`read_close`] saw a protocol error's notice.
pub fn closed_for_protocol_error(s: &mut std::net::TcpStream) -> bool {
    use packet_net::transport::{CloseNotice, CloseReason};
    read_close(s) == Some(CloseNotice::new(CloseReason::ProtocolError))
}

/// A TCP server of either kind, driven from plain threads.
pub enum Tcp {
    Blocking(packet_net::server::blocking::ServerHandle<()>),
    #[cfg(feature = "tokio")]
    Tokio(
        tokio::runtime::Runtime,
        packet_net::server::tokio::ServerHandle<()>,
    ),
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Blocking,
    #[cfg(feature = "tokio")]
    Tokio,
}

pub const KINDS: &[Kind] = &[
    Kind::Blocking,
    #[cfg(feature = "tokio")]
    Kind::Tokio,
];

impl Tcp {
    pub fn start(
        kind: Kind,
        config: packet_net::server::ServerConfig,
        router: packet_net::server::Router<()>,
    ) -> Self {
        match kind {
            Kind::Blocking => {
                use packet_net::server::blocking::Server;
                Tcp::Blocking(Server::bind("127.0.0.1:0", config, router, ()).unwrap())
            }
            #[cfg(feature = "tokio")]
            Kind::Tokio => {
                use packet_net::server::tokio::Server;
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                let h = rt
                    .block_on(Server::bind("127.0.0.1:0", config, router, ()))
                    .unwrap();
                Tcp::Tokio(rt, h)
            }
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        match self {
            Tcp::Blocking(h) => h.local_addr(),
            #[cfg(feature = "tokio")]
            Tcp::Tokio(_, h) => h.local_addr(),
        }
    }

    pub fn sessions(&self) -> &std::sync::Arc<packet_net::server::Sessions<()>> {
        match self {
            Tcp::Blocking(h) => h.sessions(),
            #[cfg(feature = "tokio")]
            Tcp::Tokio(_, h) => h.sessions(),
        }
    }

    pub fn stats(&self) -> packet_net::server::StatsSnapshot {
        match self {
            Tcp::Blocking(h) => h.stats(),
            #[cfg(feature = "tokio")]
            Tcp::Tokio(_, h) => h.stats(),
        }
    }

    pub fn shutdown(self) {
        match self {
            Tcp::Blocking(h) => h.shutdown(),
            #[cfg(feature = "tokio")]
            Tcp::Tokio(rt, h) => rt.block_on(h.shutdown()),
        }
    }
}

/// One plaintext frame of `type_id`, sequence `seq` and `body` (at most
/// 228 bytes), as the wire carries it.
pub fn wire(type_id: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 256];
    let n = packet_core::frame::encode_raw(type_id, seq, body, &mut b).unwrap();
    b.truncate(n);
    b
}
