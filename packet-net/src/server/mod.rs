//! Server building blocks: sessions with ids, a session manager, dispatch
//! of each incoming frame to a handler by type id, and two servers that
//! drive them over TCP.
//!
//! - [`Router`]: the handler registry, keyed by packet type id (`u16`).
//!   Handlers are plain closures called with a [`Context`] (the session,
//!   the session manager, the shared state) and the frame, borrowed from
//!   the receive buffer, or typed: [`Router::on`] decodes one packet type
//!   (borrowed ones too: `on::<Chat>`), [`Router::on_set`] a
//!   `#[derive(PacketSet)]` enum. A failing handler, a bad frame or a
//!   peer that stalls inside a frame drops that peer alone; an unknown
//!   type id too, unless the router's [`UnknownPackets`] policy is to
//!   count and ignore. So does a handler or `on_connect` hook that
//!   panics: every server catches the panic where it calls application
//!   code, ends that session with [`DisconnectReason::HandlerPanicked`]
//!   (after its queued replies, like a handler's error), counts it in
//!   [`StatsSnapshot::handler_panics`] and serves the rest on; a
//!   panicking `on_disconnect` hook or session-state constructor is
//!   counted there too (the latter's connection is dropped).
//! - Per-session state: `Router<S, U>` gives every session its own `U`
//!   ([`Router::with_session_state`], or `U::default()`), made when it
//!   opens and locked per session only: handlers use
//!   [`Context::session_state`], the game loop [`Sessions::for_each`] /
//!   [`Session::state`].
//! - [`Sessions`]: the session manager: look-up by [`SessionId`], send to
//!   one, broadcast (a [`BroadcastReport`] says who got it and why the
//!   others did not), close. Each session's outgoing frames are encoded in
//!   place into its bounded `Outbox`; a peer too slow to drain it is
//!   dropped rather than buffered without bound.
//! - Work that outlives a handler: [`Context::session`] and
//!   [`Context::sessions`] are `Arc`s, `'static` handles a spawned task
//!   keeps to reply later ([`Session::send`]; `Router::on_async` spawns
//!   such a task per packet on the tokio servers); or the tick-driven style,
//!   where handlers only queue and the game loop drains an
//!   [`EventQueue`] once per tick ([`Router::queue_events`]). Such a
//!   server can also batch its wake-ups
//!   ([`ServerConfig::with_wake_interval`]: each thread waits on
//!   readiness at most once per interval and serves everything that
//!   arrived meanwhile; inputs and sends wait up to the interval; a
//!   tokio server then runs the blocking server's paced threads inside
//!   its runtime).
//! - [`blocking::Server`]: an acceptor thread and a pool of worker threads
//!   that each own a set of sessions and wait on their readiness (`mio`).
//! - `tokio::Server` (feature `tokio`): an acceptor
//!   task and one task per session.
//! - UDP: [`blocking::UdpServer`] and `tokio::UdpServer`: one UDP socket,
//!   a session per peer address (created by its first valid datagram, with
//!   its own opener and sealer), the same [`Router`]; bad, forged or
//!   replayed datagrams dropped and counted (never held against a
//!   session: source addresses can be forged), idle peers expired.
//!   An address is not a connection, so a UDP session's end differs:
//!   a plaintext client the server closed (a kick) opens a new session
//!   with its next valid datagram (enforce a ban in the game, e.g. by
//!   identity in the connect hook, or seal the server). Sealed, a client
//!   that only went quiet (idle timeout) resumes its channel with its next
//!   datagram, as a new session (a new [`SessionId`], the connect hook
//!   again, new per-session state) with the same identity; one closed by
//!   the application or for what it sent does not: its datagrams are
//!   dropped and counted, and it needs a new token from the login server.
//!
//! Every session's life (timers, back-pressure, its end) is decided by the
//! sans-I/O core in `session`; the servers only move bytes.
//!
//! Ending a session, a server tells the client why with a close notice
//! (`docs/wire-format.md` §12; [`ServerConfig::close_notices`], on by
//! default): server full, shutting down, idle timeout, protocol error,
//! server error, or closed by the application ([`Sessions::close`],
//! [`Sessions::close_with`] with the game's own code), behind the replies
//! already queued; the client's receive fails with
//! `TransportError::ClosedByServer`.
//!
//! Sealed servers give every session its own keys
//! (`ServerConfig::sealed`, `docs/wire-format.md` §7.3):
//! a session's first frame is the plaintext session hello carrying the
//! token a login server handed the client with that session's keys.
//!
//! Both stop gracefully: accepting stops, frames already received are
//! dispatched, queued frames are flushed, then the "shutting down"
//! notice, then connections close (a TCP session once its client has
//! closed, reading and dropping until then), all within
//! [`ServerConfig::shutdown_grace`].
//!
//! ```
//! use packet_net::server::{blocking::Server, Router, ServerConfig};
//! use packet_net::transport::blocking::TcpPacketStream;
//!
//! let router = Router::<()>::new()
//!     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body()))   // echo type 1
//!     .on_frame(2, |ctx, frame| { ctx.broadcast_others_raw(2, frame.body()); Ok(()) });
//! let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())?;
//!
//! let mut client = TcpPacketStream::connect(server.local_addr())?;
//! client.send_raw(1, b"ping")?;
//! assert_eq!(client.recv()?.body(), b"ping");               // borrowed from the receive buffer
//! drop(client);                                              // closes: the shutdown need not wait for it
//! server.shutdown();                                         // graceful: replies flushed, clients told why
//! # Ok::<(), packet_net::transport::TransportError>(())
//! ```
//!
//! # Logging
//!
//! With the feature `tracing` (off by default), the servers emit
//! [`tracing`](https://docs.rs/tracing) events for an operator, each with
//! structured fields; install any subscriber (e.g. `tracing-subscriber`)
//! to see them. Without the feature the calls compile to nothing.
//!
//! | event | level | fields |
//! |---|---|---|
//! | `server bound`, `server stopped` (its last thread or task ended) | info | `addr`, `kind` (`tcp`, `udp`), `driver` (`blocking`, `tokio`, `tokio (paced)`) |
//! | `session opened` (sealed: once its hello was accepted) | debug | `server`, `kind`, `session` (the id's number, [`SessionId`]`.0`: log yours as `session = ctx.id().0` to match), `peer`, `sealed` (the server's configuration), `identity` (if known) |
//! | `session ended` (also one that never opened: a sealed session whose hello never came or was refused) | debug; warn when the server failed (a handler's panic, or its I/O failure: the notice says "server error") | `server`, `kind`, `session`, `peer`, `identity`, `reason` (the [`DisconnectReason`]), `notice` (the close notice's reason, if the server sends one), `code` (a kick's), `frames_in`, `frames_out` |
//! | `refused: server full`, `refused: another protocol` (a UDP hello of another fingerprint) | debug | `server`, `kind`, `peer` |
//! | `refused: the session state constructor panicked` | warn | `server`, `kind`, `peer` |
//! | `accept failed; retrying` (e.g. out of descriptors, EMFILE; at most one a second) | warn | `server`, `kind`, `error`, `suppressed` (failures not logged since the last) |
//!
//! As in hyper, quinn and tonic, nothing a remote peer can cause at will
//! (a bad frame or hello, a handler's error on what it sent, a slow
//! consumer, an I/O error on its socket, a refusal) is logged above debug,
//! so no client can flood the log at warn; warn is for what failed on the
//! server's side. Nothing is logged per packet: a session logs twice, when
//! it opens and when it ends (the counters of [`StatsSnapshot`] count the
//! rest), and a full UDP server logs a refusal only for a datagram that
//! would open a session and is answered with a close notice (so not with
//! [`ServerConfig::close_notices`] off), a bounded number a batch.
//!
//! Bind errors need no feature: their message names the address
//! (`binding 127.0.0.1:7000: Address already in use (os error 98)`),
//! their `io::ErrorKind` kept.
//!
//! One concept per module, all re-exported here: `config`
//! ([`ServerConfig`]), `stats` ([`ServerStats`], [`StatsSnapshot`]),
//! `session` ([`SessionId`], [`Session`]), `sessions` ([`Sessions`],
//! [`BroadcastReport`]), `context` ([`Context`]), `router` ([`Router`],
//! [`UnknownPackets`]), `events` ([`EventQueue`], [`ServerEvent`]: the
//! tick-driven style), the crate-private `core` (the service step both
//! TCP servers run, and the methods both drivers' `ServerHandle`s share)
//! and `udp` (the datagram endpoint); the drivers are [`blocking`] and
//! `tokio`.
//!
//! What does not live here: sockets and buffers ([`crate::transport`]),
//! framing ([`packet_core::frame`]).

pub use crate::session::DisconnectReason;

pub mod blocking;
mod config;
mod context;
mod core;
mod events;
mod router;
mod session;
mod sessions;
mod stats;
#[cfg(feature = "tokio")]
pub mod tokio;
pub(crate) mod udp;

pub(crate) use config::Pacer;
pub use config::ServerConfig;
pub use context::Context;
#[cfg(feature = "tokio")]
pub(crate) use core::DEADLINE_CHECK_EVERY;
pub(crate) use core::{
    ServerCore, Serviced, bind_first, count_in, handle_methods, recv_until_blocked,
};
pub use events::{EventQueue, Left, ServerEvent};
pub use router::{Handler, Hook, LeaveHook, Router, UnknownPackets};
pub(crate) use session::{PollWaker, Waker, lock};
pub use session::{Session, SessionId, Work};
pub use sessions::{BroadcastReport, Sessions};
pub use stats::{ServerStats, StatsSnapshot};
