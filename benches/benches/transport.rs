//! Loopback TCP echo of 64-byte packets: packet's tokio transport (and its
//! session server with dispatch) against tokio-util's
//! `LengthDelimitedCodec` + bincode 2, on the same workload in the same run.
//!
//! - `throughput`: one connection, 256 packets in flight, 4096 round trips
//!   per iteration (reported as elements/s).
//! - `latency`: one connection, one packet in flight (time per round trip).
//!
//! Both sides decode each request into a struct and encode the reply from
//! it, and both coalesce: a peer flushes only when no more frames are
//! already buffered. Run with
//! `cargo bench -p packet-benches --bench transport -- --warm-up-time 1 --measurement-time 3`.

mod common;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{PAYLOAD, Ping, client_batch, echo_stream};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{FutureExt, SinkExt, StreamExt};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::tokio::{TcpPacketListener, TcpPacketStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

const BATCH: u64 = 4096;
const WINDOW: u64 = 256;

/// The same packet for bincode 2 (fixed-int encoding: 64 bytes too).
#[derive(Debug, Clone, Copy, PartialEq, bincode::Encode, bincode::Decode)]
struct BPing {
    seq: u64,
    payload: [u8; PAYLOAD],
}

fn bconfig() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding()
}

// ---- packet: raw tokio transport -------------------------------------------

async fn packet_echo_server(listener: TcpPacketListener) {
    while let Ok((s, _)) = listener.accept().await {
        tokio::spawn(echo_stream(s));
    }
}

// ---- tokio-util LengthDelimitedCodec + bincode ------------------------------

async fn ld_echo_server(listener: TcpListener) {
    while let Ok((s, _)) = listener.accept().await {
        s.set_nodelay(true).unwrap();
        tokio::spawn(async move {
            let mut framed = Framed::new(s, LengthDelimitedCodec::new());
            let mut out = Vec::with_capacity(128);
            while let Some(Ok(frame)) = framed.next().await {
                let mut frame: Option<BytesMut> = Some(frame);
                while let Some(f) = frame.take() {
                    let (p, _): (BPing, usize) = bincode::decode_from_slice(&f, bconfig()).unwrap();
                    out.clear();
                    bincode::encode_into_std_write(p, &mut out, bconfig()).unwrap();
                    if framed.feed(&out[..]).await.is_err() {
                        return;
                    }
                    // Coalesce: take frames that are already buffered.
                    if let Some(Some(Ok(next))) = framed.next().now_or_never() {
                        frame = Some(next);
                    }
                }
                if SinkExt::<&[u8]>::flush(&mut framed).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn ld_client_batch(
    framed: &mut Framed<TcpStream, LengthDelimitedCodec>,
    n: u64,
    window: u64,
) {
    let mut out = Vec::with_capacity(128);
    let send = |seq: u64, out: &mut Vec<u8>| {
        out.clear();
        let p = BPing {
            seq,
            payload: [seq as u8; PAYLOAD],
        };
        bincode::encode_into_std_write(p, out, bconfig()).unwrap();
    };
    let mut sent = 0;
    while sent < window.min(n) {
        send(sent, &mut out);
        framed.feed(&out[..]).await.unwrap();
        sent += 1;
    }
    SinkExt::<&[u8]>::flush(framed).await.unwrap();
    let mut expect = 0;
    while expect < n {
        let f = framed.next().await.unwrap().unwrap();
        let mut frame = Some(f);
        while let Some(f) = frame.take() {
            let (p, _): (BPing, usize) = bincode::decode_from_slice(&f, bconfig()).unwrap();
            assert_eq!(p.seq, expect);
            expect += 1;
            if sent < n {
                send(sent, &mut out);
                framed.feed(&out[..]).await.unwrap();
                sent += 1;
            }
            if expect < n
                && let Some(Some(Ok(next))) = framed.next().now_or_never()
            {
                frame = Some(next);
            }
        }
        SinkExt::<&[u8]>::flush(framed).await.unwrap();
    }
}

// ---- harness ------------------------------------------------------------------

struct Setup {
    rt: Runtime,
    packet: TcpPacketStream,
    server: TcpPacketStream,
    ld: Framed<TcpStream, LengthDelimitedCodec>,
    _handle: packet_net::server::tokio::ServerHandle<()>,
}

fn setup() -> Setup {
    let rt = if std::env::var_os("PACKET_BENCH_CURRENT_THREAD").is_some() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    }
    .enable_all()
    .build()
    .unwrap();
    let (packet, server, ld, handle) = rt.block_on(async {
        let l = TcpPacketListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(packet_echo_server(l));
        let packet = TcpPacketStream::connect(addr).await.unwrap();

        let router = Router::<()>::new().on::<Ping>(|ctx, p| ctx.reply(&p));
        let handle = packet_net::server::tokio::Server::bind(
            "127.0.0.1:0",
            ServerConfig::default(),
            router,
            (),
        )
        .await
        .unwrap();
        let server = TcpPacketStream::connect(handle.local_addr()).await.unwrap();

        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(ld_echo_server(l));
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        let ld = Framed::new(s, LengthDelimitedCodec::new());
        (packet, server, ld, handle)
    });
    Setup {
        rt,
        packet,
        server,
        ld,
        _handle: handle,
    }
}

fn run(c: &mut Criterion, name: &str, n: u64, window: u64) {
    let Setup {
        rt,
        mut packet,
        mut server,
        mut ld,
        _handle,
    } = setup();
    let mut group = c.benchmark_group(format!("tcp_echo_64B/{name}"));
    if n > 1 {
        group.throughput(Throughput::Elements(n));
    }
    group.bench_function("packet", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    client_batch(&mut packet, n, window).await;
                }
                t.elapsed()
            })
        })
    });
    group.bench_function("packet_server_dispatch", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    client_batch(&mut server, n, window).await;
                }
                t.elapsed()
            })
        })
    });
    group.bench_function("tokio_util_ld_bincode", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    ld_client_batch(&mut ld, n, window).await;
                }
                t.elapsed()
            })
        })
    });
    group.finish();
    drop(_handle);
    rt.shutdown_timeout(Duration::from_millis(100));
}

fn throughput(c: &mut Criterion) {
    run(c, "throughput", BATCH, WINDOW);
}

fn latency(c: &mut Criterion) {
    run(c, "latency", 1, 1);
}

criterion_group!(benches, throughput, latency);
criterion_main!(benches);
