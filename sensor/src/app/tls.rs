//! The TLS handshake of one connection: records are framed per direction, handshake messages
//! reassembled across records, and one `ssl` record logged when the handshake is over (both
//! sides switched to encrypted records) or the connection ends.

use crate::proto::tls::{self, ClientHello, Handshake, ServerHello};
use crate::record::{Body, Ssl};
use crate::time::Micros;

use super::Ctx;

/// Bytes of handshake buffered per direction; certificate chains fit well within this.
const MAX_BUFFER: usize = 256 * 1024;

#[derive(Debug, Default)]
struct Side {
    records: Vec<u8>,
    handshake: Vec<u8>,
    /// Encrypted records started (ChangeCipherSpec or application data): stop parsing.
    encrypted: bool,
    dead: bool,
}

#[derive(Debug, Default)]
pub struct TlsConn {
    sides: [Side; 2],
    client: Option<ClientHello>,
    server: Option<(ServerHello, u16)>,
    certs: Vec<tls::Certificate>,
    ts: Option<Micros>,
    application_data: bool,
    logged: bool,
}

impl TlsConn {
    pub fn data(&mut self, dir: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        if self.logged {
            return;
        }
        let side = &mut self.sides[dir];
        if side.dead || side.encrypted {
            return;
        }
        side.records.extend_from_slice(data);
        if side.records.len() > MAX_BUFFER {
            ctx.weird("SSL", "SSL_handshake_too_long", Some(format!("over {MAX_BUFFER} bytes unencrypted")));
            side.dead = true;
            side.records = Vec::new();
            return;
        }
        let mut pos = 0;
        let mut messages: Vec<Vec<u8>> = Vec::new();
        while side.records.len() >= pos + 5 {
            let h = &side.records[pos..pos + 5];
            let (ctype, major, len) = (h[0], h[1], usize::from(u16::from_be_bytes([h[3], h[4]])));
            if !(20..=24).contains(&ctype) || major != 3 || len > 18_432 {
                // Not a TLS record where one must start: the rest of this direction is not
                // read as TLS.
                let addl = format!("content type {ctype}, version {major}.{}, length {len}", h[2]);
                ctx.weird("SSL", "SSL_invalid_record", Some(addl));
                side.dead = true;
                break;
            }
            if side.records.len() < pos + 5 + len {
                break;
            }
            let body = &side.records[pos + 5..pos + 5 + len];
            pos += 5 + len;
            match ctype {
                tls::CONTENT_HANDSHAKE => {
                    side.handshake.extend_from_slice(body);
                    let (msgs, used) = tls::split_messages(&side.handshake);
                    messages.extend(msgs.into_iter().map(<[u8]>::to_vec));
                    side.handshake.drain(..used);
                }
                tls::CONTENT_CHANGE_CIPHER_SPEC | tls::CONTENT_APPLICATION_DATA => {
                    side.encrypted = true;
                    if ctype == tls::CONTENT_APPLICATION_DATA {
                        self.application_data = true;
                    }
                    break;
                }
                _ => {}
            }
        }
        let side = &mut self.sides[dir];
        if side.encrypted || side.dead {
            side.records = Vec::new();
            side.handshake = Vec::new();
        } else {
            side.records.drain(..pos);
        }
        for m in messages {
            self.message(&m, ctx);
        }
        let done = self.sides.iter().all(|s| s.encrypted || s.dead);
        if done && self.client.is_some() {
            self.log(ctx);
        }
    }

    fn message(&mut self, msg: &[u8], ctx: &Ctx<'_>) {
        match tls::parse_handshake(msg) {
            Handshake::ClientHello(ch) if self.client.is_none() => {
                self.ts = Some(ctx.ts);
                self.client = Some(ch);
            }
            Handshake::ServerHello(sh) if self.server.is_none() => {
                // The legacy version field is what JA3S uses.
                let legacy = u16::from_be_bytes([msg.get(4).copied().unwrap_or(0), msg.get(5).copied().unwrap_or(0)]);
                self.ts.get_or_insert(ctx.ts);
                self.server = Some((sh, legacy));
            }
            Handshake::Certificates(certs) if self.certs.is_empty() => self.certs = certs,
            _ => {}
        }
    }

    /// Logs the handshake if it was not yet (the connection ended).
    pub fn finish(&mut self, ctx: &mut Ctx<'_>) {
        if !self.logged && (self.client.is_some() || self.server.is_some()) {
            self.log(ctx);
        }
    }

    pub fn gap(&mut self, dir: usize) {
        self.sides[dir].dead = true;
    }

    /// True once this direction carries only encrypted records (or the handshake was logged):
    /// its bytes from here on are ciphertext that no content rule can match.
    pub fn encrypted(&self, dir: usize) -> bool {
        self.logged || self.sides[dir].encrypted
    }

    fn log(&mut self, ctx: &mut Ctx<'_>) {
        self.logged = true;
        let established = self.application_data || self.sides.iter().all(|s| s.encrypted);
        let rec = ssl_record(self.client.as_ref(), self.server.as_ref(), &self.certs, established, 't');
        let ts = self.ts.unwrap_or(ctx.ts);
        ctx.emit(ts, Body::Ssl(rec));
        self.sides = Default::default();
        self.certs = Vec::new();
    }
}

/// The `ssl` record of a handshake, over TLS (`transport` 't') or QUIC ('q').
pub fn ssl_record(
    client: Option<&ClientHello>,
    server: Option<&(ServerHello, u16)>,
    certs: &[tls::Certificate],
    established: bool,
    transport: char,
) -> Ssl {
    let mut rec = Ssl { established, ..Default::default() };
    if let Some(ch) = client {
        rec.server_name = ch.server_name.clone();
        rec.client_alpn = ch.alpn.clone();
        let offered = if ch.supported_versions.is_empty() { vec![ch.version] } else { ch.supported_versions.clone() };
        rec.client_versions = offered.into_iter().filter(|v| !tls::is_grease(*v)).map(tls::version_name).collect();
        rec.client_ciphers = ch.ciphers.iter().copied().filter(|c| !tls::is_grease(*c)).map(tls::cipher_name).collect();
        rec.ja3 = Some(ch.ja3());
        rec.ja4 = Some(ch.ja4_over(transport));
    }
    if let Some((sh, legacy)) = server {
        rec.version = Some(tls::version_name(sh.version));
        rec.cipher = Some(tls::cipher_name(sh.cipher));
        rec.next_protocol = sh.alpn.clone();
        rec.ja3s = Some(sh.ja3s(*legacy));
    }
    if let Some(c) = certs.first() {
        rec.subject = Some(c.subject.clone());
        rec.issuer = Some(c.issuer.clone());
        rec.cert_serial = Some(c.serial.clone());
        rec.cert_not_valid_before = Some(c.not_before as f64);
        rec.cert_not_valid_after = Some(c.not_after as f64);
        rec.san_dns = c.san_dns.clone();
    }
    rec.cert_chain_fps = certs.iter().map(|c| c.sha1.clone()).collect();
    rec
}
