//! A chat client: joins under a name, sends each line of stdin, prints
//! what the room says. With stdin not a terminal (piped), it sends the
//! lines, waits a moment for the echoes and exits.
//!
//! ```sh
//! cargo run --example chat_client -- ana [127.0.0.1:7407]
//! printf 'hi\nbye\n' | cargo run --example chat_client -- bob
//! ```

use std::time::Duration;

use packet_examples::{Join, Said, Say};
use packet_net::transport::tokio::TcpPacketStream;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "anon".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7407".into());
    let mut stream = TcpPacketStream::connect(&addr).await?;
    stream.send(&Join { name: &name }).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line? {
                Some(text) => stream.send(&Say { text: &text }).await?,
                None => stdin_open = false,
            },
            frame = stream.recv() => {
                let said: Said<'_> = frame?.decode_packet()?;
                match said.event {
                    1 => println!("* {} joined", said.name),
                    2 => println!("* {} left", said.name),
                    _ => println!("<{}> {}", said.name, said.text),
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(500)), if !stdin_open => break,
        }
    }
    stream.close().await?;
    Ok(())
}
