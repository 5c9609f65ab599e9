//! The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock
//! skew each way), as authenticator apps expect it; the secret is stored base32.

use rusqlite::params;
use totp_rs::{Builder, Secret, Totp};

use super::{Actor, StateError, audit};

/// The TOTP of a stored base32 secret.
pub fn of(secret: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new().with_secret(bytes).build().ok()
}

/// Gives `name` a new second factor (replacing any before it); returns the secret to enter in
/// an authenticator app, and the `otpauth://` address a QR code carries.
pub fn enroll(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    name: &str,
    issuer: &str,
) -> Result<(String, String), StateError> {
    let secret = Secret::from(super::random_bytes::<20>()).to_base32();
    let changed =
        tx.execute("UPDATE users SET totp_secret = ?1, totp_last_step = 0 WHERE name = ?2", params![secret, name])?;
    if changed == 0 {
        return Err(StateError::NotFound { what: "user", name: name.to_string() });
    }
    audit::append(tx, audit::Entry::done(actor, "user.totp", name))?;
    let label = |s: &str| s.replace(['%', ':', '/', '?', '#', '&', '=', ' '], "_");
    let url = format!("otpauth://totp/{}:{}?secret={secret}&issuer={}", label(issuer), label(name), label(issuer));
    Ok((secret, url))
}
