//! Zero heap allocations on packet-core's steady-state paths (plain and
//! sealed frames, the stream decoder, error paths), counted by a global
//! allocator (`stats_alloc`: no `unsafe` in the workspace).
//!
//! Its own test binary (the one besides `tests/it`), with `harness =
//! false`: the counting allocator is global and counts every thread, so
//! nothing else may run while a region is measured; `main` runs the checks
//! one after another on one thread.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

mod alloc_free;
#[cfg(feature = "crypto")]
mod crypto_alloc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    alloc_free::the_counter_counts();
    alloc_free::one_shot_encode_and_decode_allocate_nothing();
    alloc_free::stream_decoding_allocates_nothing_after_warm_up();
    alloc_free::hostile_sequence_counts_do_not_reserve_memory_up_front();
    #[cfg(feature = "crypto")]
    crypto_alloc::sealed_paths_allocate_nothing();
    println!("alloc: every check passed");
}
