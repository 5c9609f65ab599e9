//! The console's state: the organization tree, users with the Circular's password rule, and an
//! audit trail that detects an edited, deleted, reordered or truncated entry and a forged
//! anchor — through the library and through `canh org|user|audit`.

use std::path::Path;
use std::process::{Command, Stdio};

use canh_console::state::{Actor, State, StateError, audit, org, user};

fn admin() -> Actor {
    Actor { name: "cli:test".into(), org: String::new() }
}

/// A province with a department and a commune under it, a unit under the department, and two
/// users: eight audit entries.
fn province(dir: &Path) -> State {
    let mut s = State::open(dir).unwrap();
    let a = admin();
    s.change(|tx| {
        org::add(tx, &a, "tinh-lam-dong", "UBND tỉnh Lâm Đồng", None)?;
        org::add(tx, &a, "so-khcn", "Sở Khoa học và Công nghệ", Some("tinh-lam-dong"))?;
        org::add(tx, &a, "xa-lac-duong", "UBND xã Lạc Dương", Some("tinh-lam-dong"))?;
        org::add(tx, &a, "ttcntt", "Trung tâm Công nghệ thông tin", Some("so-khcn"))?;
        Ok(())
    })
    .unwrap();
    s.change(|tx| user::add(tx, &a, "lan.soc", user::Role::Analyst, "so-khcn", "Canh@2026soc")).unwrap();
    s.change(|tx| user::add(tx, &a, "minh", user::Role::Auditor, "tinh-lam-dong", "Kiem#toan2026")).unwrap();
    s.record(audit::Entry::done(&a, "search", "_type:http")).unwrap();
    s.record(audit::Entry::new(&a, "signin", "minh", audit::Outcome::Denied)).unwrap();
    s
}

#[test]
fn the_organization_tree_and_its_subtrees() {
    let dir = tempfile::tempdir().unwrap();
    let s = province(dir.path());
    let tree: Vec<(usize, String)> = org::list(s.conn()).unwrap().into_iter().map(|o| (o.depth, o.code)).collect();
    assert_eq!(
        tree,
        [(0, "tinh-lam-dong"), (1, "so-khcn"), (2, "ttcntt"), (1, "xa-lac-duong")].map(|(d, c)| (d, c.to_string()))
    );
    assert_eq!(org::subtree(s.conn(), "tinh-lam-dong").unwrap().len(), 4);
    assert_eq!(org::subtree(s.conn(), "so-khcn").unwrap(), ["so-khcn", "ttcntt"]);
    assert_eq!(org::subtree(s.conn(), "xa-lac-duong").unwrap(), ["xa-lac-duong"]);
    assert_eq!(org::ancestors(s.conn(), "ttcntt").unwrap(), ["tinh-lam-dong", "so-khcn"]);
    let mut s = s;
    let a = admin();
    assert!(matches!(s.change(|tx| org::add(tx, &a, "x", "X", Some("nowhere"))), Err(StateError::NotFound { .. })));
    assert!(matches!(s.change(|tx| org::add(tx, &a, "so-khcn", "again", None)), Err(StateError::Exists { .. })));
    assert!(matches!(s.change(|tx| org::add(tx, &a, "Sở KHCN", "bad code", None)), Err(StateError::Invalid { .. })));
    // A refused change leaves no trace: the trail still holds and has no entry for it.
    assert!(audit::verify(s.conn(), dir.path(), None).unwrap().holds());
    assert_eq!(audit::recent(s.conn(), 100).unwrap().len(), 8);
}

#[test]
fn users_passwords_and_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = province(dir.path());
    let a = admin();
    let weak = s.change(|tx| user::add(tx, &a, "hoa", user::Role::Admin, "so-khcn", "password1"));
    let Err(StateError::Invalid { field: "password", message }) = weak else { panic!("{weak:?}") };
    assert!(message.contains("an upper-case letter") && message.contains("special"), "{message}");
    let stored: String =
        s.conn().query_row("SELECT password FROM users WHERE name = 'lan.soc'", [], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("Canh@2026soc"), "{stored}");
    let u = user::authenticate(s.conn(), "lan.soc", "Canh@2026soc").unwrap().expect("signs in");
    assert_eq!((u.role, u.org.as_str()), (user::Role::Analyst, "so-khcn"));
    assert_eq!(user::authenticate(s.conn(), "lan.soc", "Canh@2026SOC").unwrap(), None);
    assert_eq!(user::authenticate(s.conn(), "nobody", "Canh@2026soc").unwrap(), None);
}

/// A copy of a healthy province's data directory, damaged by `tamper`, then verified.
fn verdict_after(tamper: impl FnOnce(&rusqlite::Connection, &Path)) -> audit::Verdict {
    let dir = tempfile::tempdir().unwrap();
    drop(province(dir.path()));
    let conn = rusqlite::Connection::open(dir.path().join(State::FILE)).unwrap();
    tamper(&conn, dir.path());
    drop(conn);
    let s = State::open(dir.path()).unwrap();
    audit::verify(s.conn(), dir.path(), None).unwrap()
}

#[test]
fn the_audit_trail_detects_every_kind_of_tampering() {
    let healthy = verdict_after(|_, _| {});
    assert!(healthy.holds(), "{:?}", healthy.problems);
    assert_eq!((healthy.entries, healthy.anchored), (8, Some(8)));

    let edited = verdict_after(|c, _| {
        c.execute("UPDATE audit SET outcome = 'ok' WHERE seq = 8", []).unwrap();
    });
    assert!(edited.problems.iter().any(|p| p.contains("entry 8 was altered")), "{:?}", edited.problems);

    let deleted = verdict_after(|c, _| {
        c.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    });
    assert!(deleted.problems.iter().any(|p| p.contains("entries 3 to 3 are missing")), "{:?}", deleted.problems);

    let reordered = verdict_after(|c, _| {
        // Entries 2 and 3 swap places, each keeping its own hash.
        c.execute_batch(
            "UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;
             UPDATE audit SET seq = 3 WHERE seq = -2;",
        )
        .unwrap();
    });
    assert!(reordered.problems.iter().any(|p| p.contains("does not follow")), "{:?}", reordered.problems);

    let truncated = verdict_after(|c, _| {
        c.execute("DELETE FROM audit WHERE seq >= 7", []).unwrap();
    });
    assert!(
        truncated.problems.iter().any(|p| p.contains("ends at entry 6") && p.contains("truncated")),
        "{:?}",
        truncated.problems
    );

    // Cut the tail and move the anchor back without the key: the anchor is refused.
    let forged = verdict_after(|c, dir| {
        c.execute("DELETE FROM audit WHERE seq = 8", []).unwrap();
        let hash: String = c.query_row("SELECT hash FROM audit WHERE seq = 7", [], |r| r.get(0)).unwrap();
        let anchor = std::fs::read_to_string(dir.join("audit.anchor")).unwrap();
        let mac = anchor.split_whitespace().nth(2).unwrap().to_string();
        std::fs::write(dir.join("audit.anchor"), format!("7 {hash} {mac}\n")).unwrap();
    });
    assert!(forged.problems.iter().any(|p| p.contains("HMAC does not match")), "{:?}", forged.problems);

    let no_anchor = verdict_after(|_, dir| std::fs::remove_file(dir.join("audit.anchor")).unwrap());
    assert!(
        no_anchor.problems.iter().any(|p| p.contains("anchor") && p.contains("missing")),
        "{:?}",
        no_anchor.problems
    );
}

#[test]
fn a_witnessed_entry_catches_a_rewrite_by_someone_holding_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = province(dir.path());
    let head = audit::recent(s.conn(), 1).unwrap().remove(0);
    assert!(audit::verify(s.conn(), dir.path(), Some((head.seq, &head.hash))).unwrap().holds());
    let v = audit::verify(s.conn(), dir.path(), Some((head.seq, &"0".repeat(64)))).unwrap();
    assert!(v.problems.iter().any(|p| p.contains("not the one witnessed")), "{:?}", v.problems);
}

fn canh(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_canh"));
    c.env_remove("CANH_CONFIG").env("CANH_DATA", data);
    c
}

#[test]
fn org_user_and_audit_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = canh(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["org", "add", "tinh-lam-dong", "--name", "UBND tỉnh Lâm Đồng"], "").0, Some(0));
    assert_eq!(run(&["org", "add", "so-khcn", "--name", "Sở KH&CN", "--parent", "tinh-lam-dong"], "").0, Some(0));
    let (code, out, _) = run(&["org", "list"], "");
    assert_eq!(code, Some(0));
    assert!(out.contains("tinh-lam-dong") && out.contains("\n  so-khcn"), "{out}");
    let (code, _, err) = run(&["user", "add", "lan", "--role", "analyst", "--org", "so-khcn"], "weakpass\n");
    assert_eq!(code, Some(1));
    assert!(err.contains("Circular 03/2017/TT-BTTTT"), "{err}");
    // Every role by the name the store and the docs use (`system_owner`, not `system-owner`).
    let (code, _, err) =
        run(&["user", "add", "chu.quan", "--role", "system_owner", "--org", "so-khcn"], "Canh@2026own\n");
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&["user", "add", "lan", "--role", "analyst", "--org", "so-khcn"], "Canh@2026soc\n");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("added lan (analyst in so-khcn)"), "{out}");
    let (code, out, _) = run(&["audit", "verify"], "");
    assert_eq!(code, Some(0));
    assert!(out.contains("holds: 4 entries, anchored at entry 4"), "{out}");
    let (_, head, _) = run(&["audit", "anchor"], "");
    let (code, out, _) = run(&["audit", "list"], "");
    assert_eq!(code, Some(0));
    assert!(out.contains("user.add") && out.contains("cli:"), "{out}");
    // Someone edits the trail behind canh's back.
    let conn = rusqlite::Connection::open(dir.path().join("canh.db")).unwrap();
    conn.execute("UPDATE audit SET detail = 'role admin in so-khcn' WHERE action = 'user.add' AND target = 'lan'", [])
        .unwrap();
    drop(conn);
    let (code, out, _) = run(&["audit", "verify", "--witness", head.trim()], "");
    assert_eq!(code, Some(1));
    assert!(out.contains("entry 4 was altered") && out.contains("does NOT hold"), "{out}");
}

mod sign_in {
    use super::*;
    use canh_console::state::session::{self, Policy, Refusal};
    use canh_console::state::totp;

    const T0: i64 = 1_800_000_000;

    #[test]
    fn sessions_open_rotate_run_out_and_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = province(dir.path());
        let p = Policy::default();
        let first = session::sign_in(&mut s, &p, "lan.soc", "Canh@2026soc", None, "10.1.0.5", T0).unwrap().unwrap();
        let second = session::sign_in(&mut s, &p, "lan.soc", "Canh@2026soc", None, "10.1.0.5", T0).unwrap().unwrap();
        assert_ne!(first.token, second.token, "every sign-in opens a new session");
        assert_ne!(first.csrf, second.csrf);
        // Only a hash of the token is stored.
        let stored: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM sessions WHERE token_hash = ?1", [&first.token], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 0);
        let (u, csrf) = session::lookup(s.conn(), &p, &first.token, T0 + 60).unwrap().expect("live");
        assert_eq!((u.name.as_str(), csrf), ("lan.soc", first.csrf.clone()));
        // Idle for 30 minutes: over, and gone.
        assert!(session::lookup(s.conn(), &p, &first.token, T0 + 60 + p.idle).unwrap().is_none());
        assert!(session::lookup(s.conn(), &p, &first.token, T0 + 61).unwrap().is_none());
        // Kept busy, it still ends 12 hours after sign-in.
        let mut t = T0;
        while t + 600 < T0 + p.absolute {
            t += 600;
            assert!(session::lookup(s.conn(), &p, &second.token, t).unwrap().is_some(), "at {t}");
        }
        assert!(session::lookup(s.conn(), &p, &second.token, T0 + p.absolute).unwrap().is_none());
        let third = session::sign_in(&mut s, &p, "lan.soc", "Canh@2026soc", None, "10.1.0.5", T0).unwrap().unwrap();
        session::end(&mut s, &third.token).unwrap();
        assert!(session::lookup(s.conn(), &p, &third.token, T0 + 1).unwrap().is_none());
        let actions: Vec<String> = audit::recent(s.conn(), 3).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["signout", "signin", "signin"]);
        assert!(audit::verify(s.conn(), dir.path(), None).unwrap().holds());
    }

    #[test]
    fn failures_lock_the_account_and_the_address() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = province(dir.path());
        let p = Policy::default();
        for i in 0..p.account_failures {
            let r = session::sign_in(&mut s, &p, "lan.soc", "guess", None, "203.0.113.9", T0 + i as i64).unwrap();
            assert_eq!(r.unwrap_err(), Refusal::BadPassword);
        }
        // Locked: even the right password is refused, from anywhere, until the lock ends.
        let r = session::sign_in(&mut s, &p, "lan.soc", "Canh@2026soc", None, "10.1.0.5", T0 + 10).unwrap();
        assert!(matches!(r, Err(Refusal::Locked { until }) if until == T0 + 4 + p.lockout), "{r:?}");
        assert!(
            session::sign_in(&mut s, &p, "lan.soc", "Canh@2026soc", None, "10.1.0.5", T0 + 5 + p.lockout)
                .unwrap()
                .is_ok()
        );
        // One address trying many accounts is locked too, for every account.
        for i in 0..p.address_failures {
            let name = format!("user{i}");
            let _ = session::sign_in(&mut s, &p, &name, "guess", None, "198.51.100.7", T0 + i as i64).unwrap();
        }
        let r = session::sign_in(&mut s, &p, "minh", "Kiem#toan2026", None, "198.51.100.7", T0 + 30).unwrap();
        assert!(matches!(r, Err(Refusal::Locked { .. })), "{r:?}");
        assert!(session::sign_in(&mut s, &p, "minh", "Kiem#toan2026", None, "10.1.0.9", T0 + 30).unwrap().is_ok());
        let denied = audit::recent(s.conn(), 100).unwrap().into_iter().filter(|e| e.outcome == "denied").count();
        // Every refusal is in the trail, with the one the province started with.
        assert_eq!(denied as u32, 1 + p.account_failures + 1 + p.address_failures + 1);
    }

    #[test]
    fn admins_need_a_second_factor_and_a_code_works_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = province(dir.path());
        let a = admin();
        let p = Policy::default();
        s.change(|tx| user::add(tx, &a, "quan.tri", user::Role::Admin, "tinh-lam-dong", "Quan@tri2026")).unwrap();
        let r = session::sign_in(&mut s, &p, "quan.tri", "Quan@tri2026", None, "10.1.0.2", T0).unwrap();
        assert_eq!(r.unwrap_err(), Refusal::NoSecondFactor);
        let (secret, url) = s.change(|tx| totp::enroll(tx, &a, "quan.tri", "Canh")).unwrap();
        assert!(url.starts_with("otpauth://totp/Canh:quan.tri?secret=") && url.contains(&secret), "{url}");
        let code = totp::of(&secret).unwrap().generate(T0 as u64).to_string();
        let r = session::sign_in(&mut s, &p, "quan.tri", "Quan@tri2026", None, "10.1.0.2", T0).unwrap();
        assert_eq!(r.unwrap_err(), Refusal::BadCode);
        assert!(session::sign_in(&mut s, &p, "quan.tri", "Quan@tri2026", Some(&code), "10.1.0.2", T0).unwrap().is_ok());
        // The same code a second time (seen over a shoulder, replayed) is refused.
        let r = session::sign_in(&mut s, &p, "quan.tri", "Quan@tri2026", Some(&code), "10.1.0.2", T0 + 1).unwrap();
        assert_eq!(r.unwrap_err(), Refusal::BadCode);
        let next = totp::of(&secret).unwrap().generate(T0 as u64 + 30).to_string();
        assert!(
            session::sign_in(&mut s, &p, "quan.tri", "Quan@tri2026", Some(&next), "10.1.0.2", T0 + 30).unwrap().is_ok()
        );
    }
}

mod api_tokens {
    use super::*;
    use canh_console::state::token;

    const T0: i64 = 1_800_000_000;

    #[test]
    fn scoped_hashed_expiring_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = province(dir.path());
        let a = admin();
        // lan.soc is an analyst of so-khcn: a token may not be wider than that.
        let wider_org =
            s.change(|tx| token::issue(tx, &a, "lan.soc", "x", user::Role::Analyst, "tinh-lam-dong", T0, T0 + 86_400));
        assert!(matches!(wider_org, Err(StateError::Invalid { field: "org", .. })), "{wider_org:?}");
        let other_role =
            s.change(|tx| token::issue(tx, &a, "lan.soc", "x", user::Role::Admin, "so-khcn", T0, T0 + 86_400));
        assert!(matches!(other_role, Err(StateError::Invalid { field: "role", .. })), "{other_role:?}");
        let (id, secret) = s
            .change(|tx| {
                token::issue(tx, &a, "lan.soc", "xuat-bao-cao", user::Role::Auditor, "ttcntt", T0, T0 + 86_400)
            })
            .unwrap();
        let stored: i64 =
            s.conn().query_row("SELECT COUNT(*) FROM tokens WHERE hash = ?1", [&secret], |r| r.get(0)).unwrap();
        assert_eq!(stored, 0, "the secret itself is never stored");
        let p = token::check(s.conn(), &secret, T0 + 10).unwrap().expect("live");
        assert_eq!((p.role, p.org.as_str(), p.owner.as_str()), (user::Role::Auditor, "ttcntt", "lan.soc"));
        assert_eq!(p.actor().name, format!("token:{id}:xuat-bao-cao"));
        assert!(token::check(s.conn(), "canh_guess", T0).unwrap().is_none());
        assert!(token::check(s.conn(), &secret, T0 + 86_400).unwrap().is_none(), "expired");
        s.change(|tx| token::revoke(tx, &a, id, T0 + 20)).unwrap();
        assert!(token::check(s.conn(), &secret, T0 + 30).unwrap().is_none(), "revoked");
        assert!(token::list(s.conn()).unwrap()[0].revoked);
        let actions: Vec<String> = audit::recent(s.conn(), 2).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["token.revoke", "token.issue"]);
    }
}
