//! A [`PacketStream`] over an in-memory socket, for the fuzz targets (through
//! `fuzzing`): the shared [`stream_methods!`] (queue, send, receive, the
//! refusal and its lossless close, close) with the blocking stream's
//! primitives, over any `Read + Write` the target steers (short counts,
//! `WouldBlock`, `Interrupted`). `WouldBlock` comes back as an `Io` error,
//! as a blocking stream's timeout does, with the same buffering.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use super::queue::Outbox;
use super::socket::{PacketListener, PacketStream, stream_methods};
use super::{ServerSecurity, TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::{Frame, Packet};

/// The socket under a [`MemStream`]: reads, writes and a write shutdown.
pub trait MemSocket: io::Read + io::Write {
    /// The end of the write side (the peer reads end of stream).
    fn shutdown_write(&mut self) -> io::Result<()>;
}

/// An in-memory socket (see the module docs).
pub struct MemIo<'a>(pub Box<dyn MemSocket + 'a>);

impl std::fmt::Debug for MemIo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemIo")
    }
}

impl MemIo<'_> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(([127, 0, 0, 1], 1).into())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(([127, 0, 0, 1], 2).into())
    }
}

/// A stream connection over a [`MemIo`].
pub type MemStream<'a> = PacketStream<MemIo<'a>>;

impl<'a> MemStream<'a> {
    /// A connecting end (sealed with [`PacketStream::sealed`]).
    pub fn client(io: impl MemSocket + 'a, config: TransportConfig) -> Self {
        Self::wrap(MemIo(Box::new(io)), config)
    }

    /// An accepting end, as a listener with `config` and `security`
    /// accepts it.
    pub fn server(
        io: impl MemSocket + 'a,
        config: TransportConfig,
        security: Option<ServerSecurity>,
    ) -> Self {
        let listener = PacketListener::wrap((), config);
        let listener = match security {
            Some(s) => listener.sealed(s),
            None => listener,
        };
        listener.accepted(MemIo(Box::new(io)))
    }

    /// Writes everything queued (a `WouldBlock` leaves the rest queued).
    pub fn flush(&mut self) -> Result<(), TransportError> {
        self.outbox.flush_to(&mut self.io.0)
    }

    fn fill(&mut self) -> Result<(), TransportError> {
        self.inbox.fill_from(&mut self.io.0, &mut self.outbox)
    }

    fn shutdown_write(&mut self) -> Result<(), TransportError> {
        Ok(self.io.0.shutdown_write()?)
    }

    /// Reads and drops until end of stream or an error (`WouldBlock`:
    /// nothing more now; a memory socket has no clock to wait on).
    fn drain(&mut self, _: Instant) {
        let mut scratch = [0; 4096];
        loop {
            match self.io.0.read(&mut scratch) {
                Ok(0) => break,
                Err(e) if e.kind() != io::ErrorKind::Interrupted => break,
                _ => {}
            }
        }
    }

    stream_methods!();
}
