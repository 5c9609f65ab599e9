//! Shipping a sensor's records and alerts to its province's server, losing nothing on the
//! way: [`sink::Batcher`] cuts them into compressed batches, [`spool::Spool`] keeps each batch
//! on disk until it is acknowledged, [`client::Shipper`] sends them over mutual TLS in order,
//! and [`wire`] is the protocol both sides read.

#[cfg(feature = "ship")]
pub mod client;
pub mod sink;
pub mod spool;
pub mod wire;
