//! The UDP servers' datagram endpoint without a socket, on a fake clock:
//! what unauthenticated datagrams may (not) do to its state, and the
//! bounds on what it remembers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_net::fuzzing::{self, SESSION_HELLO_LEN, UdpEndpoint, session_hello};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};

fn addr(i: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1000 + i))
}

/// Tokens whose first byte is below 100 are good, once each.
fn endpoint(max_sessions: usize) -> UdpEndpoint {
    let used = std::sync::Mutex::new(std::collections::HashSet::new());
    let config = ServerConfig::default()
        .with_max_sessions(max_sessions)
        .with_idle_timeout(Some(Duration::from_secs(30)))
        .sealed(ServerSecurity::new(move |t: &SessionToken| {
            (t.0[0] < 100 && used.lock().unwrap().insert(t.0[0])).then(|| keys(t.0[0]))
        }));
    UdpEndpoint::new(config, Router::new())
}

fn keys(n: u8) -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([n; 32]),
        SecretKey::from_bytes([n ^ 0x80; 32]),
    )
}

fn hello(i: u8) -> [u8; SESSION_HELLO_LEN] {
    session_hello(&SessionToken([i; 16]))
}

/// Client `n`'s send side (token `[n; 16]`, keys `keys(n)`).
fn client_sealer(n: u8) -> fuzzing::Sealer {
    let client = ClientSecurity::new(SessionToken([n; 16]), keys(n));
    fuzzing::halves(client, Default::default(), true).0
}

/// The next datagram of `sealer`: a frame of `type_id` with body "x".
fn sealed(sealer: &mut fuzzing::Sealer, type_id: u16) -> Vec<u8> {
    let mut d = vec![0u8; 128];
    let n = sealer
        .seal_with(type_id, &mut d, |w| w.put_bytes(b"x"))
        .unwrap();
    d.truncate(n);
    d
}

#[test]
fn retired_channels_are_bounded_by_max_sessions() {
    let mut ep = endpoint(2);
    let t0 = Instant::now();
    for i in 0..5u16 {
        ep.datagram(addr(i), &mut hello(i as u8), t0);
        assert_eq!(ep.sizes().0, 1, "peer {i} got a session");
        ep.end_all();
        assert!(ep.sizes().1 <= 2);
    }
    assert_eq!(ep.sizes(), (0, 2));
    assert_eq!(ep.dropped(), 0);
}

#[test]
fn a_resent_hello_is_ignored_for_open_and_ended_sessions() {
    let mut ep = endpoint(4);
    let t0 = Instant::now();
    for _ in 0..3 {
        ep.datagram(addr(0), &mut hello(7), t0);
    }
    assert_eq!(ep.accepted(), 1);
    ep.end_all();
    ep.datagram(addr(0), &mut hello(7), t0);
    assert_eq!(ep.sizes(), (0, 1), "no new session; the old channel kept");
    assert_eq!(ep.dropped(), 0);
}

/// The "seen once" state of issue #11: a sealed server that stops
/// answering new sessions while established ones work. A flood of
/// garbage, unknown tokens and sealed datagrams under unknown keys from
/// many addresses leaves no state; a full table refuses a new client
/// without using its token up; once an idle session expires, the refused
/// client's resent hello gets in.
#[test]
fn floods_leave_no_state_and_a_refused_client_gets_in_once_a_slot_frees() {
    let mut ep = endpoint(2);
    let t0 = Instant::now();
    let forged = sealed(&mut client_sealer(150), 1);
    for i in 0..2000u16 {
        ep.datagram(addr(i), &mut [i as u8; 60], t0);
        ep.datagram(addr(i), &mut hello(200), t0); // unknown token
        ep.datagram(addr(i), &mut forged.clone(), t0);
    }
    assert_eq!(ep.sizes(), (0, 0), "unauthenticated datagrams left state");
    assert_eq!(ep.dropped(), 6000);
    // Two established sessions fill the table.
    ep.datagram(addr(5000), &mut hello(1), t0);
    let t1 = t0 + Duration::from_secs(20);
    ep.datagram(addr(5001), &mut hello(2), t1);
    assert_eq!(ep.sizes().0, 2);
    // A third client is refused, its token not used up.
    ep.datagram(addr(5002), &mut hello(3), t1);
    assert_eq!(ep.sizes().0, 2);
    // The first session idles out at t0 + 30 s; the third gets in.
    let t2 = t0 + Duration::from_secs(31);
    let next = ep.sweep(t2);
    assert_eq!(ep.sizes().0, 1);
    assert_eq!(next, Some(t1 + Duration::from_secs(30)));
    ep.datagram(addr(5002), &mut hello(3), t2);
    assert_eq!(ep.sizes().0, 2, "the refused client got in");
}

#[test]
fn a_full_table_answers_each_would_be_session_once_and_keeps_nothing() {
    let t0 = Instant::now();
    for notices in [true, false] {
        let config = ServerConfig::default()
            .with_max_sessions(1)
            .with_close_notices(notices)
            .sealed(ServerSecurity::new(|t: &SessionToken| Some(keys(t.0[0]))));
        let mut ep = UdpEndpoint::new(config, Router::new());
        ep.datagram(addr(1), &mut hello(1), t0);
        assert_eq!(ep.sizes(), (1, 0));
        let (sent, accepted) = (ep.sent(), ep.accepted());
        // A hello each: one plain close notice each ("server full", wire
        // format §12), no session, no token asked for, nothing kept.
        for i in 0..10 {
            ep.datagram(addr(100 + i), &mut hello(50 + i as u8), t0);
        }
        let answered = if notices { 10 } else { 0 };
        assert_eq!(ep.sent(), sent + answered);
        // Anything that would not have opened a session draws nothing.
        ep.datagram(addr(200), &mut [7; 60], t0);
        ep.datagram(addr(201), &mut [7; 8], t0);
        assert_eq!(ep.sent(), sent + answered);
        assert_eq!((ep.sizes(), ep.accepted()), ((1, 0), accepted));
    }
}

/// A session the server ended for what its client sent or by the
/// application's decision (a kick) is not resumed: its channel is
/// forgotten, and the client's further datagrams are dropped, as any
/// unauthenticated one. A session that only went quiet is resumed, with
/// the identity the key provider gave at the hello.
#[test]
fn a_kicked_client_does_not_resume_but_an_idle_one_does() {
    let t0 = Instant::now();
    for kick in [true, false] {
        let config = ServerConfig::default()
            .with_idle_timeout(Some(Duration::from_secs(30)))
            .sealed(ServerSecurity::with_identity(|t: &SessionToken| {
                Some((keys(t.0[0]), 4242))
            }));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let router = Router::new()
            .on_frame(1, move |ctx, _| {
                if kick {
                    ctx.close_with(7);
                }
                Ok(())
            })
            .on_frame(2, move |ctx, _| {
                seen2.lock().unwrap().push(ctx.identity());
                Ok(())
            });
        let mut ep = UdpEndpoint::new(config, router);
        let mut sealer = client_sealer(1);
        let mut sealed = |type_id: u16| sealed(&mut sealer, type_id);
        ep.datagram(addr(1), &mut hello(1), t0);
        ep.datagram(addr(1), &mut sealed(1), t0);
        // Kicked: it ends once its notice left; idle: after 30 s.
        let t1 = t0 + Duration::from_secs(if kick { 1 } else { 31 });
        ep.sweep(t1);
        ep.sweep(t1);
        assert_eq!(ep.sizes().0, 0, "kick {kick}: the session ended");
        let dropped = ep.dropped();
        ep.datagram(addr(1), &mut sealed(2), t1);
        if kick {
            assert_eq!(ep.sizes(), (0, 0), "a kicked client resumed");
            assert_eq!(ep.dropped(), dropped + 1);
        } else {
            assert_eq!(ep.sizes(), (1, 0), "an idle client resumes");
            assert_eq!(*seen.lock().unwrap(), [Some(4242)], "as the same player");
        }
        assert_eq!(ep.accepted(), if kick { 1 } else { 2 });
    }
}

/// A hostile-input run (session 8): a player's session idles out (its
/// channel kept for its return); someone holding a token of their own
/// sends their hello from the player's address (forged). That started a
/// session on the address and forgot the player's channel, so the
/// player's return was dropped as unauthenticated. Now the player's
/// authenticated datagram takes its address back: its channel resumes,
/// as the same player, and the forger's session ends.
#[test]
fn a_forged_hello_from_a_players_address_does_not_take_its_channel() {
    let t0 = Instant::now();
    let config = ServerConfig::default()
        .with_idle_timeout(Some(Duration::from_secs(30)))
        .sealed(ServerSecurity::with_identity(|t: &SessionToken| {
            Some((keys(t.0[0]), u64::from(t.0[0])))
        }));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let router = Router::new().on_frame(2, move |ctx, _| {
        seen2.lock().unwrap().push(ctx.identity());
        Ok(())
    });
    let mut ep = UdpEndpoint::new(config, router);
    let mut sealer = client_sealer(1);
    let mut sealed = |type_id: u16| sealed(&mut sealer, type_id);
    ep.datagram(addr(1), &mut hello(1), t0);
    ep.datagram(addr(1), &mut sealed(2), t0);
    let t1 = t0 + Duration::from_secs(31);
    ep.sweep(t1);
    assert_eq!(ep.sizes(), (0, 1), "idled out, its channel kept");
    // The forger's hello (token 9, its own) from the player's address.
    ep.datagram(addr(1), &mut hello(9), t1);
    assert_eq!(ep.sizes().0, 1, "the forger's session");
    // The player comes back: authenticated under its channel.
    ep.datagram(addr(1), &mut sealed(2), t1);
    assert_eq!(
        ep.sizes(),
        (1, 0),
        "the player's session, the forger's gone"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(1), Some(1)],
        "the player's frames, as the same player"
    );
    // It goes on under its channel.
    ep.datagram(addr(1), &mut sealed(2), t1);
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(ep.accepted(), 3);
}

/// Found by a review of `reclaim`: the same player (one identity) idles
/// out, says hello again from the same address with a new token, and is
/// kicked. Its older channel, still kept for the address, resumed it: a
/// kick bypassed. And a late datagram of that older channel ended the
/// player's newer session. The older channel of the same player is now
/// forgotten at the kick, and a late datagram of it changes nothing.
#[test]
fn the_same_players_older_channel_neither_undoes_a_kick_nor_ends_its_new_session() {
    for kick in [true, false] {
        let t0 = Instant::now();
        let config = ServerConfig::default()
            .with_idle_timeout(Some(Duration::from_secs(30)))
            .sealed(ServerSecurity::with_identity(|t: &SessionToken| {
                Some((keys(t.0[0]), 42)) // one player, two logins
            }));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(0));
        let seen2 = seen.clone();
        let router = Router::new()
            .on_frame(1, move |ctx, _| {
                ctx.close_with(7);
                Ok(())
            })
            .on_frame(2, move |_, _| {
                *seen2.lock().unwrap() += 1;
                Ok(())
            });
        let mut ep = UdpEndpoint::new(config, router);
        let (mut old, mut new) = (client_sealer(1), client_sealer(2));
        let seal = sealed;
        ep.datagram(addr(1), &mut hello(1), t0);
        ep.datagram(addr(1), &mut seal(&mut old, 2), t0);
        let t1 = t0 + Duration::from_secs(31);
        ep.sweep(t1);
        assert_eq!(ep.sizes(), (0, 1), "idled out, its channel kept");
        ep.datagram(addr(1), &mut hello(2), t1);
        ep.datagram(addr(1), &mut seal(&mut new, 2), t1);
        assert_eq!(*seen.lock().unwrap(), 2);
        if kick {
            ep.datagram(addr(1), &mut seal(&mut new, 1), t1);
            let t2 = t1 + Duration::from_secs(1);
            ep.sweep(t2);
            ep.sweep(t2);
            assert_eq!(ep.sizes(), (0, 0), "kicked: no channel kept for it");
            ep.datagram(addr(1), &mut seal(&mut old, 2), t2);
            assert_eq!(ep.sizes(), (0, 0), "the kick stands");
        } else {
            ep.datagram(addr(1), &mut seal(&mut old, 2), t1);
            assert_eq!(ep.sizes().0, 1, "the newer session goes on");
            ep.datagram(addr(1), &mut seal(&mut new, 2), t1);
            assert_eq!(*seen.lock().unwrap(), 3, "under its own channel");
        }
    }
}

/// A sealed endpoint (keys by the token's first byte, no identities,
/// idle after 30 s) whose type 1 kicks its session (code 7) and type 2
/// is taken.
fn kicking(config: ServerConfig) -> UdpEndpoint {
    let config = config
        .with_idle_timeout(Some(Duration::from_secs(30)))
        .sealed(ServerSecurity::new(|t: &SessionToken| Some(keys(t.0[0]))));
    let router = Router::new()
        .on_frame(1, |ctx, _| {
            ctx.close_with(7);
            Ok(())
        })
        .on_frame(2, |_, _| Ok(()));
    UdpEndpoint::new(config, router)
}

/// Found by the second review: without identities (a provider that gives
/// none), a forger's session at a player's address that got itself kicked
/// made the server forget the player's retired channel.
#[test]
fn a_kicked_forger_without_identity_leaves_the_players_channel() {
    let t0 = Instant::now();
    let mut ep = kicking(ServerConfig::default());
    let (mut player, mut forger) = (client_sealer(1), client_sealer(9));
    ep.datagram(addr(1), &mut hello(1), t0);
    ep.datagram(addr(1), &mut sealed(&mut player, 2), t0);
    let t1 = t0 + Duration::from_secs(31);
    ep.sweep(t1);
    assert_eq!(ep.sizes(), (0, 1), "idled out, its channel kept");
    ep.datagram(addr(1), &mut hello(9), t1);
    ep.datagram(addr(1), &mut sealed(&mut forger, 1), t1); // kicked
    let t2 = t1 + Duration::from_secs(1);
    ep.sweep(t2);
    ep.sweep(t2);
    assert_eq!(ep.sizes(), (0, 1), "the player's channel is still kept");
    ep.datagram(addr(1), &mut sealed(&mut player, 2), t2);
    assert_eq!(ep.sizes(), (1, 0), "and the player resumes");
}

/// The retired-channel path without a live session at the address (one
/// `reclaim` since the refactor, with the room flag): while the table is
/// full, a returning client's authenticated datagram is refused without
/// being opened (its channel stays retired, the datagram not spent) and
/// its old hello, resent, changes nothing; once a slot frees, the same
/// datagram resumes the channel.
#[test]
fn a_retired_channel_waits_for_a_slot_and_then_resumes() {
    let t0 = Instant::now();
    let mut ep = kicking(ServerConfig::default().with_max_sessions(2));
    ep.datagram(addr(1), &mut hello(1), t0);
    let mut sealer = client_sealer(1);
    let mut first = sealed(&mut sealer, 2);
    ep.datagram(addr(1), &mut first, t0);
    // Idle: its channel is kept for its return.
    let t1 = t0 + Duration::from_secs(31);
    ep.sweep(t1);
    ep.sweep(t1);
    assert_eq!(ep.sizes(), (0, 1));
    // Two other clients fill the table.
    ep.datagram(addr(2), &mut hello(2), t1);
    ep.datagram(addr(3), &mut hello(3), t1);
    assert_eq!(ep.sizes(), (2, 1));
    let back = sealed(&mut sealer, 2);
    let dropped = ep.dropped();
    ep.datagram(addr(1), &mut back.clone(), t1);
    assert_eq!(ep.sizes(), (2, 1), "full: not resumed, still retired");
    assert_eq!(ep.dropped(), dropped + 1);
    ep.datagram(addr(1), &mut hello(1), t1);
    assert_eq!(ep.sizes(), (2, 1), "its old hello changes nothing");
    assert_eq!(ep.dropped(), dropped + 1, "nor is it counted");
    // Client 3 is kicked (a kicked client's channel is not kept).
    let mut sealer3 = client_sealer(3);
    ep.datagram(addr(3), &mut sealed(&mut sealer3, 1), t1);
    ep.sweep(t1);
    ep.sweep(t1);
    assert_eq!(ep.sizes(), (1, 1));
    // The datagram refused while full was not spent: it resumes now.
    ep.datagram(addr(1), &mut back.clone(), t1);
    assert_eq!(ep.sizes(), (2, 0), "resumed");
    assert_eq!(ep.accepted(), 4);
}
