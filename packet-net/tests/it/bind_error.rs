//! A bind that fails names the address it tried (an operator reading
//! "Address already in use" must not have to guess which), keeping the
//! error's kind.

use std::io;
use std::net::SocketAddr;

use packet_net::server::{Router, ServerConfig, blocking};
use packet_net::transport::TransportError;

/// The error of binding `addr` again: `AddrInUse`, its message naming it.
fn assert_names(addr: SocketAddr, err: TransportError) {
    let TransportError::Io(e) = &err else {
        panic!("not an I/O error: {err:?}");
    };
    assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(
        err.to_string().contains(&std::format!("binding {addr}: ")),
        "{err}"
    );
}

#[test]
fn a_blocking_bind_of_an_address_in_use_names_it() {
    let config = ServerConfig::default().with_workers(1);
    let first = blocking::Server::bind("127.0.0.1:0", config.clone(), Router::new(), ()).unwrap();
    let addr = first.local_addr();
    let err = blocking::Server::bind(addr, config.clone(), Router::new(), ()).unwrap_err();
    assert_names(addr, err);
    first.shutdown();

    let first =
        blocking::UdpServer::bind("127.0.0.1:0", config.clone(), Router::new(), ()).unwrap();
    let addr = first.local_addr();
    let err = blocking::UdpServer::bind(addr, config, Router::new(), ()).unwrap_err();
    assert_names(addr, err);
    first.shutdown();
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_bind_of_an_address_in_use_names_it() {
    use packet_net::server::tokio::{Server, UdpServer};
    let config = ServerConfig::default();
    let first = Server::bind("127.0.0.1:0", config.clone(), Router::new(), ())
        .await
        .unwrap();
    let addr = first.local_addr();
    let err = Server::bind(addr, config.clone(), Router::new(), ())
        .await
        .unwrap_err();
    assert_names(addr, err);
    first.shutdown().await;

    let first = UdpServer::bind("127.0.0.1:0", config.clone(), Router::new(), ())
        .await
        .unwrap();
    let addr = first.local_addr();
    let err = UdpServer::bind(addr, config, Router::new(), ())
        .await
        .unwrap_err();
    assert_names(addr, err);
    first.shutdown().await;
}
