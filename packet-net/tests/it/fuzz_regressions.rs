//! Findings of the fuzz targets (`fuzz/`), each a test that failed
//! before its fix.

#[cfg(feature = "tokio")]
use bytes::BytesMut;
use packet_core::crypto::{ChannelKeys, SecretKey};
#[cfg(feature = "tokio")]
use packet_net::transport::tokio::{PacketCodec, RawFrame};
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
#[cfg(feature = "tokio")]
use tokio_util::codec::{Decoder, Encoder};

const TOKEN: SessionToken = SessionToken([1; 16]);

fn keys() -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    )
}

fn securities() -> (ClientSecurity, ServerSecurity) {
    let server = ServerSecurity::new(|t: &SessionToken| (*t == TOKEN).then(keys));
    (ClientSecurity::new(TOKEN, keys()), server)
}

/// `packet_codec`: a sealed client codec whose first frame was too big
/// wrote its session hello anyway and forgot it, so the frames after it
/// went without one and the server could never key the session.
#[cfg(feature = "tokio")]
#[test]
fn a_codec_frame_too_big_to_encode_writes_nothing_and_keeps_the_hello() {
    let (client, server) = securities();
    let mut tx = PacketCodec::default().sealed(client);
    let mut rx = PacketCodec::default().sealed(server);
    let mut wire = BytesMut::new();
    let too_big = vec![0u8; 70_000];
    let frame = RawFrame {
        type_id: 1,
        body: &too_big,
    };
    assert!(tx.encode(frame, &mut wire).is_err());
    assert!(
        wire.is_empty(),
        "a failed encode wrote {} bytes",
        wire.len()
    );
    tx.encode(
        RawFrame {
            type_id: 1,
            body: b"hi",
        },
        &mut wire,
    )
    .unwrap();
    let got = rx.decode(&mut wire).unwrap().expect("a frame");
    assert_eq!((got.header.type_id, &got.body[..]), (1, &b"hi"[..]));
}
