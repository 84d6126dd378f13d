//! Zero heap allocations per packet on packet-net's steady-state send and
//! receive paths, counted by a global allocator; and the idle CPU cost of
//! the servers.
//!
//! Its own test binary (the one besides `tests/it`), with `harness =
//! false`: the counting allocator is global and counts every thread, and
//! the CPU check reads the whole process's counters, so nothing else may
//! run meanwhile; `main` runs the checks one after another.
#![allow(dead_code)]

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[path = "../it/common.rs"]
mod common;
#[cfg(target_os = "linux")]
mod idle_cpu;
mod zero_alloc;
mod zero_alloc_paced;
#[cfg(feature = "tokio")]
mod zero_alloc_tokio;
#[cfg(feature = "tokio")]
mod zero_alloc_udp;

// The counting allocator (`stats_alloc`: no `unsafe` here).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    zero_alloc::steady_state_send_and_receive_do_not_allocate();
    #[cfg(feature = "tokio")]
    zero_alloc_tokio::async_steady_state_does_not_allocate();
    #[cfg(feature = "tokio")]
    zero_alloc_udp::udp_server_steady_state_does_not_allocate();
    #[cfg(feature = "tokio")]
    zero_alloc_udp::blocking_udp_server_batches_do_not_allocate();
    #[cfg(feature = "tokio")]
    zero_alloc_udp::udp_broadcast_sweeps_do_not_allocate();
    zero_alloc_paced::paced_servers_do_not_allocate();
    #[cfg(target_os = "linux")]
    idle_cpu::idle_sessions_cost_no_cpu();
    println!("alloc: zero-allocation and idle-CPU checks passed");
}
