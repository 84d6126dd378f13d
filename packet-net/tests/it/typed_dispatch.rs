//! Typed dispatch: `Router::on::<P>` for borrowed packets (fields borrow
//! from the receive buffer) and `Router::on_set::<M>` with a derived
//! `PacketSet`, on a live server.

use std::time::Duration;

use packet_core::{Packet, PacketSet};
use packet_net::server::blocking::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::blocking::TcpPacketStream;

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0F01)]
struct Chat<'a> {
    #[packet(len = u8)]
    name: &'a str,
    text: &'a [u8],
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

fn round_trip(router: Router<()>, send: &[&dyn Fn(&mut TcpPacketStream)]) -> Vec<Vec<u8>> {
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut c = TcpPacketStream::connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    send.iter()
        .map(|s| {
            s(&mut c);
            c.recv().unwrap().body().to_vec()
        })
        .collect()
}

#[test]
fn on_takes_borrowed_and_owned_packets() {
    let router = Router::<()>::new()
        .on::<Chat>(|ctx, chat| {
            // `chat` borrows the receive buffer: no copy of its fields.
            ctx.reply(&Chat {
                name: chat.text.len().to_string().as_str(),
                text: chat.name.as_bytes(),
            })
        })
        .on::<Ping>(|ctx, ping| ctx.reply(&Ping { n: ping.n + 1 }));
    let got = round_trip(
        router,
        &[
            &|c| {
                c.send(&Chat {
                    name: "ana",
                    text: b"hello",
                })
                .unwrap()
            },
            &|c| c.send(&Ping { n: 41 }).unwrap(),
        ],
    );
    let chat: Chat<'_> =
        packet_core::Decode::decode(&mut packet_core::Reader::new(&got[0])).unwrap();
    assert_eq!(
        chat,
        Chat {
            name: "5",
            text: b"ana"
        }
    );
    assert_eq!(got[1], 42u32.to_le_bytes());
}

#[test]
fn on_set_takes_a_derived_packet_set() {
    let router = Router::<()>::new().on_set::<Msg>(|ctx, msg| match msg {
        Msg::Chat(chat) => ctx.reply_raw(1, chat.text),
        Msg::Ping(ping) => ctx.reply_raw(2, &ping.n.to_le_bytes()),
    });
    assert!(router.handles(0x0F01) && router.handles(0x0F02) && !router.handles(1));
    let got = round_trip(
        router,
        &[
            &|c| {
                c.send(&Chat {
                    name: "bo",
                    text: b"hi",
                })
                .unwrap()
            },
            &|c| c.send(&Ping { n: 7 }).unwrap(),
        ],
    );
    assert_eq!(got, [b"hi".to_vec(), 7u32.to_le_bytes().to_vec()]);
}
