//! Versioned migrations: each step runs once, in order, in one transaction with the new
//! version number (`PRAGMA user_version`). A database from a newer canh is refused rather than
//! written in a shape it does not know.

use rusqlite::Connection;

use super::StateError;

/// The steps, oldest first; a step is never edited once released, only followed by another.
const STEPS: &[&str] = &[
    // 1: organizations (a tree), users, the audit trail.
    "CREATE TABLE orgs (
         id INTEGER PRIMARY KEY,
         code TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         parent INTEGER REFERENCES orgs(id),
         created TEXT NOT NULL
     );
     CREATE TABLE users (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         role TEXT NOT NULL,
         org INTEGER NOT NULL REFERENCES orgs(id),
         password TEXT NOT NULL,
         totp_secret TEXT,
         disabled INTEGER NOT NULL DEFAULT 0,
         created TEXT NOT NULL
     );
     CREATE TABLE audit (
         seq INTEGER PRIMARY KEY,
         ts TEXT NOT NULL,
         actor TEXT NOT NULL,
         org TEXT NOT NULL,
         action TEXT NOT NULL,
         target TEXT NOT NULL,
         outcome TEXT NOT NULL,
         detail TEXT NOT NULL,
         prev TEXT NOT NULL,
         hash TEXT NOT NULL
     );",
    // 2: sign-in: sessions (their tokens hashed), failed attempts by account and by address,
    // the last TOTP step used (no code twice).
    "CREATE TABLE sessions (
         token_hash TEXT PRIMARY KEY,
         user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         csrf TEXT NOT NULL,
         created INTEGER NOT NULL,
         last_seen INTEGER NOT NULL
     );
     CREATE TABLE signin_failures (
         kind TEXT NOT NULL,
         key TEXT NOT NULL,
         count INTEGER NOT NULL,
         first INTEGER NOT NULL,
         locked_until INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (kind, key)
     );
     ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;",
    // 3: API tokens for scripts, hashed at rest, each scoped to a role and an organization.
    "CREATE TABLE tokens (
         id INTEGER PRIMARY KEY,
         label TEXT NOT NULL,
         hash TEXT NOT NULL UNIQUE,
         owner INTEGER NOT NULL REFERENCES users(id),
         role TEXT NOT NULL,
         org INTEGER NOT NULL REFERENCES orgs(id),
         created INTEGER NOT NULL,
         expires INTEGER NOT NULL,
         revoked INTEGER,
         last_used INTEGER
     );",
    // 4: alert triage. Alerts copied from the event store (which is append-only) with their
    // triage state; each alert's history; suppressions; cases and their timelines.
    "CREATE TABLE cases (
         id INTEGER PRIMARY KEY,
         title TEXT NOT NULL,
         org TEXT NOT NULL,
         status TEXT NOT NULL,
         assignee TEXT,
         opened_by TEXT NOT NULL,
         created TEXT NOT NULL,
         updated TEXT NOT NULL
     );
     CREATE TABLE case_events (
         id INTEGER PRIMARY KEY,
         case_id INTEGER NOT NULL REFERENCES cases(id),
         ts TEXT NOT NULL,
         actor TEXT NOT NULL,
         kind TEXT NOT NULL,
         text TEXT NOT NULL
     );
     CREATE INDEX case_events_by_case ON case_events (case_id);
     CREATE TABLE suppressions (
         id INTEGER PRIMARY KEY,
         rule_id TEXT NOT NULL,
         src TEXT,
         dst TEXT,
         org TEXT NOT NULL,
         owner TEXT NOT NULL,
         reason TEXT NOT NULL,
         created TEXT NOT NULL,
         expires INTEGER NOT NULL,
         removed TEXT
     );
     CREATE TABLE alerts (
         id TEXT PRIMARY KEY,
         store_id TEXT NOT NULL UNIQUE,
         ts INTEGER NOT NULL,
         engine TEXT NOT NULL,
         rule_id TEXT NOT NULL,
         title TEXT NOT NULL,
         severity TEXT NOT NULL,
         rank INTEGER NOT NULL,
         sensor TEXT NOT NULL,
         org TEXT NOT NULL,
         src TEXT NOT NULL,
         src_port INTEGER,
         dst TEXT NOT NULL,
         dst_port INTEGER,
         community_id TEXT NOT NULL,
         uids TEXT NOT NULL,
         evidence TEXT NOT NULL,
         raw TEXT NOT NULL,
         status TEXT NOT NULL,
         assignee TEXT,
         verdict TEXT,
         case_id INTEGER REFERENCES cases(id),
         suppression INTEGER REFERENCES suppressions(id),
         updated TEXT
     );
     CREATE INDEX alerts_by_status ON alerts (status, ts);
     CREATE INDEX alerts_by_org ON alerts (org, ts);
     CREATE INDEX alerts_by_rule ON alerts (rule_id, src, dst);
     CREATE INDEX alerts_by_flow ON alerts (community_id);
     CREATE INDEX alerts_by_case ON alerts (case_id);
     CREATE TABLE alert_history (
         id INTEGER PRIMARY KEY,
         alert TEXT NOT NULL REFERENCES alerts(id),
         ts TEXT NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         detail TEXT NOT NULL
     );
     CREATE INDEX alert_history_by_alert ON alert_history (alert);",
    // 5: searches saved by each user.
    "CREATE TABLE saved_searches (
         id INTEGER PRIMARY KEY,
         user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         name TEXT NOT NULL,
         query TEXT NOT NULL,
         since TEXT NOT NULL,
         until TEXT NOT NULL,
         created TEXT NOT NULL,
         UNIQUE (user, name)
     );",
    // 6: the offset from UTC each user's times are shown in (minutes; Vietnam's by default,
    // `when::VIETNAM_MINUTES`).
    "ALTER TABLE users ADD COLUMN utc_offset INTEGER NOT NULL DEFAULT 420;",
    // 7: compliance — information systems (the inventory: `data` is the system as JSON, the
    // columns what lists filter on), their classifications, dossiers with their steps, gap
    // assessments and their snapshots, evidence, the province's authorities, the security
    // regulation of each organization, and the administrator's holiday edits.
    "CREATE TABLE systems (
         id INTEGER PRIMARY KEY,
         org TEXT NOT NULL,
         code TEXT NOT NULL,
         name TEXT NOT NULL,
         data TEXT NOT NULL,
         level INTEGER,
         regime TEXT,
         approved_level INTEGER,
         approved_regime TEXT,
         approved_profile TEXT,
         risk_assessed TEXT,
         created TEXT NOT NULL,
         updated TEXT NOT NULL,
         UNIQUE (org, code)
     );
     CREATE TABLE classifications (
         id INTEGER PRIMARY KEY,
         system INTEGER NOT NULL REFERENCES systems(id),
         regime TEXT NOT NULL,
         level INTEGER,
         result TEXT NOT NULL,
         profile TEXT NOT NULL,
         actor TEXT NOT NULL,
         ts TEXT NOT NULL
     );
     CREATE INDEX classifications_by_system ON classifications (system, id);
     CREATE TABLE dossiers (
         id INTEGER PRIMARY KEY,
         org TEXT NOT NULL,
         regime TEXT NOT NULL,
         level INTEGER NOT NULL,
         stage TEXT NOT NULL,
         since TEXT NOT NULL,
         due TEXT,
         state TEXT NOT NULL,
         redetermines INTEGER REFERENCES dossiers(id),
         created TEXT NOT NULL,
         updated TEXT NOT NULL
     );
     CREATE INDEX dossiers_by_org ON dossiers (org, stage);
     CREATE TABLE dossier_systems (
         dossier INTEGER NOT NULL REFERENCES dossiers(id),
         system INTEGER NOT NULL REFERENCES systems(id),
         PRIMARY KEY (dossier, system)
     );
     CREATE TABLE dossier_events (
         id INTEGER PRIMARY KEY,
         dossier INTEGER NOT NULL REFERENCES dossiers(id),
         ts TEXT NOT NULL,
         day TEXT NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         part TEXT NOT NULL,
         from_stage TEXT NOT NULL,
         to_stage TEXT NOT NULL,
         reason TEXT NOT NULL,
         due TEXT
     );
     CREATE INDEX dossier_events_by_dossier ON dossier_events (dossier, id);
     CREATE TABLE assessments (
         system INTEGER NOT NULL REFERENCES systems(id),
         regime TEXT NOT NULL,
         item TEXT NOT NULL,
         status TEXT NOT NULL,
         reason TEXT NOT NULL,
         measure TEXT NOT NULL,
         owner TEXT NOT NULL,
         due TEXT,
         actor TEXT NOT NULL,
         updated TEXT NOT NULL,
         PRIMARY KEY (system, regime, item)
     );
     CREATE TABLE assessment_snapshots (
         id INTEGER PRIMARY KEY,
         system INTEGER NOT NULL REFERENCES systems(id),
         regime TEXT NOT NULL,
         level INTEGER NOT NULL,
         entries TEXT NOT NULL,
         actor TEXT NOT NULL,
         ts TEXT NOT NULL
     );
     CREATE TABLE evidence (
         id INTEGER PRIMARY KEY,
         org TEXT NOT NULL,
         system INTEGER REFERENCES systems(id),
         dossier INTEGER REFERENCES dossiers(id),
         item TEXT,
         name TEXT NOT NULL,
         sha256 TEXT NOT NULL,
         size INTEGER NOT NULL,
         media_type TEXT NOT NULL,
         collected TEXT NOT NULL,
         expires TEXT,
         revision_of INTEGER REFERENCES evidence(id),
         actor TEXT NOT NULL,
         ts TEXT NOT NULL
     );
     CREATE INDEX evidence_by_system ON evidence (system, item);
     CREATE TABLE soc_findings (
         system INTEGER NOT NULL REFERENCES systems(id),
         check_name TEXT NOT NULL,
         finding TEXT NOT NULL,
         PRIMARY KEY (system, check_name)
     );
     CREATE TABLE authorities (
         level INTEGER NOT NULL,
         part TEXT NOT NULL,
         org TEXT NOT NULL,
         PRIMARY KEY (level, part)
     );
     CREATE TABLE regulations (
         org TEXT PRIMARY KEY,
         number TEXT NOT NULL,
         issued TEXT NOT NULL,
         issuer TEXT NOT NULL,
         actor TEXT NOT NULL,
         ts TEXT NOT NULL
     );
     CREATE TABLE holidays (
         day TEXT PRIMARY KEY,
         kind TEXT NOT NULL,
         name TEXT NOT NULL,
         actor TEXT NOT NULL,
         ts TEXT NOT NULL
     );",
    // 8: incidents declared from cases, with their clocks' facts (`data`: the compliance
    // crate's Incident as JSON).
    "CREATE TABLE incidents (
         id INTEGER PRIMARY KEY,
         case_id INTEGER NOT NULL UNIQUE REFERENCES cases(id),
         org TEXT NOT NULL,
         data TEXT NOT NULL,
         actor TEXT NOT NULL,
         created TEXT NOT NULL,
         updated TEXT NOT NULL
     );",
    // 9: sensors enrolled with the province CA: a one-time token (its hash) until redeemed,
    // then the certificate's serial and expiry; revocation.
    "CREATE TABLE sensors (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         org TEXT NOT NULL,
         token_hash TEXT,
         token_expires INTEGER,
         serial TEXT,
         not_after INTEGER,
         revoked TEXT,
         created TEXT NOT NULL
     );",
    // 10: what each sensor delivered: the last batch a commit holds (batches at or below it are
    // replays), totals, and what its spool said it dropped.
    "CREATE TABLE sensor_ingest (
         name TEXT PRIMARY KEY,
         last_seq INTEGER NOT NULL,
         batches INTEGER NOT NULL,
         records INTEGER NOT NULL,
         dropped_batches INTEGER NOT NULL,
         dropped_records INTEGER NOT NULL,
         last_batch INTEGER NOT NULL
     );",
    // 11: each sensor's last heartbeat (its JSON as sent), the clock offset measured on it,
    // and the health alerts raised and not yet cleared.
    "CREATE TABLE sensor_health (
         name TEXT PRIMARY KEY,
         received INTEGER NOT NULL,
         clock_offset REAL NOT NULL,
         data TEXT NOT NULL,
         raised TEXT NOT NULL DEFAULT ''
     );",
    // 12: console users' requests for the packets behind an alert, each answered by the
    // sensor that saw the flow (the pcap itself is a file under `packets/`).
    "CREATE TABLE packet_requests (
         id INTEGER PRIMARY KEY,
         alert TEXT NOT NULL,
         sensor TEXT NOT NULL,
         org TEXT NOT NULL,
         community_id TEXT NOT NULL,
         from_ts REAL NOT NULL,
         to_ts REAL NOT NULL,
         requested_by TEXT NOT NULL,
         requested_at INTEGER NOT NULL,
         state TEXT NOT NULL,
         detail TEXT NOT NULL DEFAULT '',
         packets INTEGER NOT NULL DEFAULT 0,
         bytes INTEGER NOT NULL DEFAULT 0,
         truncated INTEGER NOT NULL DEFAULT 0,
         answered_at INTEGER
     );
     CREATE INDEX packet_requests_by_alert ON packet_requests(alert);
     CREATE INDEX packet_requests_waiting ON packet_requests(sensor, state);",
];

pub fn run(conn: &mut Connection) -> Result<(), StateError> {
    let known = STEPS.len() as u32;
    loop {
        // The version is read under the write lock: two processes opening a new database at
        // once run each step once between them.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > known {
            return Err(StateError::TooNew { found, known });
        }
        let Some(step) = STEPS.get(found as usize) else { return Ok(()) };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
    }
}
