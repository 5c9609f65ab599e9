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
        // A reply answers the query with its transaction id and its question. One with no
        // question (an mDNS announcement, id 0) or another question answers nothing pending:
        // attaching it by id alone would pin its answers to an unrelated name.
        let matched = msg.questions.first().and_then(|asked| {
            self.pending.iter().position(|(_, q)| {
                q.id == msg.id && q.questions.first().is_some_and(|p| p.name.eq_ignore_ascii_case(&asked.name))
            })
        });
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
                // Zeek logs no answer for the types it parses but does not render.
                if let Some(data) = &a.data {
                    rec.answers.push(data.clone());
                    rec.ttls.push(f64::from(a.ttl));
                }
            }
            // A reply with no question (mDNS) is named by its first answer, as Zeek does;
            // its qtype and qclass stay unknown.
            if rec.query.is_none() {
                rec.query = r.answers.first().map(|a| a.name.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppConfig, Output};
    use crate::record::tests_support::head;

    fn message(id: u16, response: bool, question: Option<&[u8]>, answer_owner: Option<&[u8]>) -> Vec<u8> {
        let flags: u16 = if response { 0x8400 } else { 0 };
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&[0, u8::from(question.is_some()), 0, u8::from(answer_owner.is_some()), 0, 0, 0, 0]);
        if let Some(q) = question {
            m.extend_from_slice(q);
            m.extend_from_slice(&[0, 1, 0, 1]);
        }
        if let Some(owner) = answer_owner {
            m.extend_from_slice(owner);
            m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 168, 1, 9]);
        }
        m
    }

    fn logged(messages: &[Vec<u8>]) -> Vec<Dns> {
        let h = head();
        let cfg = AppConfig::default();
        let mut out = Output::new(crate::files::RetainBudget::new(usize::MAX));
        let mut ctx = Ctx { head: &h, ts: 1_000_000, cfg: &cfg, out: &mut out };
        let mut state = DnsState::new("udp");
        for m in messages {
            state.message(m, &mut ctx);
        }
        state.finish(&mut ctx);
        out.records.into_iter().filter_map(|r| if let Body::Dns(d) = r.body { Some(d) } else { None }).collect()
    }

    /// mDNS: a query for one name, then an announcement with id 0 and no question for
    /// another. The announcement is logged on its own, named by its answer; the query stays
    /// unanswered. A reply with the query's id but another question is not its answer either.
    #[test]
    fn replies_attach_only_to_their_own_query() {
        let printer = b"\x07printer\x05local\x00";
        let nas = b"\x03nas\x05local\x00";
        let recs = logged(&[message(0, false, Some(printer), None), message(0, true, None, Some(nas))]);
        assert_eq!(recs.len(), 2);
        let announce = recs.iter().find(|d| d.rcode.is_some()).expect("the announcement");
        assert_eq!((announce.query.as_deref(), announce.qtype, announce.rtt), (Some("nas.local"), None, None));
        assert_eq!(announce.answers, ["192.168.1.9"]);
        let query = recs.iter().find(|d| d.rcode.is_none()).expect("the query");
        assert_eq!((query.query.as_deref(), query.answers.len()), (Some("printer.local"), 0));
        let recs = logged(&[message(9, false, Some(printer), None), message(9, true, Some(nas), Some(nas))]);
        assert_eq!(recs.len(), 2);
        // The same name in another case (DNS 0x20) is the same question.
        let upper = b"\x07PRINTER\x05local\x00";
        let recs = logged(&[message(9, false, Some(printer), None), message(9, true, Some(upper), Some(upper))]);
        assert_eq!(recs.len(), 1);
        assert!(recs[0].rtt.is_some());
    }
}
