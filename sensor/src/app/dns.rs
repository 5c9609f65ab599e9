//! DNS transactions: queries paired with their responses by transaction id, over UDP
//! datagrams or TCP messages (2-byte length framing).

use crate::proto::dns::{self, Message};
use crate::record::{Body, Dns};
use crate::time::{Micros, as_secs_f64};

use super::Ctx;

/// Queries awaiting a response, per flow; older ones are logged unanswered past this.
const MAX_PENDING: usize = 64;

#[derive(Debug, Default)]
pub struct DnsState {
    pending: Vec<(Micros, Message)>,
    pub proto: &'static str,
}

impl DnsState {
    pub fn new(proto: &'static str) -> Self {
        Self { proto, ..Default::default() }
    }

    /// One DNS message from either side.
    pub fn message(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>) {
        let msg = match dns::parse(bytes) {
            Ok(msg) => msg,
            Err(e) => {
                ctx.weird("DNS", e.weird_name(false), Some(e.place()));
                return;
            }
        };
        if let Some(e) = msg.error {
            // The header and question were read: the transaction is still logged.
            ctx.weird("DNS", e.weird_name(true), Some(e.place()));
        }
        if !msg.is_response() {
            if self.pending.len() >= MAX_PENDING {
                let (ts, q) = self.pending.remove(0);
                self.log(ts, Some(&q), None, ctx);
            }
            self.pending.push((ctx.ts, msg));
            return;
        }
        let question = msg.questions.first().map(|q| &q.name);
        let matched = self
            .pending
            .iter()
            .position(|(_, q)| q.id == msg.id && q.questions.first().map(|q| &q.name) == question)
            .or_else(|| self.pending.iter().position(|(_, q)| q.id == msg.id));
        match matched {
            Some(i) => {
                let (ts, q) = self.pending.remove(i);
                self.log(ts, Some(&q), Some(&msg), ctx);
            }
            None => self.log(ctx.ts, None, Some(&msg), ctx),
        }
    }

    /// Logs the queries never answered.
    pub fn finish(&mut self, ctx: &mut Ctx<'_>) {
        for (ts, q) in std::mem::take(&mut self.pending) {
            self.log(ts, Some(&q), None, ctx);
        }
    }

    fn log(&self, ts: Micros, query: Option<&Message>, resp: Option<&Message>, ctx: &mut Ctx<'_>) {
        let Some(main) = query.or(resp) else { return };
        let question = main.questions.first().or_else(|| resp.and_then(|r| r.questions.first()));
        let mut rec = Dns {
            proto: self.proto,
            trans_id: main.id,
            rtt: match (query, resp) {
                (Some(_), Some(_)) => Some(as_secs_f64(ctx.ts.saturating_sub(ts))),
                _ => None,
            },
            query: question.map(|q| q.name.clone()),
            qclass: question.map(|q| q.qclass),
            qclass_name: question.map(|q| dns::qclass_name(q.qclass)),
            qtype: question.map(|q| q.qtype),
            qtype_name: question.map(|q| dns::qtype_name(q.qtype)),
            rd: main.rd(),
            z: main.z(),
            ..Default::default()
        };
        if let Some(r) = resp {
            rec.rcode = Some(r.rcode());
            rec.rcode_name = Some(dns::rcode_name(r.rcode()));
            rec.aa = r.aa();
            rec.tc = r.tc();
            rec.ra = r.ra();
            rec.rejected = r.rcode() == 5;
            for a in &r.answers {
                rec.answers.push(a.data.clone());
                rec.ttls.push(f64::from(a.ttl));
            }
        }
        ctx.emit(ts, Body::Dns(rec));
    }
}

/// DNS over TCP: splits the stream into length-prefixed messages.
#[derive(Debug, Default)]
pub struct DnsTcp {
    bufs: [Vec<u8>; 2],
    dead: [bool; 2],
    pub state: DnsState,
}

impl DnsTcp {
    pub fn new() -> Self {
        Self { state: DnsState::new("tcp"), ..Default::default() }
    }

    pub fn data(&mut self, dir: usize, mut input: &[u8], ctx: &mut Ctx<'_>) {
        if self.dead[dir] {
            return;
        }
        // Whole messages straight from the segment, without copying.
        if self.bufs[dir].is_empty() {
            while let Some(len) = framed_len(input) {
                self.state.message(&input[2..2 + len], ctx);
                input = &input[2 + len..];
            }
            if input.is_empty() {
                return;
            }
        }
        let buf = &mut self.bufs[dir];
        buf.extend_from_slice(input);
        let mut pos = 0;
        while let Some(len) = framed_len(&buf[pos..]) {
            self.state.message(&buf[pos + 2..pos + 2 + len], ctx);
            pos += 2 + len;
        }
        // At most one incomplete message (< 64 KiB) stays buffered.
        buf.drain(..pos);
    }

    pub fn gap(&mut self, dir: usize) {
        // Framing is lost after a hole; this direction is not parsed any further.
        self.dead[dir] = true;
        self.bufs[dir].clear();
    }
}

/// The length of the complete length-prefixed message at the start of `b`, if there is one.
fn framed_len(b: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
    (b.len() >= 2 + len).then_some(len)
}
