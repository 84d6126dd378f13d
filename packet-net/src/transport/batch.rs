//! Batched datagram I/O for the UDP servers, through `quinn-udp`: many
//! datagrams per receive call (`recvmmsg`; a coalesced GRO buffer, should
//! the OS hand one over, split back into datagrams) and runs of
//! equal-size datagrams to one peer in one send call (GSO), where the OS
//! has them; one datagram per call elsewhere. The servers' sockets ask
//! for no GRO, nor (Linux) any other receive metadata (see
//! [`UdpBatch::new`]). Both UDP servers (blocking and tokio) use it; what
//! the datagrams mean is `server::udp`'s business.
//!
//! Allocates its receive area once; receiving and sending allocate
//! nothing.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;

use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};

/// Receive slots per call: as many as quinn-udp takes (32 on Linux,
/// where 1,000 datagrams a wake-up then take 32 calls instead of 64).
pub(crate) const RECV_SLOTS: usize = if quinn_udp::BATCH_SIZE < 32 {
    quinn_udp::BATCH_SIZE
} else {
    32
};

/// Bytes of one receive slot: the largest UDP payload, so a GRO buffer
/// (at most that much) or an over-long datagram arrives whole.
const SLOT_LEN: usize = 65_536;

/// Where one slot starts after the last: a cache line past its end, so
/// that the slots' first lines (where a small datagram lands) fall in
/// different cache sets. At a stride of 64 KiB every slot's first line
/// mapped to the same set of the L1 (and L2) cache, more of them than
/// the set has ways.
const SLOT_STRIDE: usize = SLOT_LEN + 64;

/// Most bytes one GSO send may carry (a UDP payload's limit over IPv4).
pub(crate) const MAX_SEND: usize = 65_507;

/// A UDP socket's batching state (what the OS offers, the options set).
pub(crate) struct UdpBatch(UdpSocketState);

/// Where [`UdpBatch::recv`] lands datagrams: allocated once.
pub(crate) struct RecvArea {
    bytes: Vec<u8>,
    metas: [RecvMeta; RECV_SLOTS],
}

impl RecvArea {
    pub(crate) fn new() -> Self {
        Self {
            bytes: vec![0; RECV_SLOTS * SLOT_STRIDE],
            metas: [RecvMeta::default(); RECV_SLOTS],
        }
    }
}

/// The receive buffer a UDP server asks for: 1,000 peers sending at
/// once overflow the usual 208 KiB default while the server sends a
/// broadcast. The OS may grant less (Linux: up to `net.core.rmem_max`).
pub(crate) const SERVER_RECV_BUFFER: usize = 4 << 20;

/// Splits the `received` bytes of one receive slot into its datagrams
/// and hands each to `each`, in order; returns how many. With GRO the
/// slot holds datagrams of `stride` bytes each, the last maybe shorter;
/// without, `stride` is the datagram's length (0 is taken the same way).
/// An empty datagram is one datagram: it is handed over like any other,
/// so the server counts and drops it as the unbatched path does.
pub(crate) fn split_datagrams(
    received: &mut [u8],
    stride: usize,
    mut each: impl FnMut(&mut [u8]),
) -> usize {
    if received.is_empty() {
        each(received);
        return 1;
    }
    let stride = if stride == 0 { received.len() } else { stride };
    // Counted as they go: a division per slot cost the UDP echo more.
    received.chunks_mut(stride).map(each).count()
}

/// Splits the slots that one receive call filled, slot `i` starting at
/// `i * stride` and holding at most `slot_len` bytes, as `metas` describe
/// them (slot `i` by `metas[i]`: its source, length and GRO stride), into
/// datagrams handed to `each` with their source, in order; returns how
/// many (see [`split_datagrams`]). A length past the slot is cut to it.
pub(crate) fn split_slots(
    bytes: &mut [u8],
    stride: usize,
    slot_len: usize,
    metas: &[RecvMeta],
    mut each: impl FnMut(SocketAddr, &mut [u8]),
) -> usize {
    let slots = bytes.chunks_mut(stride.max(1));
    let split = |(meta, slot): (&RecvMeta, &mut [u8])| {
        let len = meta.len.min(slot_len).min(slot.len());
        split_datagrams(&mut slot[..len], meta.stride, |d| each(meta.addr, d))
    };
    metas.iter().zip(slots).map(split).sum()
}

impl UdpBatch {
    /// Batching for `socket` (made non-blocking).
    ///
    /// On Linux the batching state is made on a scratch socket of the
    /// same family, not on `socket`: quinn-udp's `UdpSocketState::new`
    /// switches on receive metadata the servers never read (the
    /// destination address `IP_PKTINFO`, ECN `IP_RECVTOS`, timestamps
    /// `SO_TIMESTAMPNS`, GRO). The kernel pays for each on every datagram
    /// (the timestamps on every packet the machine receives, while any
    /// socket asks for them): 4-5 % of the game tick benchmark's paced
    /// UDP server's CPU. What the state learns (whether the kernel has
    /// GSO) is the OS's, not the socket's, and receiving and sending
    /// through it work on any UDP socket; without GRO each datagram
    /// arrives in a slot of its own. Of quinn-udp's options `socket`
    /// keeps the one that matters to sending: path MTU probing
    /// (`IP_PMTUDISC_PROBE`, the don't-fragment bit), as before, which
    /// also spares the kernel an IP identifier per datagram. (IPv6's
    /// `IPV6_DONTFRAG` has no safe setter here: over IPv6 a datagram
    /// above the interface's MTU is now fragmented, not refused.)
    pub(crate) fn new(socket: socket2::SockRef<'_>) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        #[cfg(target_os = "linux")]
        {
            use rustix::net::sockopt::{
                Ipv4PathMtuDiscovery, Ipv6PathMtuDiscovery, set_ip_mtu_discover,
                set_ipv6_mtu_discover,
            };
            let domain = socket.local_addr()?.domain();
            // Best effort, as quinn-udp's: IPv4's on an IPv6 socket
            // covers its IPv4-mapped peers where the OS takes it.
            let _ = set_ip_mtu_discover(&*socket, Ipv4PathMtuDiscovery::PROBE);
            if domain == socket2::Domain::IPV6 {
                let _ = set_ipv6_mtu_discover(&*socket, Ipv6PathMtuDiscovery::PROBE);
            }
            let scratch = socket2::Socket::new(domain, socket2::Type::DGRAM, None)?;
            Ok(Self(UdpSocketState::new((&scratch).into())?))
        }
        #[cfg(not(target_os = "linux"))]
        Ok(Self(UdpSocketState::new((&*socket).into())?))
    }

    /// [`UdpBatch::new`] for a server's `socket`, which first asks for
    /// [`SERVER_RECV_BUFFER`] bytes of receive buffer, best effort (a
    /// smaller buffer still works).
    pub(crate) fn server(socket: socket2::SockRef<'_>) -> io::Result<Self> {
        if socket
            .recv_buffer_size()
            .is_ok_and(|n| n < SERVER_RECV_BUFFER)
        {
            let _ = socket.set_recv_buffer_size(SERVER_RECV_BUFFER);
        }
        Self::new(socket)
    }

    /// Most datagrams one [`UdpBatch::send`] may carry.
    pub(crate) fn max_segments(&self) -> usize {
        self.0.max_gso_segments()
    }

    /// One receive call into `area`: hands every datagram it got, with
    /// its source, to `each`; returns how many, or the socket's error
    /// (`WouldBlock` when none was waiting).
    pub(crate) fn recv(
        &self,
        area: &mut RecvArea,
        socket: UdpSockRef<'_>,
        each: impl FnMut(SocketAddr, &mut [u8]),
    ) -> io::Result<usize> {
        let mut slots = area.bytes.chunks_mut(SLOT_STRIDE);
        let mut iovs: [IoSliceMut<'_>; RECV_SLOTS] = std::array::from_fn(|_| {
            IoSliceMut::new(&mut slots.next().expect("RECV_SLOTS slots")[..SLOT_LEN])
        });
        let filled = self.0.recv(socket, &mut iovs, &mut area.metas)?;
        Ok(split_slots(
            &mut area.bytes,
            SLOT_STRIDE,
            SLOT_LEN,
            &area.metas[..filled],
            each,
        ))
    }

    /// Sends `contents` to `to`: one datagram, or (GSO) datagrams of
    /// `segment` bytes each, the last one possibly shorter.
    pub(crate) fn send(
        &self,
        socket: UdpSockRef<'_>,
        to: SocketAddr,
        contents: &[u8],
        segment: usize,
    ) -> io::Result<()> {
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents,
            segment_size: (contents.len() > segment).then_some(segment),
            src_ip: None,
        };
        self.0.try_send(socket, &transmit)
    }
}

/// Whether [`SendBatch::send`] sends many datagrams per call here
/// (`sendmmsg`, Linux); elsewhere the servers send a peer's datagrams
/// per call ([`UdpBatch::send`]).
pub(crate) const SEND_MANY: bool = cfg!(target_os = "linux");

/// Datagrams one [`SendBatch`] holds (one `sendmmsg` call).
pub(crate) const SEND_SLOTS: usize = 64;

/// Bytes one [`SendBatch`] holds: room for any one datagram.
const SEND_BYTES: usize = 128 << 10;
const _: () = assert!(SEND_BYTES >= MAX_SEND);

/// Datagrams to any destinations gathered for one send call
/// (`sendmmsg`): copies of their bytes in one buffer, where each goes
/// and whose it is (a tag the caller gives: the UDP server's peer). Allocated once ([`SendBatch::new`]); gathering and sending
/// allocate nothing.
#[derive(Debug, Default)]
pub(crate) struct SendBatch {
    bytes: Vec<u8>,
    /// Destination, start and end in `bytes`, and tag of each datagram.
    msgs: Vec<(SocketAddr, usize, usize, usize)>,
    slots: usize,
}

impl SendBatch {
    /// A batch of [`SEND_SLOTS`] datagrams.
    pub(crate) fn new() -> Self {
        Self::with_room(SEND_SLOTS, SEND_BYTES)
    }

    /// A batch of at most `slots` datagrams and `bytes` bytes (tests).
    pub(crate) fn with_room(slots: usize, bytes: usize) -> Self {
        let slots = slots.clamp(1, SEND_SLOTS);
        Self {
            bytes: Vec::with_capacity(bytes),
            msgs: Vec::with_capacity(slots),
            slots,
        }
    }

    /// Datagrams gathered.
    pub(crate) fn len(&self) -> usize {
        self.msgs.len()
    }

    /// Forgets what was gathered (keeps the allocation).
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.msgs.clear();
    }

    /// Gathers a copy of `datagram` for `to`, tagged `tag`; `false`
    /// (nothing gathered) when the batch has no room for it. An empty
    /// batch takes any datagram.
    pub(crate) fn push(&mut self, to: SocketAddr, tag: usize, datagram: &[u8]) -> bool {
        let start = self.bytes.len();
        let fits = start + datagram.len() <= self.bytes.capacity();
        if self.msgs.len() >= self.slots || !(fits || self.msgs.is_empty()) {
            return false;
        }
        self.bytes.extend_from_slice(datagram);
        self.msgs.push((to, start, self.bytes.len(), tag));
        true
    }

    /// The `i`th datagram gathered, its destination and its tag.
    pub(crate) fn get(&self, i: usize) -> (SocketAddr, usize, &[u8]) {
        let (to, start, end, tag) = self.msgs[i];
        (to, tag, &self.bytes[start..end])
    }

    /// Sends the datagrams gathered from the `from`th on, in one call
    /// (`sendmmsg`): how many left (the first ones, at least one), or
    /// the first one's error (`WouldBlock` when the socket is full).
    #[cfg(target_os = "linux")]
    pub(crate) fn send(&self, socket: socket2::SockRef<'_>, from: usize) -> io::Result<usize> {
        let msgs = &self.msgs[from.min(self.msgs.len())..];
        // The headers are built on the stack, as many as needed rounded up
        // to a few sizes: 64 of them cost more than the system call when
        // a sweep has a datagram or two to send.
        match msgs.len() {
            0 => Ok(0),
            1 => self.send_up_to::<1>(socket, msgs),
            2..=8 => self.send_up_to::<8>(socket, msgs),
            _ => self.send_up_to::<SEND_SLOTS>(socket, msgs),
        }
    }

    /// [`SendBatch::send`] of at most `K` of `msgs` (not empty).
    #[cfg(target_os = "linux")]
    fn send_up_to<const K: usize>(
        &self,
        socket: socket2::SockRef<'_>,
        msgs: &[(SocketAddr, usize, usize, usize)],
    ) -> io::Result<usize> {
        use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny, sendmmsg};
        use std::io::IoSlice;
        let first = msgs[0].0;
        let n = msgs.len().min(K);
        // On the stack: nothing allocated per call.
        let addrs: [SocketAddrAny; K] =
            std::array::from_fn(|i| msgs.get(i).map_or(first, |m| m.0).into());
        let iovs: [[IoSlice<'_>; 1]; K] = std::array::from_fn(|i| {
            [IoSlice::new(
                msgs.get(i)
                    .map_or(&[][..], |&(_, s, e, _)| &self.bytes[s..e]),
            )]
        });
        let mut controls: [SendAncillaryBuffer<'_, '_, '_>; K] =
            std::array::from_fn(|_| SendAncillaryBuffer::default());
        let mut controls = controls.iter_mut();
        let mut hdrs: [MMsgHdr<'_>; K] = std::array::from_fn(|i| {
            MMsgHdr::new_with_addr(&addrs[i], &iovs[i], controls.next().expect("K"))
        });
        Ok(sendmmsg(&*socket, &mut hdrs[..n], SendFlags::empty())?)
    }

    /// Where the OS has no `sendmmsg`: never called ([`SEND_MANY`]).
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn send(&self, _socket: socket2::SockRef<'_>, _from: usize) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};

    use rustix::net::sockopt::{
        Ipv4PathMtuDiscovery, Ipv6PathMtuDiscovery, ip_mtu_discover, ip_recvtos, ipv6_mtu_discover,
    };

    use super::*;

    /// Receives through `batch` until `n` datagrams came (or 5 s).
    fn recv_n(batch: &UdpBatch, socket: &UdpSocket, n: usize) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut area = RecvArea::new();
        let mut got = Vec::new();
        let give_up = Instant::now() + Duration::from_secs(5);
        while got.len() < n && Instant::now() < give_up {
            let each = |from, d: &mut [u8]| got.push((from, d.to_vec()));
            match batch.recv(&mut area, socket.into(), each) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("receive failed: {e}"),
            }
        }
        got
    }

    /// A server's socket: non-blocking, none of quinn-udp's receive
    /// options (each costs the kernel work per datagram), the
    /// don't-fragment setting it had with them; datagrams go both ways.
    #[test]
    fn a_server_socket_asks_for_no_receive_metadata() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let batch = UdpBatch::new((&server).into()).unwrap();
        assert!(!ip_recvtos(&server).unwrap());
        assert_eq!(
            ip_mtu_discover(&server).unwrap(),
            Ipv4PathMtuDiscovery::PROBE
        );
        let mut area = RecvArea::new();
        let nothing = batch.recv(&mut area, (&server).into(), |_, _| panic!("nothing sent"));
        assert_eq!(nothing.unwrap_err().kind(), io::ErrorKind::WouldBlock);

        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.send_to(b"in", server.local_addr().unwrap()).unwrap();
        let from = client.local_addr().unwrap();
        assert_eq!(recv_n(&batch, &server, 1), vec![(from, b"in".to_vec())]);
        // GSO where the kernel has it: two datagrams in one send.
        let segment = if batch.max_segments() > 1 { 3 } else { 6 };
        batch
            .send((&server).into(), from, b"outout", segment)
            .unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0; 16];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &b"outout"[..segment]);
    }

    /// The same over IPv6, where the machine has it.
    #[test]
    fn an_ipv6_server_socket_works_without_receive_metadata() {
        let Ok(server) = UdpSocket::bind("[::1]:0") else {
            return; // no IPv6 loopback here
        };
        let batch = UdpBatch::new((&server).into()).unwrap();
        assert_eq!(
            ipv6_mtu_discover(&server).unwrap(),
            Ipv6PathMtuDiscovery::PROBE
        );
        let client = UdpSocket::bind("[::1]:0").unwrap();
        client
            .send_to(b"in6", server.local_addr().unwrap())
            .unwrap();
        let from = client.local_addr().unwrap();
        assert_eq!(recv_n(&batch, &server, 1), vec![(from, b"in6".to_vec())]);
        batch.send((&server).into(), from, b"out6", 4).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0; 16];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"out6");
    }
}
