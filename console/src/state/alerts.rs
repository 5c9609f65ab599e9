//! Alert triage, after EveBox: the alerts the event store holds, copied here with the state
//! analysts give them — status, assignee, verdict, case — because the store is append-only and
//! triage is not. Alerts arrive through [`take`] (the server polls the store's feed); analysts
//! read them grouped by rule and source ([`queue`]) or one by one ([`get`]) and act on one, on
//! several, or on every alert a filter matches ([`act`]). Every action is in the alert's
//! history and in the audit trail, in the transaction that makes it.
//!
//! Every read and every action takes the caller's organization scope ([`super::org::scope`]):
//! an alert outside it is not found, the same answer as an alert that does not exist.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params, params_from_iter};

use super::{Actor, StateError, audit, case, now_text, suppression};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not looked at yet (the inbox).
    New,
    /// Someone is on it.
    Acknowledged,
    /// Part of a case.
    Escalated,
    /// Done, with a verdict.
    Closed,
    /// Matched a suppression when it arrived.
    Suppressed,
}

impl Status {
    pub const ALL: [Status; 5] = [Self::New, Self::Acknowledged, Self::Escalated, Self::Closed, Self::Suppressed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::Escalated => "escalated",
            Self::Closed => "closed",
            Self::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What an alert turned out to be, given when it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    Benign,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Self::TruePositive, Self::FalsePositive, Self::Benign];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TruePositive => "true_positive",
            Self::FalsePositive => "false_positive",
            Self::Benign => "benign",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Sigma's levels, lowest first; an alert's rank is its place here.
pub const SEVERITIES: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn rank(severity: &str) -> i64 {
    SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(severity)).map_or(0, |p| p as i64)
}

/// One alert with its triage state.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: String,
    /// Microseconds since the epoch.
    pub ts: i64,
    pub engine: String,
    pub rule_id: String,
    pub title: String,
    pub severity: String,
    pub sensor: String,
    pub org: String,
    pub src: String,
    pub src_port: Option<u16>,
    pub dst: String,
    pub dst_port: Option<u16>,
    pub community_id: String,
    pub uids: Vec<String>,
    pub evidence: String,
    pub status: Status,
    pub assignee: Option<String>,
    pub verdict: Option<Verdict>,
    pub case_id: Option<i64>,
    pub suppression: Option<i64>,
    /// The alert as the store holds it.
    #[serde(skip)]
    pub raw: String,
}

const ALERT_COLUMNS: &str = "id, ts, engine, rule_id, title, severity, sensor, org, src, src_port, dst, dst_port, \
     community_id, uids, evidence, status, assignee, verdict, case_id, suppression, raw";

fn alert_row(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let text = |i: usize| r.get::<_, String>(i);
    Ok(Alert {
        id: text(0)?,
        ts: r.get(1)?,
        engine: text(2)?,
        rule_id: text(3)?,
        title: text(4)?,
        severity: text(5)?,
        sensor: text(6)?,
        org: text(7)?,
        src: text(8)?,
        src_port: r.get(9)?,
        dst: text(10)?,
        dst_port: r.get(11)?,
        community_id: text(12)?,
        uids: text(13)?.split_whitespace().map(String::from).collect(),
        evidence: text(14)?,
        status: Status::parse(&text(15)?).unwrap_or(Status::New),
        assignee: r.get(16)?,
        verdict: r.get::<_, Option<String>>(17)?.as_deref().and_then(Verdict::parse),
        case_id: r.get(18)?,
        suppression: r.get(19)?,
        raw: text(20)?,
    })
}

/// One entry of an alert's history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub ts: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// Which alerts, besides the caller's scope (always applied). Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `open` (new, acknowledged or escalated; the default), `all`, or one status.
    pub status: String,
    /// The lowest severity shown.
    pub severity: String,
    pub rule_id: String,
    pub sensor: String,
    /// One organization (within the caller's scope).
    pub org: String,
    pub src: String,
    pub dst: String,
    /// Microseconds since the epoch; `until` excluded.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The alerts of one case.
    pub case_id: Option<i64>,
}

impl Filter {
    /// The filter in words, for the audit trail.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("status={}", if self.status.is_empty() { "open" } else { &self.status })];
        for (name, value) in [
            ("severity>=", &self.severity),
            ("rule_id=", &self.rule_id),
            ("sensor=", &self.sensor),
            ("org=", &self.org),
            ("src=", &self.src),
            ("dst=", &self.dst),
        ] {
            if !value.is_empty() {
                parts.push(format!("{name}{value}"));
            }
        }
        if let Some(s) = self.since {
            parts.push(format!("since={s}"));
        }
        if let Some(u) = self.until {
            parts.push(format!("until={u}"));
        }
        if let Some(c) = self.case_id {
            parts.push(format!("case=#{c}"));
        }
        parts.join(" ")
    }

    /// The SQL condition and its values: the scope first, then each filter.
    fn condition(&self, scope: &Option<Vec<String>>) -> Result<(String, Vec<Value>), StateError> {
        let mut sql = vec!["1 = 1".to_string()];
        let mut values: Vec<Value> = Vec::new();
        in_scope(scope, &mut sql, &mut values);
        match self.status.as_str() {
            "" | "open" => sql.push("status IN ('new', 'acknowledged', 'escalated')".into()),
            "all" => {}
            s => {
                let status = Status::parse(s).ok_or_else(|| StateError::Invalid {
                    field: "status",
                    message: format!(
                        "`{s}` is not a status (open, all, new, acknowledged, escalated, closed, suppressed)"
                    ),
                })?;
                sql.push("status = ?".into());
                values.push(Value::Text(status.as_str().into()));
            }
        }
        if !self.severity.is_empty() {
            if !SEVERITIES.contains(&self.severity.as_str()) {
                return Err(StateError::Invalid {
                    field: "severity",
                    message: format!("`{}` is not a severity ({})", self.severity, SEVERITIES.join(", ")),
                });
            }
            sql.push("rank >= ?".into());
            values.push(Value::Integer(rank(&self.severity)));
        }
        for (column, value) in [
            ("rule_id", &self.rule_id),
            ("sensor", &self.sensor),
            ("org", &self.org),
            ("src", &self.src),
            ("dst", &self.dst),
        ] {
            if !value.is_empty() {
                sql.push(format!("{column} = ?"));
                values.push(Value::Text(value.clone()));
            }
        }
        if let Some(s) = self.since {
            sql.push("ts >= ?".into());
            values.push(Value::Integer(s));
        }
        if let Some(u) = self.until {
            sql.push("ts < ?".into());
            values.push(Value::Integer(u));
        }
        if let Some(c) = self.case_id {
            sql.push("case_id = ?".into());
            values.push(Value::Integer(c));
        }
        Ok((sql.join(" AND "), values))
    }
}

/// `org IN (…)` for a scope (nothing for the root's, which is everything).
fn in_scope(scope: &Option<Vec<String>>, sql: &mut Vec<String>, values: &mut Vec<Value>) {
    if let Some(orgs) = scope {
        if orgs.is_empty() {
            sql.push("0 = 1".into());
        } else {
            sql.push(format!("org IN ({})", vec!["?"; orgs.len()].join(", ")));
            values.extend(orgs.iter().map(|o| Value::Text(o.clone())));
        }
    }
}

/// Alerts the store holds, as the feed gives them: `store_id` and the alert's JSON.
pub struct Incoming<'a> {
    pub store_id: u128,
    pub raw: &'a str,
}

/// What [`take`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub added: usize,
    /// Of those added, how many a suppression caught.
    pub suppressed: usize,
    /// Already here (the same alert from another copy of the record).
    pub known: usize,
    /// Not an alert Canh can read (kept in the store; reported, not triaged).
    pub unreadable: usize,
}

/// Takes alerts from the store into triage, each new one checked against the suppressions in
/// force at `now` (seconds).
pub fn take(tx: &Transaction<'_>, incoming: &[Incoming<'_>], now: i64) -> Result<Taken, StateError> {
    let rules = suppression::in_force(tx, now)?;
    let mut taken = Taken::default();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO alerts (id, store_id, ts, engine, rule_id, title, severity, rank, sensor, org, src,
             src_port, dst, dst_port, community_id, uids, evidence, raw, status, suppression)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?;
    for alert in incoming {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(alert.raw) else {
            taken.unreadable += 1;
            continue;
        };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let port = |k: &str| v.get(k).and_then(|x| x.as_u64()).and_then(|p| u16::try_from(p).ok());
        let (id, rule_id) = (text("id"), text("rule_id"));
        let Some(ts) = v.get("ts").and_then(|t| t.as_f64()) else {
            taken.unreadable += 1;
            continue;
        };
        if id.is_empty() || rule_id.is_empty() {
            taken.unreadable += 1;
            continue;
        }
        let (org, src, dst) = (text("_org"), text("id.orig_h"), text("id.resp_h"));
        let uids: Vec<&str> = v
            .get("uids")
            .and_then(|u| u.as_array())
            .map(|u| u.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let severity = text("severity");
        let caught = rules.iter().find(|s| s.catches(&rule_id, &src, &dst, &org)).map(|s| s.id);
        let status = if caught.is_some() { Status::Suppressed } else { Status::New };
        let added = insert.execute(params![
            id,
            format!("{:032x}", alert.store_id),
            (ts * 1e6).round() as i64,
            text("engine"),
            rule_id,
            text("title"),
            severity,
            rank(&severity),
            text("_sensor"),
            org,
            src,
            port("id.orig_p"),
            dst,
            port("id.resp_p"),
            text("community_id"),
            uids.join(" "),
            text("evidence"),
            alert.raw,
            status.as_str(),
            caught,
        ])?;
        if added == 0 {
            taken.known += 1;
            continue;
        }
        taken.added += 1;
        if let Some(s) = caught {
            taken.suppressed += 1;
            history(tx, &id, "canh", "suppressed", &format!("suppression #{s}"))?;
        }
    }
    Ok(taken)
}

/// The store ids of the alerts held, for the feed to skip.
pub fn held(conn: &Connection) -> Result<std::collections::HashSet<u128>, StateError> {
    let mut stmt = conn.prepare("SELECT store_id FROM alerts")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = std::collections::HashSet::new();
    for id in ids {
        if let Ok(id) = u128::from_str_radix(&id?, 16) {
            out.insert(id);
        }
    }
    Ok(out)
}

/// Alerts of one rule and source (and destination, when grouped by it), as the queue shows
/// them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Group {
    pub rule_id: String,
    pub title: String,
    /// The highest severity in the group.
    pub severity: String,
    pub src: String,
    /// Set when the queue is grouped by destination too.
    pub dst: Option<String>,
    pub count: i64,
    /// Microseconds since the epoch.
    pub first: i64,
    pub last: i64,
    /// How many are still new (not looked at).
    pub new: i64,
}

/// The queue: groups of the alerts `filter` matches in `scope`, the most recent first.
pub fn queue(
    conn: &Connection,
    scope: &Option<Vec<String>>,
    filter: &Filter,
    by_dst: bool,
    limit: usize,
) -> Result<Vec<Group>, StateError> {
    let (condition, mut values) = filter.condition(scope)?;
    let dst = if by_dst { "dst" } else { "''" };
    let sql = format!(
        "SELECT rule_id, MAX(title), MAX(rank), src, {dst}, COUNT(*), MIN(ts), MAX(ts),
                SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END)
         FROM alerts WHERE {condition} GROUP BY rule_id, src, {dst} ORDER BY MAX(ts) DESC LIMIT ?"
    );
    values.push(Value::Integer(limit as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(values.iter()), |r| {
        Ok(Group {
            rule_id: r.get(0)?,
            title: r.get(1)?,
            severity: SEVERITIES.get(r.get::<_, i64>(2)? as usize).unwrap_or(&"informational").to_string(),
            src: r.get(3)?,
            dst: by_dst.then(|| r.get(4)).transpose()?,
            count: r.get(5)?,
            first: r.get(6)?,
            last: r.get(7)?,
            new: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Alerts `filter` matches in `scope`, newest first, and how many match in all.
pub fn list(
    conn: &Connection,
    scope: &Option<Vec<String>>,
    filter: &Filter,
    limit: usize,
    offset: usize,
) -> Result<(Vec<Alert>, i64), StateError> {
    let (condition, mut values) = filter.condition(scope)?;
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM alerts WHERE {condition}"),
        params_from_iter(values.iter()),
        |r| r.get(0),
    )?;
    values.push(Value::Integer(limit as i64));
    values.push(Value::Integer(offset as i64));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE {condition} ORDER BY ts DESC, id LIMIT ? OFFSET ?"
    ))?;
    let alerts = stmt.query_map(params_from_iter(values.iter()), alert_row)?.collect::<Result<_, _>>()?;
    Ok((alerts, total))
}

/// One alert, if it exists within `scope`.
pub fn get(conn: &Connection, scope: &Option<Vec<String>>, id: &str) -> Result<Option<Alert>, StateError> {
    let mut sql = vec!["id = ?".to_string()];
    let mut values = vec![Value::Text(id.to_string())];
    in_scope(scope, &mut sql, &mut values);
    let found = conn
        .query_row(
            &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE {}", sql.join(" AND ")),
            params_from_iter(values.iter()),
            alert_row,
        )
        .optional()?;
    Ok(found)
}

/// An alert's history, oldest first.
pub fn history_of(conn: &Connection, id: &str) -> Result<Vec<HistoryEntry>, StateError> {
    let mut stmt =
        conn.prepare_cached("SELECT ts, actor, action, detail FROM alert_history WHERE alert = ?1 ORDER BY id")?;
    let rows = stmt.query_map([id], |r| {
        Ok(HistoryEntry { ts: r.get(0)?, actor: r.get(1)?, action: r.get(2)?, detail: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn history(tx: &Transaction<'_>, alert: &str, actor: &str, action: &str, detail: &str) -> Result<(), StateError> {
    tx.prepare_cached("INSERT INTO alert_history (alert, ts, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![alert, now_text(), actor, action, detail])?;
    Ok(())
}

/// Which alerts an action is for.
#[derive(Debug, Clone)]
pub enum Target {
    /// These alerts (each must be within the caller's scope, or nothing is done).
    Ids(Vec<String>),
    /// Every alert the filter matches within the caller's scope.
    Matching(Filter),
}

/// What is done to them.
#[derive(Debug, Clone)]
pub enum Action {
    Acknowledge,
    /// To a user (by name).
    Assign(String),
    /// Into a case: an open one, or a new one with this title.
    Escalate(case::Into),
    Close(Verdict),
    /// Back to new.
    Reopen,
    /// A comment only.
    Comment,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Self::Acknowledge => "alert.acknowledge",
            Self::Assign(_) => "alert.assign",
            Self::Escalate(_) => "alert.escalate",
            Self::Close(_) => "alert.close",
            Self::Reopen => "alert.reopen",
            Self::Comment => "alert.comment",
        }
    }
}

/// What [`act`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Acted {
    pub alerts: usize,
    /// The case the alerts went into, when escalated.
    pub case_id: Option<i64>,
}

/// Longest comment taken, in characters.
pub const MAX_COMMENT: usize = 4000;

/// Acts on the target's alerts within `scope`, with an optional comment; one audit entry for
/// the whole action, one history entry per alert.
pub fn act(
    tx: &Transaction<'_>,
    actor: &Actor,
    scope: &Option<Vec<String>>,
    target: &Target,
    action: &Action,
    comment: &str,
) -> Result<Acted, StateError> {
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT {
        return Err(StateError::Invalid { field: "comment", message: format!("at most {MAX_COMMENT} characters") });
    }
    if matches!(action, Action::Comment) && comment.is_empty() {
        return Err(StateError::Invalid { field: "comment", message: "a comment needs text".into() });
    }
    let (ids, what) = match target {
        Target::Ids(ids) => {
            if ids.is_empty() {
                return Err(StateError::Invalid { field: "ids", message: "no alert chosen".into() });
            }
            for id in ids {
                if get(tx, scope, id)?.is_none() {
                    return Err(StateError::NotFound { what: "alert", name: id.clone() });
                }
            }
            let what = if ids.len() == 1 { ids[0].clone() } else { format!("{} alerts", ids.len()) };
            (ids.clone(), what)
        }
        Target::Matching(filter) => {
            let (condition, values) = filter.condition(scope)?;
            let mut stmt = tx.prepare(&format!("SELECT id FROM alerts WHERE {condition}"))?;
            let ids: Vec<String> =
                stmt.query_map(params_from_iter(values.iter()), |r| r.get(0))?.collect::<Result<_, _>>()?;
            (ids, format!("alerts matching {}", filter.describe()))
        }
    };
    let now = now_text();
    let mut detail = String::new();
    let mut case_id = None;
    let set = |sql: &str, extra: Vec<Value>| -> Result<(), StateError> {
        let mut stmt = tx.prepare_cached(sql)?;
        for id in &ids {
            let mut values = extra.clone();
            values.push(Value::Text(now.clone()));
            values.push(Value::Text(id.clone()));
            stmt.execute(params_from_iter(values.iter()))?;
        }
        Ok(())
    };
    match action {
        Action::Acknowledge => {
            set("UPDATE alerts SET status = 'acknowledged', updated = ? WHERE id = ? AND status = 'new'", vec![])?;
        }
        Action::Assign(user) => {
            let assignee = super::user::get(tx, user)?;
            // Work goes to someone who can see it.
            if scope.as_ref().is_some_and(|orgs| !orgs.contains(&assignee.org)) {
                return Err(StateError::NotFound { what: "user", name: user.clone() });
            }
            detail = format!("to {}", assignee.name);
            set("UPDATE alerts SET assignee = ?, updated = ? WHERE id = ?", vec![Value::Text(assignee.name)])?;
        }
        Action::Escalate(into) => {
            let org = common_org(tx, &ids)?.unwrap_or_else(|| actor.org.clone());
            let id = case::take_alerts(tx, actor, scope, into, &org, &ids)?;
            detail = format!("into case #{id}");
            case_id = Some(id);
            set(
                "UPDATE alerts SET status = 'escalated', case_id = ?, updated = ? WHERE id = ?",
                vec![Value::Integer(id)],
            )?;
        }
        Action::Close(verdict) => {
            detail = verdict.as_str().to_string();
            set(
                "UPDATE alerts SET status = 'closed', verdict = ?, updated = ? WHERE id = ?",
                vec![Value::Text(verdict.as_str().into())],
            )?;
        }
        Action::Reopen => {
            set("UPDATE alerts SET status = 'new', verdict = NULL, updated = ? WHERE id = ?", vec![])?;
        }
        Action::Comment => {}
    }
    let name = action.name();
    let short = name.trim_start_matches("alert.");
    let line = match (detail.is_empty(), comment.is_empty()) {
        (true, true) => String::new(),
        (false, true) => detail.clone(),
        (true, false) => comment.to_string(),
        (false, false) => format!("{detail}: {comment}"),
    };
    for id in &ids {
        history(tx, id, &actor.name, short, &line)?;
    }
    audit::append(tx, audit::Entry::done(actor, name, &what).detail(&format!("{} alerts; {line}", ids.len())))?;
    Ok(Acted { alerts: ids.len(), case_id })
}

/// The organization all these alerts share, if they share one.
fn common_org(conn: &Connection, ids: &[String]) -> Result<Option<String>, StateError> {
    let mut org: Option<String> = None;
    let mut stmt = conn.prepare_cached("SELECT org FROM alerts WHERE id = ?1")?;
    for id in ids {
        let o: String = stmt.query_row([id], |r| r.get(0))?;
        match &org {
            None => org = Some(o),
            Some(seen) if *seen != o => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(org)
}

/// How the alerts `filter` matches in `scope` spread: per time bucket (`bucket` microseconds,
/// oldest first), and the ten most frequent rules, sources, destinations, severities and
/// statuses.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Spread {
    pub over_time: Vec<(i64, i64)>,
    /// Rule id, title, count.
    pub rules: Vec<(String, String, i64)>,
    pub sources: Vec<(String, i64)>,
    pub destinations: Vec<(String, i64)>,
    pub severities: Vec<(String, i64)>,
    pub statuses: Vec<(String, i64)>,
}

pub fn spread(
    conn: &Connection,
    scope: &Option<Vec<String>>,
    filter: &Filter,
    bucket: i64,
) -> Result<Spread, StateError> {
    let (condition, values) = filter.condition(scope)?;
    let pairs = |sql: String| -> Result<Vec<(String, i64)>, StateError> {
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let top = |column: &str| {
        pairs(format!(
            "SELECT {column}, COUNT(*) AS n FROM alerts WHERE {condition} AND {column} <> '' GROUP BY {column} ORDER BY n DESC LIMIT 10"
        ))
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT (ts / {bucket}) * {bucket} AS b, COUNT(*) FROM alerts WHERE {condition} GROUP BY b ORDER BY b"
    ))?;
    let over_time =
        stmt.query_map(params_from_iter(values.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT rule_id, MAX(title), COUNT(*) AS n FROM alerts WHERE {condition} GROUP BY rule_id ORDER BY n DESC LIMIT 10"
    ))?;
    let rules = stmt
        .query_map(params_from_iter(values.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut severities = pairs(format!("SELECT severity, COUNT(*) FROM alerts WHERE {condition} GROUP BY severity"))?;
    severities.sort_by_key(|(s, _)| std::cmp::Reverse(rank(s)));
    Ok(Spread {
        over_time,
        rules,
        sources: top("src")?,
        destinations: top("dst")?,
        severities,
        statuses: pairs(format!(
            "SELECT status, COUNT(*) FROM alerts WHERE {condition} GROUP BY status ORDER BY COUNT(*) DESC"
        ))?,
    })
}
