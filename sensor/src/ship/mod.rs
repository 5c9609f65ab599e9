//! Shipping a sensor's records and alerts to its province's server, losing nothing on the
//! way: [`sink::Batcher`] cuts them into compressed batches, [`spool::Spool`] keeps each batch
//! on disk until it is acknowledged, the shipper (`client`) sends them over mutual TLS in order,
//! [`wire`] is the protocol both sides read, and [`batch`] is how the server checks a batch;
//! `nats` is the scale-out transport (NATS JetStream, taken by `canh indexer`).

pub mod batch;
#[cfg(feature = "ship")]
pub mod client;
#[cfg(feature = "nats")]
pub mod nats;
pub mod sink;
pub mod spool;
pub mod wire;
