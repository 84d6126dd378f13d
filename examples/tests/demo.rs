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

/// Waits for `child` to exit, at most `secs` seconds (generous: a loaded
/// machine is slow, a hang is not); kills it and fails past that.
fn wait_within(child: &mut std::process::Child, secs: u64, what: &str) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The value after `name` in a serve progress line (`... tcp 2 sess ...`).
fn sessions(line: &str, name: &str) -> Option<u64> {
    let mut words = line.split_whitespace().skip_while(|w| *w != name);
    words.next()?;
    words.next()?.parse().ok()
}

/// `demo serve` stopped by `signal` (as `kill` names it) while bots run:
/// the server shuts down gracefully and exits 0, saying so; the bots get
/// the close notice, end early and report it, with no errors.
#[cfg(unix)]
fn signal_shuts_serve_down_gracefully(signal: &str) {
    use std::io::Read as _;
    let demo = env!("CARGO_BIN_EXE_demo");
    // Not quiet: without a terminal, serve logs a progress line a second
    // on stderr, with each transport's open sessions.
    let mut serve = Command::new(demo)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start demo serve");
    let mut out = BufReader::new(serve.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read serve's first line");
    let addr = first
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let mut bots = Command::new(demo)
        .args(["bots", "--connect", &addr, "--seconds", "60", "--bots", "2"])
        .args(["--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start demo bots");
    // Every bot's session open on the server (2 per transport), then the
    // signal. A line a second: 30 lines is a generous deadline.
    let mut log = BufReader::new(serve.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let running = (0..30).any(|_| {
        let mut line = String::new();
        if log.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        let up = sessions(&line, "tcp") == Some(2) && sessions(&line, "udp") == Some(2);
        seen.push(line);
        up
    });
    if !running {
        let _ = bots.kill();
        let _ = serve.kill();
        panic!("the bots' sessions never all opened: {seen:?}");
    }
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &serve.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let served = wait_within(&mut serve, 30, "demo serve");
    let ran = wait_within(&mut bots, 30, "demo bots");
    let mut serve_out = first;
    out.read_to_string(&mut serve_out).unwrap();
    let mut serve_err = String::new();
    log.read_to_string(&mut serve_err).unwrap();
    let (mut bots_out, mut bots_err) = (String::new(), String::new());
    bots.stdout
        .take()
        .unwrap()
        .read_to_string(&mut bots_out)
        .unwrap();
    bots.stderr
        .take()
        .unwrap()
        .read_to_string(&mut bots_err)
        .unwrap();
    let all = format!("serve:\n{serve_out}{serve_err}\nbots:\n{bots_out}{bots_err}");
    assert!(served.success(), "serve exited {served}: {all}");
    assert!(
        serve_out.contains("shutting down gracefully") && serve_out.contains("stopped:"),
        "{all}"
    );
    assert!(ran.success(), "bots exited {ran}: {all}");
    assert!(
        bots_out.contains("ended early: the server closed the session: server shutting down"),
        "{all}"
    );
    // No bot reported an error (a reset, a refusal, a timeout) ...
    assert!(bots_err.trim().is_empty(), "{all}");
    // ... nor counted one: the summary's last column.
    for line in bots_out.lines() {
        if line.starts_with("tcp ") || line.starts_with("udp ") {
            assert_eq!(line.split_whitespace().last(), Some("0"), "{all}");
        }
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_shuts_serve_down_gracefully() {
    signal_shuts_serve_down_gracefully("INT");
}

#[cfg(unix)]
#[test]
fn sigterm_shuts_serve_down_gracefully() {
    signal_shuts_serve_down_gracefully("TERM");
}

/// `--game-port` puts the game's TCP and UDP servers on that port.
#[test]
fn serve_binds_the_game_on_game_port() {
    // A port free for TCP and UDP at the time of the probe.
    let port = (0..20)
        .find_map(|_| {
            let tcp = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            let port = tcp.local_addr().ok()?.port();
            std::net::UdpSocket::bind(("127.0.0.1", port)).ok()?;
            Some(port)
        })
        .expect("a free port");
    let serve = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["serve", "--listen", "127.0.0.1:0", "--seconds", "0.2", "-q"])
        .args(["--game-port", &port.to_string()])
        .output()
        .expect("run demo serve");
    let out = String::from_utf8_lossy(&serve.stdout);
    assert!(serve.status.success(), "{out}");
    let game = format!("game: TCP 127.0.0.1:{port}, UDP 127.0.0.1:{port}");
    assert!(out.contains(&game), "{out}");
}

/// On a wildcard address the bots' hint names no address to dial.
#[test]
fn serve_on_a_wildcard_address_hints_server_ip() {
    let serve = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["serve", "--listen", "0.0.0.0:0", "--seconds", "0.2", "-q"])
        .output()
        .expect("run demo serve");
    let out = String::from_utf8_lossy(&serve.stdout);
    assert!(serve.status.success(), "{out}");
    assert!(out.contains("--connect SERVER_IP:"), "{out}");
    assert!(!out.contains("--connect 0.0.0.0"), "{out}");
    assert!(out.contains("firewall: open TCP"), "{out}");
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
}

/// Each subcommand's help lists only its own options.
#[test]
fn each_subcommand_help_lists_only_its_options() {
    let help = |cmd: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args([cmd, "--help"])
            .output()
            .expect("run demo --help");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let serve = help("serve");
    for bot_only in ["--window", "--bots", "--payload", "--transport"] {
        assert!(!serve.contains(bot_only), "{bot_only} in {serve}");
    }
    assert!(serve.contains("--plain") && serve.contains("--game-port"));
    let bots = help("bots");
    assert!(!bots.contains("--plain"), "{bots}");
    assert!(bots.contains("--window") && bots.contains("--connect"));
    // A bot option in front of `serve` applied to nothing: refused.
    let misplaced = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--window", "4", "serve", "--seconds", "0.1"])
        .output()
        .expect("run demo");
    assert_eq!(misplaced.status.code(), Some(2));
}
