//! Zero heap allocations on the sealed send and receive paths.

use packet_core::crypto::{
    ChannelConfig, ChannelKeys, Direction, OpeningKey, Role, SealedChannel, SealingKey, SecretKey,
};
use packet_core::frame::FrameConfig;
use stats_alloc::Region;

use crate::GLOBAL;

fn assert_no_allocations(what: &str, f: impl FnOnce()) {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations, stats.deallocations),
        (0, 0, 0),
        "{what} touched the heap: {stats:?}"
    );
    println!("{what}: 0 allocations");
}

pub fn sealed_paths_allocate_nothing() {
    // The counter works: a deliberate allocation is seen.
    let region = Region::new(GLOBAL);
    let boxed = std::hint::black_box(Box::new(1u64));
    drop(boxed);
    assert_eq!(
        region.change().allocations,
        1,
        "counting allocator not installed"
    );

    let keys = ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    );
    let body = [0x5Au8; 1200];
    // Stack buffers only; the test itself allocates nothing in the regions.
    let mut wire = [0u8; 1300];
    let mut spare = [0u8; 1300];

    for config in [ChannelConfig::datagram(), ChannelConfig::stream()] {
        let mut client = SealedChannel::new(Role::Client, &keys, config);
        let mut server = SealedChannel::new(Role::Server, &keys, config);
        assert_no_allocations("SealedChannel seal + open x1000", || {
            for i in 0..1000usize {
                let len = i % body.len();
                let n = client.seal_raw(7, &body[..len], &mut wire).expect("seal");
                let frame = server.open(&mut wire[..n]).expect("open");
                assert_eq!(frame.body().len(), len);
            }
        });
        assert_no_allocations("SealedChannel failure paths", || {
            let n = client.seal_raw(7, &body[..64], &mut wire).expect("seal");
            spare[..n].copy_from_slice(&wire[..n]);
            spare[30] ^= 1;
            assert!(server.open(&mut spare[..n]).is_err()); // bad tag
            server.open(&mut wire[..n]).expect("open");
            assert!(server.open(&mut wire[..n]).is_err()); // replay
            assert!(server.open(&mut wire[..3]).is_err()); // truncated
        });
    }

    let sealing = SealingKey::new(&SecretKey::from_bytes([3; 32]), Direction::ServerToClient);
    let opening = OpeningKey::new(&SecretKey::from_bytes([3; 32]), Direction::ServerToClient);
    let config = FrameConfig::default();
    assert_no_allocations("SealingKey / OpeningKey x1000", || {
        for i in 0..1000u64 {
            let n = sealing.seal_raw(9, i, &body, &mut wire).expect("seal");
            let frame = opening.open(&mut wire[..n], &config).expect("open");
            assert_eq!(frame.sequence(), i);
        }
    });
}
