//! Decodes each example body type from arbitrary bytes (the first byte picks
//! the type): no panic, and a value that decodes re-encodes to exactly the
//! bytes it came from and decodes again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packet_fuzz::round_trip_by_index;

fuzz_target!(|data: &[u8]| {
    if let Some((&which, body)) = data.split_first() {
        round_trip_by_index(which, body);
    }
});
