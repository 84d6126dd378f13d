//! The demo across two processes: `demo serve` and `demo bots --connect`
//! on loopback, sealed and plaintext, run as the built binary. No timing
//! assertions: the bots must log in, exchange packets and exit with
//! success (some packet made the round trip).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

/// Starts `demo serve` on an ephemeral loopback port, runs `demo bots`
/// against it, and checks the bots succeed.
fn serve_then_bots(extra: &[&str]) {
    let demo = env!("CARGO_BIN_EXE_demo");
    let mut serve = Command::new(demo)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--seconds",
            "120",
            "--quiet",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start demo serve");
    // The first line names the login address: "... login on ADDR (...".
    // Kept open until the server is stopped: it prints more lines.
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout"));
    let mut first = String::new();
    lines
        .read_line(&mut first)
        .expect("read serve's first line");
    let addr = first
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let bots = Command::new(demo)
        .args([
            "bots",
            "--connect",
            &addr,
            "--seconds",
            "0.5",
            "--bots",
            "2",
        ])
        .args(["--quiet"])
        .output()
        .expect("run demo bots");
    let _ = serve.kill();
    let _ = serve.wait();
    drop(lines);
    let out = String::from_utf8_lossy(&bots.stdout);
    assert!(
        bots.status.success(),
        "bots failed: {out}\n{}",
        String::from_utf8_lossy(&bots.stderr)
    );
    let sealed = extra.is_empty() && cfg!(feature = "crypto");
    assert_eq!(out.contains("sealed ChaCha20-Poly1305"), sealed, "{out}");
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
}

#[test]
fn bots_reach_a_sealed_server_in_another_process() {
    serve_then_bots(&[]);
}

#[test]
fn bots_reach_a_plaintext_server_in_another_process() {
    serve_then_bots(&["--plain"]);
}

#[test]
fn bots_against_no_server_fail_cleanly() {
    // A port nothing listens on: the login fails with an error, no hang.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap().to_string();
    drop(probe);
    let bots = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["bots", "--connect", &addr, "--seconds", "0.2", "--quiet"])
        .output()
        .expect("run demo bots");
    assert!(!bots.status.success());
}
