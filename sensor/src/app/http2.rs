//! HTTP/2 in cleartext (h2c with prior knowledge): frames are split per direction and the DATA
//! of each stream collected. A body that is a DNS message is DNS over HTTPS (RFC 8484) — a
//! way around the agency's DNS monitoring — and is logged as `dns`, paired as DNS pairs.
//!
//! Headers (HPACK) are not decoded yet, so no `http` records come from HTTP/2.

use std::collections::HashMap;

use crate::proto::dns;

use super::Ctx;
use super::dns::DnsState;

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_DATA: u8 = 0;
const FLAG_END_STREAM: u8 = 0x1;
const FLAG_PADDED: u8 = 0x8;
/// Frames larger than this (the protocol allows 16 MiB) end parsing of the direction.
const MAX_FRAME: usize = 1 << 20;
/// A DNS message fits in 65,535 bytes; longer bodies are not DNS and are not kept.
const MAX_DNS_BODY: usize = 65_535;

pub struct Http2Conn {
    bufs: [Vec<u8>; 2],
    preface_seen: bool,
    dead: [bool; 2],
    /// DATA of open streams, per direction and stream id; `None` once a body is too long.
    bodies: HashMap<(usize, u32), Option<Vec<u8>>>,
    pub dns: DnsState,
}

impl Default for Http2Conn {
    fn default() -> Self {
        Self {
            bufs: Default::default(),
            preface_seen: false,
            dead: [false; 2],
            bodies: HashMap::new(),
            dns: DnsState::new("tcp"),
        }
    }
}

impl Http2Conn {
    pub fn data(&mut self, dir: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        if self.dead[dir] {
            return;
        }
        let mut buf = std::mem::take(&mut self.bufs[dir]);
        buf.extend_from_slice(data);
        let mut pos = 0;
        if dir == 0 && !self.preface_seen {
            if buf.len() < PREFACE.len() {
                self.bufs[dir] = buf;
                return;
            }
            if !buf.starts_with(PREFACE) {
                self.dead[dir] = true;
                return;
            }
            self.preface_seen = true;
            pos = PREFACE.len();
        }
        while buf.len() >= pos + 9 {
            let h = &buf[pos..pos + 9];
            let len = (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]);
            if len > MAX_FRAME {
                self.dead[dir] = true;
                return;
            }
            if buf.len() < pos + 9 + len {
                break;
            }
            let (kind, flags) = (h[3], h[4]);
            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            let payload = &buf[pos + 9..pos + 9 + len];
            pos += 9 + len;
            if kind == FRAME_DATA && stream != 0 {
                let body = if flags & FLAG_PADDED != 0 {
                    let pad = usize::from(payload.first().copied().unwrap_or(0));
                    payload.get(1..len.saturating_sub(pad)).unwrap_or(&[])
                } else {
                    payload
                };
                let entry = self.bodies.entry((dir, stream)).or_insert_with(|| Some(Vec::new()));
                if let Some(collected) = entry {
                    if collected.len() + body.len() > MAX_DNS_BODY {
                        *entry = None;
                    } else {
                        collected.extend_from_slice(body);
                    }
                }
                if flags & FLAG_END_STREAM != 0
                    && let Some(Some(body)) = self.bodies.remove(&(dir, stream))
                    && is_dns_message(dir, &body)
                {
                    self.dns.message(&body, ctx);
                }
            }
        }
        buf.drain(..pos);
        self.bufs[dir] = buf;
    }

    pub fn gap(&mut self, dir: usize) {
        self.dead[dir] = true;
        self.bufs[dir] = Vec::new();
    }

    pub fn finish(&mut self, ctx: &mut Ctx<'_>) {
        self.dns.finish(ctx);
    }
}

/// A query from the client, or a response from the server, that parses strictly as DNS.
fn is_dns_message(dir: usize, body: &[u8]) -> bool {
    if dir == 0 {
        dns::looks_like_dns(body)
    } else {
        dns::parse(body).is_ok_and(|m| m.is_response() && m.questions.len() == 1 && m.error.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppConfig, Output};
    use crate::files::RetainBudget;
    use crate::record::Body;
    use crate::record::tests_support::head;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![(payload.len() >> 16) as u8, (payload.len() >> 8) as u8, payload.len() as u8, kind, flags];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn doh_over_h2c_becomes_dns_records() {
        let query = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let mut answer = query.to_vec();
        answer[2] = 0x81;
        answer[7] = 1;
        answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        let mut client = PREFACE.to_vec();
        client.extend(frame(4, 0, 0, &[]));
        client.extend(frame(1, 4, 1, b"headers"));
        // The query in two DATA frames, the second padded and ending the stream.
        client.extend(frame(0, 0, 1, &query[..10]));
        let mut padded = vec![3];
        padded.extend_from_slice(&query[10..]);
        padded.extend_from_slice(&[0, 0, 0]);
        client.extend(frame(0, FLAG_END_STREAM | FLAG_PADDED, 1, &padded));
        // A long upload on another stream is not DNS and is not kept.
        client.extend(frame(0, 0, 3, &vec![0u8; 60_000]));
        client.extend(frame(0, FLAG_END_STREAM, 3, &vec![0u8; 10_000]));
        let mut server = frame(1, 4, 1, b"headers");
        server.extend(frame(0, FLAG_END_STREAM, 1, &answer));
        let h = head();
        let cfg = AppConfig::default();
        let mut out = Output::new(RetainBudget::new(usize::MAX));
        let mut ctx = Ctx { head: &h, ts: 5, cfg: &cfg, out: &mut out };
        let mut conn = Http2Conn::default();
        for piece in client.chunks(7) {
            conn.data(0, piece, &mut ctx);
        }
        conn.data(1, &server, &mut ctx);
        conn.finish(&mut ctx);
        assert!(conn.bodies.is_empty());
        let dns: Vec<_> =
            out.records.iter().filter_map(|r| if let Body::Dns(d) = &r.body { Some(d) } else { None }).collect();
        assert_eq!(dns.len(), 1);
        assert_eq!(dns[0].query.as_deref(), Some("example.com"));
        assert_eq!(dns[0].answers, ["93.184.216.34"]);
    }
}
