//! QUIC Initial packets (RFC 9000, 9001; QUIC v2, RFC 9369): their protection uses keys
//! derived from the client's first Destination Connection ID, which is on the wire, so a
//! passive observer can remove it and read the CRYPTO frames — the TLS ClientHello (server
//! name, ALPN, JA4) and ServerHello. Nothing after the Initial packets can be read.
//!
//! Cryptography is RustCrypto's (hkdf, aes, aes-gcm); this module only applies RFC 9001 §5.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, Payload};
use hkdf::Hkdf;
use sha2::Sha256;

pub const VERSION_1: u32 = 0x0000_0001;
pub const VERSION_2: u32 = 0x6b33_43cf;
/// draft-29, still sent by some clients.
pub const DRAFT_29: u32 = 0xff00_001d;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f,
    0x0a,
];
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8,
    0x99,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e,
    0xd9,
];

/// Keys protecting one direction's Initial packets.
#[derive(Clone)]
pub struct InitialKeys {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

/// TLS 1.3's HKDF-Expand-Label with an empty context.
fn expand_label(secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    Hkdf::<Sha256>::from_prk(secret).expect("a 32-byte secret").expand(&info, &mut out).expect("a short output");
    out
}

impl InitialKeys {
    /// Keys of the client (`client == true`) or server Initial packets of a connection whose
    /// client chose `dcid` as its first Destination Connection ID.
    pub fn derive(version: u32, dcid: &[u8], client: bool) -> Option<Self> {
        let (salt, prefix) = match version {
            VERSION_1 => (&SALT_V1, "quic"),
            DRAFT_29 => (&SALT_DRAFT_29, "quic"),
            VERSION_2 => (&SALT_V2, "quicv2"),
            _ => return None,
        };
        let (initial, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
        let secret = expand_label(&initial, if client { "client in" } else { "server in" }, 32);
        let mut k = Self { key: [0; 16], iv: [0; 12], hp: [0; 16] };
        k.key.copy_from_slice(&expand_label(&secret, &format!("{prefix} key"), 16));
        k.iv.copy_from_slice(&expand_label(&secret, &format!("{prefix} iv"), 12));
        k.hp.copy_from_slice(&expand_label(&secret, &format!("{prefix} hp"), 16));
        Some(k)
    }
}

/// A QUIC variable-length integer at `pos`: (value, bytes used).
pub fn varint(b: &[u8], pos: usize) -> Option<(u64, usize)> {
    let first = *b.get(pos)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(pos..pos + len)?;
    let mut v = u64::from(first & 0x3f);
    for byte in &bytes[1..] {
        v = (v << 8) | u64::from(*byte);
    }
    Some((v, len))
}

/// The clear parts of a long-header packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongHeader<'a> {
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    pub initial: bool,
    /// Offset of the (protected) packet number.
    pub pn_offset: usize,
    /// Offset just past this packet (coalesced packets follow).
    pub end: usize,
}

/// Parses the long header at the start of `b`; `None` for a short header or garbage.
pub fn long_header(b: &[u8]) -> Option<LongHeader<'_>> {
    let first = *b.first()?;
    if first & 0xc0 != 0xc0 {
        return None;
    }
    let version = u32::from_be_bytes(b.get(1..5)?.try_into().ok()?);
    let dlen = usize::from(*b.get(5)?);
    if dlen > 20 {
        return None;
    }
    let dcid = b.get(6..6 + dlen)?;
    let mut pos = 6 + dlen;
    let slen = usize::from(*b.get(pos)?);
    if slen > 20 {
        return None;
    }
    let scid = b.get(pos + 1..pos + 1 + slen)?;
    pos += 1 + slen;
    let kind = (first >> 4) & 0x3;
    let initial = match version {
        VERSION_1 | DRAFT_29 => kind == 0,
        VERSION_2 => kind == 1,
        _ => return None,
    };
    if initial {
        let (token_len, n) = varint(b, pos)?;
        pos += n + usize::try_from(token_len).ok()?;
    }
    let (length, n) = varint(b, pos)?;
    pos += n;
    let end = pos.checked_add(usize::try_from(length).ok()?)?;
    if end > b.len() {
        return None;
    }
    Some(LongHeader { version, dcid, scid, initial, pn_offset: pos, end })
}

/// Removes header protection and decrypts one Initial packet (`packet` = the whole packet,
/// header first). Returns the plaintext frames.
pub fn decrypt_initial(packet: &[u8], header: &LongHeader<'_>, keys: &InitialKeys) -> Option<Vec<u8>> {
    let sample = packet.get(header.pn_offset + 4..header.pn_offset + 20)?;
    let hp = Aes128::new(GenericArray::from_slice(&keys.hp));
    let mut mask = GenericArray::clone_from_slice(sample);
    hp.encrypt_block(&mut mask);
    let mut head = packet.get(..header.pn_offset + 4)?.to_vec();
    head[0] ^= mask[0] & 0x0f;
    let pn_len = usize::from(head[0] & 0x03) + 1;
    head.truncate(header.pn_offset + pn_len);
    let mut pn = 0u64;
    for i in 0..pn_len {
        head[header.pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(head[header.pn_offset + i]);
    }
    let mut nonce = keys.iv;
    for (i, byte) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= byte;
    }
    let ciphertext = packet.get(header.pn_offset + pn_len..header.end)?;
    let aead = Aes128Gcm::new_from_slice(&keys.key).ok()?;
    aead.decrypt(GenericArray::from_slice(&nonce), Payload { msg: ciphertext, aad: &head }).ok()
}

/// The CRYPTO frames of a decrypted packet: (offset in the crypto stream, data). Stops at
/// the first frame type an Initial packet may not carry.
pub fn crypto_frames(plain: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < plain.len() {
        let Some((kind, n)) = varint(plain, pos) else { break };
        pos += n;
        match kind {
            0x00 | 0x01 => {}
            0x02 | 0x03 => {
                // ACK: largest, delay, range count, first range, ranges, (ECN counts).
                let mut fields = 4;
                let mut count = 0u64;
                for i in 0..fields {
                    let Some((v, n)) = varint(plain, pos) else { return out };
                    if i == 2 {
                        count = v;
                    }
                    pos += n;
                }
                fields = usize::try_from(count.min(1024)).unwrap_or(0) * 2 + if kind == 0x03 { 3 } else { 0 };
                for _ in 0..fields {
                    let Some((_, n)) = varint(plain, pos) else { return out };
                    pos += n;
                }
            }
            0x06 => {
                let Some((offset, n)) = varint(plain, pos) else { break };
                pos += n;
                let Some((len, n)) = varint(plain, pos) else { break };
                pos += n;
                let Some(data) = usize::try_from(len).ok().and_then(|l| plain.get(pos..pos + l)) else { break };
                out.push((offset, data));
                pos += data.len();
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 Appendix A.1: keys from the DCID 0x8394c8f03e515708.
    #[test]
    fn rfc9001_initial_keys() {
        let dcid = hex::decode("8394c8f03e515708").unwrap();
        let c = InitialKeys::derive(VERSION_1, &dcid, true).unwrap();
        assert_eq!(hex::encode(c.key), "1f369613dd76d5467730efcbe3b1a22d");
        assert_eq!(hex::encode(c.iv), "fa044b2f42a3fd3b46fb255c");
        assert_eq!(hex::encode(c.hp), "9f50449e04a0e810283a1e9933adedd2");
        let s = InitialKeys::derive(VERSION_1, &dcid, false).unwrap();
        assert_eq!(hex::encode(s.key), "cf3a5331653c364c88f0f379b6067e37");
        assert_eq!(hex::encode(s.hp), "c206b8d9b9f0f37644430b490eeaa314");
    }

    #[test]
    fn varints_and_truncated_headers() {
        assert_eq!(varint(&[0x25], 0), Some((37, 1)));
        assert_eq!(varint(&[0x7b, 0xbd], 0), Some((15_293, 2)));
        assert_eq!(varint(&[0x9d, 0x7f, 0x3e, 0x7d], 0), Some((494_878_333, 4)));
        assert_eq!(varint(&[0xc2, 0x19], 0), None);
        let header = hex::decode("c000000001088394c8f03e5157080000449e7b9aec34").unwrap();
        for cut in 0..header.len() {
            assert!(long_header(&header[..cut]).is_none());
        }
        assert!(long_header(&[0x40, 1, 2, 3]).is_none());
    }
}
