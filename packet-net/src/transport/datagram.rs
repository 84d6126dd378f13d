//! The sans-I/O state of a UDP packet socket (one frame per datagram):
//! [`DatagramChannel`]. The blocking and tokio sockets wrap one and add
//! only the `send`/`recv` calls.

use std::io;
use std::vec::Vec;

use packet_core::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::{Frame, Header};

use super::queue::Outbox;
use super::security::{Halves, Hello, HelloBytes, Opened, Opener, frame_in};
use super::{TransportConfig, TransportError, UdpStats};

/// One datagram socket's state: a one-datagram outbox with its send side,
/// the receive side, a receive buffer and the counters.
#[derive(Debug)]
pub(crate) struct DatagramChannel {
    pub(crate) config: TransportConfig,
    out: Outbox,
    opener: Opener,
    /// The channel's own receive buffer (receive into it, then call
    /// [`DatagramChannel::open_received`]).
    pub(crate) recv_buf: Vec<u8>,
    pub(crate) stats: UdpStats,
    /// A sealed client's session token: its hello is sent before every
    /// datagram until the first authenticated datagram from the server
    /// shows the server has it (a lost hello is resent).
    hello: Option<Hello>,
}

impl DatagramChannel {
    /// A channel for `config` (its maximum frame bounds each datagram).
    pub(crate) fn new(config: TransportConfig, halves: Halves) -> Self {
        let max = config.frame.max_frame_len() as usize;
        // One frame at a time: the queue holds exactly one maximum frame.
        let one = config.with_write_queue_limit(max);
        Self {
            config,
            out: Outbox::new(&one, halves.sealer.for_datagrams(), None),
            opener: halves.opener,
            // One byte more than the largest frame, so that an over-long
            // datagram shows up as trailing bytes instead of being cut to
            // a plausible size.
            recv_buf: std::vec![0; max + 4],
            stats: UdpStats::default(),
            hello: halves.hello,
        }
    }

    /// The session hello datagram to send before the next frame (a
    /// sealed client), until the first authenticated datagram from the
    /// server arrives: UDP may lose the hello, and every sealed datagram
    /// the server gets before it is dropped. The server ignores the
    /// duplicates (`docs/wire-format.md` §7.3).
    pub(crate) fn pending_hello(&self) -> Option<HelloBytes> {
        self.hello.as_ref().map(Hello::bytes)
    }

    /// A receive buffer big enough for any datagram this channel accepts.
    pub(crate) fn new_recv_buf(&self) -> Vec<u8> {
        std::vec![0; self.recv_buf.len()]
    }

    /// Encodes one frame whose body `body` writes and returns the datagram
    /// to send; then report the send with [`DatagramChannel::sent`].
    pub(crate) fn encode_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<&[u8], TransportError> {
        self.out.queue_mut().clear();
        self.out.queue_with(type_id, max_body, body)?;
        Ok(self.out.queue_ref().pending())
    }

    /// Records the outcome of sending the datagram from
    /// [`DatagramChannel::encode_with`] (a short send is `WriteZero`).
    pub(crate) fn sent(&mut self, result: io::Result<usize>) -> Result<(), TransportError> {
        let len = self.out.len();
        self.out.queue_mut().clear();
        if result? != len {
            return Err(io::Error::from(io::ErrorKind::WriteZero).into());
        }
        self.stats.sent += 1;
        Ok(())
    }

    /// When a receive started now must end (the read timeout).
    pub(crate) fn read_deadline(&self) -> Option<std::time::Instant> {
        (self.config.read_timeout).map(|t| std::time::Instant::now() + t)
    }

    /// Validates (and, sealed, opens) a datagram of `len` bytes in the
    /// channel's own receive buffer; `None` (counted as dropped) when it
    /// is not exactly one valid frame. The server's refusal of our hello
    /// (wire format §11.5) and a close notice the opener believes (§12)
    /// are the errors: they change nothing here (the hello stays
    /// pending), they only tell the caller why the session will not start
    /// or has ended.
    pub(crate) fn open_received(&mut self, len: usize) -> Result<Option<Header>, TransportError> {
        let len = len.min(self.recv_buf.len());
        let opened = self
            .opener
            .open_datagram(&mut self.recv_buf[..len], &self.config.frame);
        self.count(opened)
    }

    /// Like [`DatagramChannel::open_received`] for a datagram in another
    /// buffer.
    pub(crate) fn open(&mut self, datagram: &mut [u8]) -> Result<Option<Header>, TransportError> {
        let opened = self.opener.open_datagram(datagram, &self.config.frame);
        self.count(opened)
    }

    fn count(
        &mut self,
        opened: Result<Opened, TransportError>,
    ) -> Result<Option<Header>, TransportError> {
        if let Ok(Opened::Frame(header)) = opened {
            // A client stops resending its hello once a datagram from the
            // server is accepted (sealed: authenticates).
            self.hello = None;
            self.stats.received += 1;
            return Ok(Some(header));
        }
        // Anything else is counted as dropped. The refusal (§11.5) or a
        // close notice the opener believes (§12) is news for the caller,
        // never a frame for it, and changes no state here.
        self.stats.dropped += 1;
        match opened {
            Err(e @ (TransportError::ProtocolMismatch(_) | TransportError::ClosedByServer(_))) => {
                Err(e)
            }
            _ => Ok(None),
        }
    }

    /// The frame [`DatagramChannel::open_received`] accepted, borrowed
    /// from the receive buffer.
    pub(crate) fn received(&self, header: Header) -> Frame<'_> {
        frame_in(header, &self.recv_buf)
    }
}
