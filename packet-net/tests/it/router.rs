//! `Router` registration: one handler per type id. A second registration
//! for an id that has one panics, naming the id in hex and both
//! registrations, instead of replacing the first handler silently.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use packet_core::{Packet, PacketSet};
use packet_net::server::{EventQueue, Router};

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0F01)]
struct Chat<'a> {
    #[packet(len = u8)]
    text: &'a str,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0F02)]
struct Ping {
    n: u32,
}

#[derive(PacketSet, Debug, PartialEq)]
enum Msg<'a> {
    Chat(Chat<'a>),
    Ping(Ping),
}

#[derive(PacketSet, Debug, PartialEq)]
enum Input {
    Ping(Ping),
}

#[test]
#[should_panic(
    expected = "Router: type id 0x0f01 already has a handler, registered by `Router::on_frame(0x0f01)` at "
)]
fn a_second_on_frame_for_an_id_panics() {
    let _ = Router::<()>::new()
        .on_frame(0x0F01, |_, _| Ok(()))
        .on_frame(0x0F01, |_, _| Ok(()));
}

#[test]
#[should_panic(expected = "Router: a fallback is already set")]
fn a_second_fallback_panics() {
    let _ = Router::<()>::new()
        .fallback(|_, _| Ok(()))
        .fallback(|_, _| Ok(()));
}

#[test]
#[should_panic(expected = "type id 0x0f02 already has a handler, registered by `Router::on_set::<")]
fn on_after_on_set_with_the_same_id_panics() {
    let _ = Router::<()>::new()
        .on_set::<Msg>(|_, _| Ok(()))
        .on::<Ping>(|_, _| Ok(()));
}

/// The message a registration that must panic panics with.
fn registration_panic(register: impl FnOnce() -> Router<()>) -> String {
    let panic = catch_unwind(AssertUnwindSafe(register)).expect_err("the registration panics");
    panic
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone()
}

#[test]
fn on_after_queue_events_with_the_same_id_panics_naming_both_call_sites() {
    let events: Arc<EventQueue<Input>> = EventQueue::new(8);
    let message = registration_panic(|| {
        Router::<()>::new()
            .queue_events(&events)
            .on::<Ping>(|_, _| Ok(()))
    });
    assert!(
        message.contains(
            "type id 0x0f02 already has a handler, registered by `Router::queue_events` at "
        ),
        "{message}"
    );
    // `queue_events` at its call site here, not inside the crate.
    assert_eq!(message.matches(file!()).count(), 2, "{message}");
}

#[test]
#[should_panic(expected = "type id 0x0f02 already has a handler, registered by `Router::on::<")]
fn queue_events_after_on_with_the_same_id_panics() {
    let events: Arc<EventQueue<Input>> = EventQueue::new(8);
    let _ = Router::<()>::new()
        .on::<Ping>(|_, _| Ok(()))
        .queue_events(&events);
}

#[cfg(feature = "tokio")]
#[test]
#[should_panic(
    expected = "type id 0x0f02 already has a handler, registered by `Router::on_frame(0x0f02)`"
)]
fn on_async_after_on_frame_with_the_same_id_panics() {
    let _ = Router::<()>::new()
        .on_frame(0x0F02, |_, _| Ok(()))
        .on_async(|session, ping: Ping| async move { session.send(&ping) });
}

#[test]
fn the_panic_names_both_registrations_where_they_are_written() {
    let message = registration_panic(|| {
        Router::<()>::new()
            .on::<Chat>(|_, _| Ok(()))
            .on_set::<Msg>(|_, _| Ok(()))
    });
    assert!(
        message.starts_with(
            "Router: type id 0x0f01 already has a handler, registered by `Router::on::<"
        ),
        "{message}"
    );
    // Both registrations at their call sites, here, not inside the router.
    assert!(message.contains("router::Chat"), "{message}");
    assert!(message.contains("; `Router::on_set::<"), "{message}");
    assert!(message.contains("router::Msg"), "{message}");
    assert_eq!(message.matches(file!()).count(), 2, "{message}");
    assert!(message.contains("cannot add another"), "{message}");
}

#[test]
fn distinct_ids_register_side_by_side() {
    let events: Arc<EventQueue<Input>> = EventQueue::new(8);
    let router = Router::<()>::new()
        .on::<Chat>(|_, _| Ok(()))
        .queue_events(&events)
        .on_frame(0x0F03, |_, _| Ok(()));
    assert!(router.handles(0x0F01) && router.handles(0x0F02) && router.handles(0x0F03));
    assert!(!router.handles(0x0F04));
}
