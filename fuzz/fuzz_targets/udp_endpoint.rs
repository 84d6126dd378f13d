//! The UDP servers' sans-I/O datagram endpoint
//! (`packet_net::fuzzing::UdpEndpoint`, the `Peers` table both UDP
//! servers drive) under arbitrary datagrams from arbitrary source
//! addresses and time steps, plaintext or sealed: garbage, plaintext
//! frames, session hellos with known and unknown tokens, sealed frames of
//! up to four real clients delivered late, twice, from other addresses or
//! with a flipped byte; clock jumps, sweeps, a socket that refuses sends,
//! sends of one datagram or of runs (GSO), shutdown.
//!
//! Properties beyond "no panic, no hang, no unbounded allocation":
//! - a datagram that cannot authenticate (sealed: anything but a session
//!   hello or a client's sealed frame from an address its token keyed;
//!   plaintext: anything but a valid frame) changes nothing: the table
//!   (every session's lifecycle, receive side and frame count, every
//!   retired channel) is the same before and after it, and no session is
//!   accepted; sealed, nothing but a client's unchanged datagram from an
//!   address that sent its token's hello is ever dispatched, and that at
//!   most once;
//! - the table never holds more than `max_sessions` sessions, nor more
//!   than `max_sessions` retired channels;
//! - once every session has idled out (even with a socket refusing every
//!   send, which holds its close notice back for the shutdown grace at
//!   most), a new valid client gets a slot.
#![no_main]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::frame::{self, FrameConfig};
use packet_fuzz::mock::arb_frame;
use packet_net::fuzzing::{self, Sealer, UdpEndpoint, session_hello};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::{
    ClientSecurity, SESSION_HELLO_TYPE, ServerSecurity, SessionToken, TransportError,
};

/// Tokens `[t; 16]` with `t < KNOWN` are known to the key provider (each
/// usable once); `FRESH` is kept for the final check.
const KNOWN: u8 = 8;
const FRESH: u8 = 99;
const IDLE: Duration = Duration::from_secs(30);
const MAX_FRAME: u32 = 512;

fn keys(t: u8) -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([t; 32]),
        SecretKey::from_bytes([t ^ 0x80; 32]),
    )
}

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4000 + u16::from(i)))
}

fn endpoint(sealed: bool, max_sessions: usize) -> UdpEndpoint {
    let frame = FrameConfig::default().with_max_frame_len(MAX_FRAME);
    let mut config = ServerConfig::default()
        .with_max_sessions(max_sessions)
        .with_idle_timeout(Some(IDLE))
        .with_transport(packet_net::transport::TransportConfig::new().with_frame(frame));
    if sealed {
        let used = Mutex::new(HashSet::new());
        config = config.sealed(ServerSecurity::new(move |t: &SessionToken| {
            let b = t.0[0];
            let known = (b < KNOWN || b == FRESH) && t.0.iter().all(|&x| x == b);
            (known && used.lock().unwrap().insert(b)).then(|| keys(b))
        }));
    }
    // 1 echoes, 2 fails (the session ends once its replies are out),
    // 3 closes, 4 replies 10 times.
    let router = Router::new()
        .on_frame(1, |ctx, f| {
            count();
            ctx.reply_raw(1, f.body())
        })
        .on_frame(2, |ctx, _| {
            count();
            ctx.reply_raw(2, b"bye")?;
            Err(TransportError::Closed)
        })
        .on_frame(3, |ctx, _| {
            count();
            ctx.close();
            Ok(())
        })
        .on_frame(4, |ctx, f| {
            count();
            for _ in 0..10 {
                ctx.reply_raw(4, f.body())?;
            }
            Ok(())
        });
    UdpEndpoint::new(config, router)
}

/// A sealed client: its address, hello and send side.
struct Client {
    from: SocketAddr,
    hello: [u8; fuzzing::SESSION_HELLO_LEN],
    sealer: Sealer,
}

fn client(i: u8) -> Client {
    let token = SessionToken([i; 16]);
    let frame = FrameConfig::default().with_max_frame_len(MAX_FRAME);
    let (sealer, _, _) = fuzzing::halves(ClientSecurity::new(token, keys(i)), frame, true);
    Client {
        from: addr(i),
        hello: session_hello(&token),
        sealer,
    }
}

/// A sealed datagram a client made: its bytes, its client, its client's
/// address, whether the server dispatched it yet.
struct Sent {
    bytes: Vec<u8>,
    client: u8,
    from: SocketAddr,
    dispatched: bool,
}

/// Frames the handlers ran for (all endpoints; compared as differences).
static DISPATCHED: AtomicU64 = AtomicU64::new(0);

fn count() {
    DISPATCHED.fetch_add(1, Ordering::Relaxed);
}

fn check_bounds(ep: &UdpEndpoint, max_sessions: usize) {
    let (open, retired) = ep.sizes();
    assert!(open <= max_sessions, "{open} sessions > {max_sessions}");
    assert!(
        retired <= max_sessions,
        "{retired} retired > {max_sessions}"
    );
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let sealed = u.arbitrary::<bool>()?;
    let max_sessions = u.int_in_range(1..=4usize)?;
    let frame_config = FrameConfig::default().with_max_frame_len(MAX_FRAME);
    let mut ep = endpoint(sealed, max_sessions);
    // Replies leave one per send, or in runs of up to 8 (GSO).
    ep.set_max_segments(u.int_in_range(1..=8usize)?);
    let mut clients: Vec<Client> = (0..4).map(client).collect();
    let mut sent: Vec<Sent> = Vec::new();
    // Which address may hold which client's keys: whoever sent a hello
    // with the client's token (the token is the credential).
    let mut keyed: HashSet<(SocketAddr, u8)> = HashSet::new();
    let mut now = Instant::now();
    for _ in 0..u.int_in_range(0..=120usize)? {
        // A datagram to deliver and its source.
        let (mut datagram, from): (Vec<u8>, SocketAddr) = match u.int_in_range(0..=10u8)? {
            0 => (u.arbitrary::<Vec<u8>>()?, addr(u.int_in_range(0..=7)?)),
            1 => {
                let type_id = match u.int_in_range(0..=5u8)? {
                    0 => SESSION_HELLO_TYPE,
                    n @ 1..=4 => u16::from(n),
                    _ => u.arbitrary()?,
                };
                let Some(b) = arb_frame(u, type_id)? else {
                    continue;
                };
                (b, addr(u.int_in_range(0..=7)?))
            }
            2 => {
                let t = u.int_in_range(0..=2 * KNOWN)?;
                let hello = session_hello(&SessionToken([t; 16]));
                (hello.to_vec(), addr(u.int_in_range(0..=7)?))
            }
            3 => {
                let c = &mut clients[u.int_in_range(0..=3usize)?];
                (c.hello.to_vec(), c.from)
            }
            4 => {
                // A client seals a frame, delivered later (or never).
                let client = u.int_in_range(0..=3u8)?;
                let c = &mut clients[usize::from(client)];
                let type_id = u.int_in_range(1..=4u16)?;
                let body: Vec<u8> = u.arbitrary()?;
                let mut b = vec![0u8; MAX_FRAME as usize];
                if let Ok(n) = c.sealer.seal_with(type_id, &mut b, |w| w.put_bytes(&body)) {
                    b.truncate(n);
                    sent.push(Sent {
                        bytes: b,
                        client,
                        from: c.from,
                        dispatched: false,
                    });
                }
                continue;
            }
            5 | 6 if !sent.is_empty() => {
                // Late, again, from elsewhere, or with a byte flipped.
                let i = u.choose_index(sent.len())?;
                let s = &sent[i];
                let mut bytes = s.bytes.clone();
                let from = match u.arbitrary::<bool>()? {
                    true => s.from,
                    false => addr(u.int_in_range(0..=7)?),
                };
                let mutated = u.arbitrary::<bool>()? && !bytes.is_empty();
                if mutated {
                    let at = u.choose_index(bytes.len())?;
                    bytes[at] ^= u.int_in_range(1..=255u8)?;
                }
                let authentic = !mutated && keyed.contains(&(from, s.client));
                let before = DISPATCHED.load(Ordering::Relaxed);
                ep.sweep(now);
                let snapshot = (ep.snapshot(), ep.accepted());
                ep.datagram(from, &mut bytes, now);
                if DISPATCHED.load(Ordering::Relaxed) != before && sealed {
                    assert!(
                        authentic,
                        "a forged or misaddressed datagram was dispatched: from {from} (client {}), {:?} vs {:?}",
                        sent[i].from, bytes, sent[i].bytes
                    );
                    assert!(
                        !sent[i].dispatched,
                        "a sealed datagram was dispatched twice"
                    );
                    sent[i].dispatched = true;
                } else if !authentic && sealed {
                    assert_eq!(
                        snapshot,
                        (ep.snapshot(), ep.accepted()),
                        "a forged datagram changed the table"
                    );
                }
                check_bounds(&ep, max_sessions);
                continue;
            }
            7 => {
                now += Duration::from_millis(u.int_in_range(0..=40_000u64)?);
                continue;
            }
            8 => {
                if let Some(next) = ep.sweep(now) {
                    assert!(next > now, "a deadline already past after a sweep");
                }
                continue;
            }
            9 => {
                ep.set_blocked(u.arbitrary()?);
                continue;
            }
            _ => {
                if u.ratio(1, 8)? {
                    ep.end_all();
                    assert_eq!(ep.sizes().0, 0);
                }
                continue;
            }
        };
        // Plaintext, any valid frame may open or feed a session; sealed,
        // a session hello may too (whose bytes the fuzzer can find).
        let valid = frame::decode_frame(&datagram, &frame_config);
        if let Ok(f) = &valid
            && f.type_id() == SESSION_HELLO_TYPE
            && let [b, rest @ ..] = f.body()
            && rest.len() == 15
            && rest.iter().all(|x| x == b)
        {
            keyed.insert((from, *b));
        }
        let may_change = match valid {
            Ok(f) if sealed => f.type_id() == SESSION_HELLO_TYPE,
            Ok(_) => true,
            Err(_) => false,
        };
        // Time-driven changes first, so the datagram's own show alone.
        ep.sweep(now);
        let before = (!may_change).then(|| (ep.snapshot(), ep.accepted()));
        ep.datagram(from, &mut datagram, now);
        if let Some(before) = before {
            let after = (ep.snapshot(), ep.accepted());
            assert_eq!(
                before, after,
                "an unauthenticated datagram changed the table"
            );
        }
        check_bounds(&ep, max_sessions);
    }
    // Every session idles out (or, refused every send, times out
    // writing); its close notice (wire format §12) may hold the end back
    // by the shutdown grace at most, when the socket refuses it. Then a
    // new client gets in.
    now += IDLE * 2;
    ep.sweep(now);
    now += ServerConfig::default().shutdown_grace;
    ep.sweep(now);
    assert_eq!(ep.sizes().0, 0, "sessions outlived every timeout");
    let accepted = ep.accepted();
    let from = SocketAddr::from(([10, 0, 0, 1], 9));
    let mut hello = if sealed {
        session_hello(&SessionToken([FRESH; 16])).to_vec()
    } else {
        let mut b = vec![0u8; frame::frame_len_for(2)];
        let n = frame::encode_raw(1, 0, b"hi", &mut b).unwrap();
        b.truncate(n);
        b
    };
    ep.datagram(from, &mut hello, now);
    assert_eq!(ep.accepted(), accepted + 1, "a new client found no slot");
    assert_eq!(ep.sizes().0, 1);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
