//! Real handshakes over loopback TCP against `portcullis-tls`.

mod dev;
mod errors;
mod handshakes;
mod refusals;
mod reload;
mod sni;
mod support;
