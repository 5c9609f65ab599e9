//! QUIC connections: the Initial packets of both sides are unprotected (see
//! `proto::quic`), their CRYPTO frames reassembled per direction, and the ClientHello and
//! ServerHello inside logged as one `ssl` record (JA4 with `q`), as Zeek logs QUIC handshakes.

use std::collections::BTreeMap;

use crate::proto::quic::{self, InitialKeys};
use crate::proto::tls::{self, ClientHello, Handshake, ServerHello};
use crate::record::Body;
use crate::time::Micros;

use super::Ctx;
use super::tls::ssl_record;

/// CRYPTO bytes kept per direction; a ClientHello with post-quantum key shares is ~2 KiB.
const MAX_CRYPTO: usize = 64 * 1024;

#[derive(Default)]
pub struct QuicConn {
    /// Keys of the client's and server's Initial packets, from the client's first DCID.
    keys: Option<[InitialKeys; 2]>,
    crypto: [BTreeMap<u64, Vec<u8>>; 2],
    crypto_bytes: [usize; 2],
    client: Option<ClientHello>,
    server: Option<(ServerHello, u16)>,
    ts: Option<Micros>,
    logged: bool,
}

impl QuicConn {
    /// One UDP datagram; it may hold several coalesced QUIC packets.
    pub fn datagram(&mut self, dir: usize, mut data: &[u8], ctx: &mut Ctx<'_>) {
        if self.logged {
            return;
        }
        while let Some(header) = quic::long_header(data) {
            if header.initial {
                if self.keys.is_none() && dir == 0 {
                    let client = InitialKeys::derive(header.version, header.dcid, true);
                    let server = InitialKeys::derive(header.version, header.dcid, false);
                    if let (Some(c), Some(s)) = (client, server) {
                        self.keys = Some([c, s]);
                    }
                }
                if let Some(plain) = self.keys.as_ref().and_then(|k| quic::decrypt_initial(data, &header, &k[dir])) {
                    for (offset, bytes) in quic::crypto_frames(&plain) {
                        self.crypto_data(dir, offset, bytes);
                    }
                    self.handshake(dir, ctx.ts);
                }
            }
            data = &data[header.end..];
        }
        if self.client.is_some() && self.server.is_some() {
            self.log(ctx);
        }
    }

    fn crypto_data(&mut self, dir: usize, offset: u64, bytes: &[u8]) {
        if self.crypto_bytes[dir] + bytes.len() > MAX_CRYPTO || self.crypto[dir].contains_key(&offset) {
            return;
        }
        self.crypto_bytes[dir] += bytes.len();
        self.crypto[dir].insert(offset, bytes.to_vec());
    }

    /// Parses the handshake messages that are complete from offset 0 of the crypto stream.
    fn handshake(&mut self, dir: usize, ts: Micros) {
        let mut stream = Vec::new();
        for (&offset, bytes) in &self.crypto[dir] {
            let have = stream.len() as u64;
            if offset > have {
                break;
            }
            let skip = (have - offset) as usize;
            if skip < bytes.len() {
                stream.extend_from_slice(&bytes[skip..]);
            }
        }
        let (messages, _) = tls::split_messages(&stream);
        for m in messages {
            match tls::parse_handshake(m) {
                Handshake::ClientHello(ch) if dir == 0 && self.client.is_none() => {
                    self.ts = Some(ts);
                    self.client = Some(ch);
                }
                Handshake::ServerHello(sh) if dir == 1 && self.server.is_none() => {
                    let legacy = u16::from_be_bytes([m.get(4).copied().unwrap_or(0), m.get(5).copied().unwrap_or(0)]);
                    self.server = Some((sh, legacy));
                }
                _ => {}
            }
        }
    }

    pub fn finish(&mut self, ctx: &mut Ctx<'_>) {
        if !self.logged && self.client.is_some() {
            self.log(ctx);
        }
    }

    fn log(&mut self, ctx: &mut Ctx<'_>) {
        self.logged = true;
        let rec = ssl_record(self.client.as_ref(), self.server.as_ref(), &[], self.server.is_some(), 'q');
        ctx.emit(self.ts.unwrap_or(ctx.ts), Body::Ssl(rec));
        self.crypto = Default::default();
    }
}
