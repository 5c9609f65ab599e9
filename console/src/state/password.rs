//! Passwords: the rule of Circular 03/2017/TT-BTTTT (Art. 3.3: more than 8 characters, with
//! upper case, lower case, a digit and a special character), and argon2id hashes in PHC form.
//! A password is never stored, logged or echoed; hashing is slow on purpose (argon2's
//! default cost, 19 MiB and 2 passes), so callers on an async runtime run it on a blocking
//! thread.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};

/// What a password lacks, each in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    NoUpper,
    NoLower,
    NoDigit,
    NoSpecial,
}

impl Weakness {
    pub fn describe(self) -> &'static str {
        match self {
            Self::TooShort => "more than 8 characters",
            Self::NoUpper => "an upper-case letter",
            Self::NoLower => "a lower-case letter",
            Self::NoDigit => "a digit",
            Self::NoSpecial => "a special character",
        }
    }
}

/// Checks the rule; returns everything the password lacks.
pub fn check(password: &str) -> Result<(), Vec<Weakness>> {
    let mut lacks = Vec::new();
    if password.chars().count() <= 8 {
        lacks.push(Weakness::TooShort);
    }
    let any = |f: fn(char) -> bool| password.chars().any(f);
    if !any(char::is_uppercase) {
        lacks.push(Weakness::NoUpper);
    }
    if !any(char::is_lowercase) {
        lacks.push(Weakness::NoLower);
    }
    if !any(|c| c.is_ascii_digit()) {
        lacks.push(Weakness::NoDigit);
    }
    if !any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        lacks.push(Weakness::NoSpecial);
    }
    if lacks.is_empty() { Ok(()) } else { Err(lacks) }
}

/// The rule's failures as one sentence: "the password needs a digit and a special character".
pub fn explain(lacks: &[Weakness]) -> String {
    let words: Vec<&str> = lacks.iter().map(|w| w.describe()).collect();
    let list = match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    format!("the password needs {list} (Circular 03/2017/TT-BTTTT, Art. 3.3)")
}

/// An argon2id hash of `password` with a fresh salt, as a PHC string.
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&super::random_bytes::<16>()).expect("16 bytes make a salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with its default parameters").to_string()
}

/// Whether `password` matches the PHC string `stored` (false for a malformed one).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_circulars_rule() {
        assert_eq!(check("Canh@2026x"), Ok(()));
        // Exactly 8 is not "more than 8".
        assert_eq!(check("Canh@202"), Err(vec![Weakness::TooShort]));
        assert_eq!(check("canh@20266"), Err(vec![Weakness::NoUpper]));
        assert_eq!(check("CANH@20266"), Err(vec![Weakness::NoLower]));
        assert_eq!(check("Canh@gacvn"), Err(vec![Weakness::NoDigit]));
        assert_eq!(check("Canh20266x"), Err(vec![Weakness::NoSpecial]));
        // Vietnamese letters count as letters of their case.
        assert_eq!(check("Đường#2026"), Ok(()));
        assert_eq!(
            explain(&check("abc").unwrap_err()),
            "the password needs more than 8 characters, an upper-case letter, a digit and a special character (Circular 03/2017/TT-BTTTT, Art. 3.3)"
        );
    }

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let a = hash("Canh@2026x");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, hash("Canh@2026x"));
        assert!(verify("Canh@2026x", &a));
        assert!(!verify("Canh@2026y", &a));
        assert!(!verify("Canh@2026x", "not a hash"));
    }
}
