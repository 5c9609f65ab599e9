//! The compliance desk: information systems, their classification, and their dossiers. One
//! service function per operation (here), called by the pages ([`pages`]) and the JSON API
//! ([`api`]) alike, so that who may see and do what — and the audit entry — is decided once.
//!
//! Who sees what: a user sees the systems and dossiers of their organization's subtree, and,
//! as an appraiser or approver, the dossiers routed to their organization (and those
//! dossiers' systems). Who does what on a dossier is its part ([`Part`]): the system owner of
//! the dossier's organization prepares and files; the appraiser and approver of the
//! organizations the province routes each level to appraise and approve.

pub mod api;
pub mod incident;
pub mod pages;
pub mod soc;

use canh_compliance::classify::Classification;
use canh_compliance::dossier::{Action, Part, Stage};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use canh_compliance::system::{InformationSystem, Profile};
use rusqlite::Connection;

use super::routes::{App, Principal};
use super::triage::{Failure, scope};
use crate::state::dossier::{self, Stored as StoredDossier};
use crate::state::inventory::{self, Stored as StoredSystem};
use crate::state::user::Role;
use crate::state::{audit, calendar, org};
use crate::when::today_in_vietnam;

/// Whether `org` is within `scope` (`None`: everything).
fn in_scope(scope: &Option<Vec<String>>, org: &str) -> bool {
    scope.as_ref().is_none_or(|s| s.iter().any(|o| o == org))
}

/// The parts `p` may take on a dossier.
pub fn parts_of(conn: &Connection, p: &Principal, d: &StoredDossier) -> Result<Vec<Part>, Failure> {
    let mine = org::subtree(conn, p.org())?;
    let within = |code: &str| mine.iter().any(|o| o == code);
    let level = d.dossier.level;
    let mut parts = Vec::new();
    match p.role() {
        Role::SystemOwner if within(&d.org) => parts.push(Part::Preparer),
        Role::Appraiser => {
            if level.number() >= 4 && within(&dossier::routed_org(conn, &d.org, level, Part::Opinion)?) {
                parts.push(Part::Opinion);
            }
            if within(&dossier::routed_org(conn, &d.org, level, Part::Appraiser)?) {
                parts.push(Part::Appraiser);
            }
        }
        Role::Approver if within(&dossier::routed_org(conn, &d.org, level, Part::Approver)?) => {
            parts.push(Part::Approver)
        }
        _ => {}
    }
    Ok(parts)
}

/// Whether `p` may see a dossier: within scope, or routed to them once it has left its
/// preparer's draft.
fn sees(conn: &Connection, p: &Principal, scope: &Option<Vec<String>>, d: &StoredDossier) -> Result<bool, Failure> {
    if in_scope(scope, &d.org) {
        return Ok(true);
    }
    routed(conn, p, d)
}

/// Whether a dossier outside `p`'s scope is routed to them: filed (no longer a draft), and
/// `p` plays a part in it.
fn routed(conn: &Connection, p: &Principal, d: &StoredDossier) -> Result<bool, Failure> {
    Ok(d.dossier.stage != Stage::Draft && !parts_of(conn, p, d)?.is_empty())
}

/// The dossiers `p` sees.
pub fn dossiers(app: &App, p: &Principal) -> Result<Vec<StoredDossier>, Failure> {
    let scope = scope(app, p)?;
    let conn = app.read()?;
    let mut out = Vec::new();
    for d in dossier::list(&conn)? {
        if sees(&conn, p, &scope, &d)? {
            out.push(d);
        }
    }
    drop(conn);
    app.audit(audit::Entry::done(&p.actor(), "dossier.list", "all"))?;
    Ok(out)
}

/// A system row of a list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SystemRow {
    pub id: i64,
    pub org: String,
    pub code: String,
    pub name: String,
    /// Art. 9.2's point (a–đ).
    pub system_type: String,
    pub level: Option<u8>,
    pub regime: Option<String>,
    pub approved_level: Option<u8>,
    /// The stage of its newest dossier.
    pub dossier_stage: Option<String>,
}

/// The systems `p` sees: within scope, or covered by a dossier routed to them.
pub fn systems(app: &App, p: &Principal) -> Result<Vec<SystemRow>, Failure> {
    let scope = scope(app, p)?;
    let conn = app.read()?;
    let all = inventory::list(&conn, &None)?;
    let dossiers = dossier::list(&conn)?;
    let mut rows = Vec::new();
    for s in all {
        let mine = dossiers.iter().filter(|d| d.systems.contains(&s.id)).collect::<Vec<_>>();
        let in_scope = in_scope(&scope, &s.system.org);
        let is_routed = mine.iter().map(|d| routed(&conn, p, d)).collect::<Result<Vec<_>, _>>()?.into_iter().any(|r| r);
        if in_scope || is_routed {
            let newest = mine.iter().max_by_key(|d| d.id).map(|d| d.dossier.stage.key().to_string());
            rows.push(SystemRow {
                id: s.id,
                org: s.system.org.clone(),
                code: s.system.code.clone(),
                name: s.system.name.clone(),
                system_type: s.system.profile.system_type.point().to_string(),
                level: s.level,
                regime: s.regime.map(|r| r.id().to_string()),
                approved_level: s.approved_level,
                dossier_stage: newest,
            });
        }
    }
    drop(conn);
    app.audit(audit::Entry::done(&p.actor(), "system.list", "all"))?;
    Ok(rows)
}

/// One system with what the desk shows of it.
pub struct SystemDetail {
    pub stored: StoredSystem,
    pub classification: Option<inventory::Kept>,
    pub dossiers: Vec<StoredDossier>,
    /// `p` may edit it (a system owner of its organization).
    pub can_edit: bool,
    /// What changed since its level was approved that calls for re-determination (Art. 25).
    pub triggers: Vec<canh_compliance::dossier::triggers::Trigger>,
}

fn system_visible(conn: &Connection, app: &App, p: &Principal, id: i64) -> Result<StoredSystem, Failure> {
    let scope = scope(app, p)?;
    let not_found = || Failure::NotFound(format!("no information system {id}"));
    let s = inventory::get(conn, &None, id)?.ok_or_else(not_found)?;
    if in_scope(&scope, &s.system.org) {
        return Ok(s);
    }
    for d in dossier::list(conn)?.iter().filter(|d| d.systems.contains(&id)) {
        if routed(conn, p, d)? {
            return Ok(s);
        }
    }
    Err(not_found())
}

/// Whether `p` edits systems of `org`: a system owner (or the administrator) whose subtree
/// holds it.
fn edits(conn: &Connection, p: &Principal, org_code: &str) -> Result<bool, Failure> {
    if !matches!(p.role(), Role::SystemOwner | Role::Admin) {
        return Ok(false);
    }
    Ok(org::subtree(conn, p.org())?.iter().any(|o| o == org_code))
}

pub fn system_detail(app: &App, p: &Principal, id: i64) -> Result<SystemDetail, Failure> {
    let conn = app.read()?;
    let stored = system_visible(&conn, app, p, id)?;
    let classification = inventory::classifications(&conn, id)?.into_iter().next();
    let dossiers = dossier::list(&conn)?.into_iter().filter(|d| d.systems.contains(&id)).collect();
    let can_edit = edits(&conn, p, &stored.system.org)?;
    drop(conn);
    let triggers = match (stored.approved_level.and_then(Level::new), &stored.approved_profile) {
        (Some(level), Some(then)) => canh_compliance::dossier::triggers::triggers(level, then, &stored.system.profile),
        _ => Vec::new(),
    };
    let target = format!("{}/{}", stored.system.org, stored.system.code);
    app.audit(audit::Entry::done(&p.actor(), "system.view", &target))?;
    Ok(SystemDetail { stored, classification, dossiers, can_edit, triggers })
}

/// Adds (`id` None) or replaces a system; the organization must be within `p`'s subtree.
pub fn save_system(app: &App, p: &Principal, id: Option<i64>, system: InformationSystem) -> Result<i64, Failure> {
    {
        let conn = app.read()?;
        if !edits(&conn, p, &system.org)? {
            return Err(Failure::NotFound(format!("no organization `{}` of yours", system.org)));
        }
        if let Some(id) = id {
            let old = system_visible(&conn, app, p, id)?;
            if !edits(&conn, p, &old.system.org)? {
                return Err(Failure::NotFound(format!("no information system {id}")));
            }
        }
    }
    let actor = p.actor();
    let stored = app.lock().change(|tx| match id {
        Some(id) => inventory::update(tx, &actor, id, &system),
        None => inventory::add(tx, &actor, &system),
    })?;
    Ok(stored.id)
}

/// Imports a sheet into the organizations of `p`'s subtree; all or nothing.
pub fn import(app: &App, p: &Principal, bytes: &[u8], default_org: &str) -> Result<inventory::Imported, Failure> {
    use canh_compliance::import;
    let workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let org = (!default_org.is_empty()).then_some(default_org);
    let sheet = if workbook { import::from_workbook(bytes, org) } else { import::from_csv(bytes, org) }
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    {
        let conn = app.read()?;
        for s in &sheet.systems {
            if !edits(&conn, p, &s.org)? {
                return Err(Failure::Invalid(format!(
                    "{}: organization `{}` is not yours; nothing imported",
                    s.code, s.org
                )));
            }
        }
    }
    let actor = p.actor();
    Ok(app.lock().change(|tx| inventory::import(tx, &actor, &sheet.systems))?)
}

/// The wizard's answers: the system's profile is replaced by them and it is classified.
pub fn classify(
    app: &App,
    p: &Principal,
    id: i64,
    profile: Profile,
    regime: Regime,
) -> Result<Classification, Failure> {
    let mut system = {
        let conn = app.read()?;
        let s = system_visible(&conn, app, p, id)?;
        if !edits(&conn, p, &s.system.org)? {
            return Err(Failure::NotFound(format!("no information system {id}")));
        }
        s.system
    };
    system.profile = profile;
    let actor = p.actor();
    Ok(app.lock().change(|tx| {
        inventory::update(tx, &actor, id, &system)?;
        inventory::classify_system(tx, &actor, id, regime)
    })?)
}

/// Records that a system's risk assessment was done on `day` (Art. 10.2.a; approval needs it).
pub fn record_risk_assessment(app: &App, p: &Principal, id: i64, day: &str) -> Result<(), Failure> {
    let day = crate::when::parse_date(day).map_err(|e| Failure::Invalid(format!("day: {e}")))?;
    if day > today_in_vietnam() {
        return Err(Failure::Invalid("day: a risk assessment is recorded once done, not before".into()));
    }
    {
        let conn = app.read()?;
        let s = system_visible(&conn, app, p, id)?;
        if !edits(&conn, p, &s.system.org)? {
            return Err(Failure::NotFound(format!("no information system {id} of yours")));
        }
    }
    let actor = p.actor();
    Ok(app.lock().change(|tx| inventory::set_risk_assessed(tx, &actor, id, &day.to_string()))?)
}

/// Opens a draft dossier for systems of `p`'s organizations.
pub fn open_dossier(
    app: &App,
    p: &Principal,
    systems: &[i64],
    regime: Regime,
    level: Option<Level>,
) -> Result<i64, Failure> {
    {
        let conn = app.read()?;
        for id in systems {
            let s = system_visible(&conn, app, p, *id)?;
            if p.role() != Role::SystemOwner || !edits(&conn, p, &s.system.org)? {
                return Err(Failure::NotFound(format!("no information system {id} of yours")));
            }
        }
    }
    let actor = p.actor();
    let today = today_in_vietnam();
    Ok(app.lock().change(|tx| dossier::open(tx, &actor, regime, level, systems, today))?.id)
}

/// A dossier with its steps, and what `p` may do next.
pub struct DossierDetail {
    pub stored: StoredDossier,
    pub events: Vec<dossier::Event>,
    pub systems: Vec<StoredSystem>,
    pub parts: Vec<Part>,
    /// The actions `p` may take now (by key).
    pub actions: Vec<&'static str>,
    /// What approval still lacks (read fresh).
    pub missing: Vec<String>,
    /// Working days left in the current step (negative: late).
    pub days_left: Option<i64>,
    /// The organizations each part is routed to.
    pub routing: Vec<(Part, String)>,
    /// Files attached to it.
    pub attachments: Vec<crate::state::evidence::Evidence>,
}

fn visible_dossier(conn: &Connection, app: &App, p: &Principal, id: i64) -> Result<StoredDossier, Failure> {
    let scope = scope(app, p)?;
    let not_found = || Failure::NotFound(format!("no dossier {id}"));
    let d = dossier::get(conn, &None, id)?.ok_or_else(not_found)?;
    if sees(conn, p, &scope, &d)? { Ok(d) } else { Err(not_found()) }
}

/// The actions open at a stage to the holder of `parts`.
fn actions_for(stage: Stage, level: Level, listed: bool, opinion_given: bool, parts: &[Part]) -> Vec<&'static str> {
    let candidates: &[(&str, Part)] = match stage {
        Stage::Draft | Stage::Returned => {
            &[("request_opinion", Part::Preparer), ("submit", Part::Preparer), ("withdraw", Part::Preparer)]
        }
        Stage::OpinionRequested => &[("give_opinion", Part::Opinion), ("withdraw", Part::Preparer)],
        Stage::Submitted => &[
            ("accept_complete", Part::Appraiser),
            ("return_for_completion", Part::Appraiser),
            ("withdraw", Part::Preparer),
        ],
        Stage::UnderAppraisal => &[("appraise_suitable", Part::Appraiser), ("appraise_not_suitable", Part::Appraiser)],
        Stage::Appraised => &[("submit_for_approval", Part::Preparer)],
        Stage::AwaitingList => &[("listed", Part::Preparer)],
        Stage::SubmittedForApproval => &[("approve", Part::Approver), ("return_by_approver", Part::Approver)],
        Stage::Approved | Stage::Withdrawn => &[],
    };
    candidates
        .iter()
        .filter(|(key, part)| {
            parts.contains(part)
                && match *key {
                    "request_opinion" => level.number() >= 4 && !opinion_given,
                    "submit" => level.number() < 4 || opinion_given,
                    "listed" => !listed,
                    _ => true,
                }
        })
        .map(|(key, _)| *key)
        .collect()
}

pub fn dossier_detail(app: &App, p: &Principal, id: i64) -> Result<DossierDetail, Failure> {
    let conn = app.read()?;
    let stored = visible_dossier(&conn, app, p, id)?;
    let events = dossier::events(&conn, id)?;
    let attachments = crate::state::evidence::of_dossier(&conn, id)?;
    let systems = stored
        .systems
        .iter()
        .filter_map(|s| inventory::get(&conn, &None, *s).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let parts = parts_of(&conn, p, &stored)?;
    let d = &stored.dossier;
    let actions = actions_for(d.stage, d.level, d.listed, d.opinion_given, &parts);
    let mut current = d.clone();
    current.regulation = dossier::regulation(&conn, &stored.org)?;
    current.risk_assessment_done = systems.iter().all(|s| s.risk_assessed.is_some());
    let missing = if d.stage.is_final() { Vec::new() } else { current.missing_preconditions() };
    let cal = calendar::work_calendar(&conn)?;
    let days_left = d.due.filter(|_| !d.stage.is_final()).map(|due| cal.working_days_left(today_in_vietnam(), due));
    let mut routing = Vec::new();
    for part in [Part::Preparer, Part::Opinion, Part::Appraiser, Part::Approver] {
        if part == Part::Opinion && d.level.number() < 4 {
            continue;
        }
        routing.push((part, dossier::routed_org(&conn, &stored.org, d.level, part)?));
    }
    drop(conn);
    app.audit(audit::Entry::done(&p.actor(), "dossier.view", &id.to_string()))?;
    Ok(DossierDetail { stored, events, systems, parts, actions, missing, days_left, routing, attachments })
}

/// An action as either face asks for it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ActRequest {
    /// `submit`, `accept_complete`, `appraise_suitable`, `approve`, …
    pub action: String,
    pub reason: String,
    /// The approval decision's number and symbol.
    pub decision: String,
}

fn action_of(req: &ActRequest) -> Result<Action, Failure> {
    Ok(match req.action.as_str() {
        "request_opinion" => Action::RequestOpinion,
        "give_opinion" => Action::GiveOpinion,
        "submit" => Action::Submit,
        "return_for_completion" => Action::ReturnForCompletion,
        "accept_complete" => Action::AcceptComplete,
        "appraise_suitable" => Action::Appraise { suitable: true },
        "appraise_not_suitable" => Action::Appraise { suitable: false },
        "listed" => Action::Listed,
        "submit_for_approval" => Action::SubmitForApproval,
        "approve" if !req.decision.trim().is_empty() => {
            Action::Approve { decision_number: req.decision.trim().to_string(), decision_date: today_in_vietnam() }
        }
        "approve" => return Err(Failure::Invalid("decision: the approval decision's number and symbol".into())),
        "return_by_approver" => Action::ReturnByApprover,
        "withdraw" => Action::Withdraw,
        other => return Err(Failure::Invalid(format!("action: `{other}` is not a dossier action"))),
    })
}

/// Takes an action on a dossier in the part `p` holds for it.
pub fn act(app: &App, p: &Principal, id: i64, req: &ActRequest) -> Result<Stage, Failure> {
    let action = action_of(req)?;
    let (part, cal) = {
        let conn = app.read()?;
        let d = visible_dossier(&conn, app, p, id)?;
        let parts = parts_of(&conn, p, &d)?;
        if !parts.contains(&action.part()) {
            drop(conn);
            let detail = format!("{}: not the caller's part", action.key());
            app.audit(
                audit::Entry::new(
                    &p.actor(),
                    &format!("dossier.{}", action.key()),
                    &id.to_string(),
                    audit::Outcome::Denied,
                )
                .detail(&detail),
            )?;
            return Err(Failure::Invalid(format!("`{}` is not yours to take on dossier {id}", req.action)));
        }
        (action.part(), calendar::work_calendar(&conn)?)
    };
    let actor = p.actor();
    let step = dossier::Step { action: &action, part, reason: req.reason.trim(), today: today_in_vietnam(), cal: &cal };
    let done = dossier::act_recorded(&mut app.lock(), &actor, id, &step)?;
    Ok(done.dossier.stage)
}

/// The level and regime a system is assessed against: the approved ones, else the latest
/// classification's.
fn assessed_at(s: &StoredSystem) -> Result<(Regime, Level), Failure> {
    let pair = match (s.approved_level, s.approved_regime) {
        (Some(l), Some(r)) => Some((r, l)),
        _ => s.regime.zip(s.level),
    };
    pair.and_then(|(r, l)| Level::new(l).map(|l| (r, l)))
        .ok_or_else(|| Failure::Invalid(format!("{}: determine its level first", s.system.code)))
}

/// One requirement row of the assessment page.
pub struct ItemView {
    pub key: String,
    pub group: String,
    pub clause: String,
    pub text: String,
    pub note: Option<String>,
    pub period: Option<String>,
    /// The standard's own words, when the organization imported the text it holds.
    pub full_text: Option<String>,
    pub entry: canh_compliance::assessment::Entry,
    /// The SOC's finding for it, when the requirement has a SOC check.
    pub soc: Option<canh_compliance::evidence::SocFinding>,
    pub evidence: Vec<crate::state::evidence::Evidence>,
}

pub struct AssessmentView {
    pub system: StoredSystem,
    pub regime: Regime,
    pub level: Level,
    pub items: Vec<ItemView>,
    pub overall: canh_compliance::assessment::Tally,
    pub groups: Vec<(String, canh_compliance::assessment::Tally)>,
    /// When the last round was closed, and what changed since.
    pub since: Option<(String, Vec<canh_compliance::assessment::Change>)>,
    pub can_edit: bool,
}

/// Computes the SOC's findings for a system now and keeps them.
pub fn refresh_soc(
    app: &App,
    s: &StoredSystem,
    regime: Regime,
    level: Level,
) -> Result<Vec<canh_compliance::evidence::SocFinding>, Failure> {
    use canh_compliance::evidence::{SocCheck, SocPolicy, Subject, evaluate};
    let catalog = canh_compliance::catalog::Catalog::of(regime);
    let subject = Subject {
        org: &s.system.org,
        ranges: s.system.address_ranges().copied().collect(),
        retention: catalog.parameter("log_retention", level),
    };
    let now = time::OffsetDateTime::now_utc();
    let soc = soc::Soc { app, now };
    let findings: Vec<_> =
        SocCheck::ALL.iter().map(|c| evaluate(*c, &subject, &soc, &SocPolicy::default(), now)).collect();
    app.lock().change(|tx| crate::state::evidence::keep_findings(tx, s.id, &findings))?;
    Ok(findings)
}

pub fn assessment(app: &App, p: &Principal, id: i64, lang: super::i18n::Lang) -> Result<AssessmentView, Failure> {
    use canh_compliance::catalog::Catalog;
    let (system, can_edit) = {
        let conn = app.read()?;
        let s = system_visible(&conn, app, p, id)?;
        let can_edit = edits(&conn, p, &s.system.org)?;
        (s, can_edit)
    };
    let (regime, level) = assessed_at(&system)?;
    let findings = refresh_soc(app, &system, regime, level)?;
    let conn = app.read()?;
    let a = crate::state::assessment::load(&conn, id, regime, level)?;
    let evidence = crate::state::evidence::of_system(&conn, id)?;
    let since =
        crate::state::assessment::last_snapshot(&conn, id, regime)?.map(|(ts, before)| (ts, a.changes_since(&before)));
    drop(conn);
    let en = lang == super::i18n::Lang::En;
    let catalog = Catalog::of(regime);
    let local = crate::cmd::catalog::local_text(&app.data, regime);
    let items = catalog
        .items(level)
        .into_iter()
        .map(|item| {
            let key = item.key();
            let soc =
                item.requirement.and_then(|r| r.soc).and_then(|c| findings.iter().find(|f| f.check == c).cloned());
            ItemView {
                group: if en { item.group.en.clone() } else { item.group.vi.clone() },
                clause: item.clause.clone(),
                text: if en { item.en() } else { item.vi() },
                note: item.requirement.and_then(|r| r.note(level)).map(String::from),
                period: item.period().map(|p| p.to_string()),
                full_text: local.as_ref().and_then(|t| t.get(&item)).map(String::from),
                entry: a.entries.get(&key).cloned().unwrap_or_default(),
                evidence: evidence.iter().filter(|e| e.item.as_deref() == Some(key.as_str())).cloned().collect(),
                soc,
                key,
            }
        })
        .collect();
    let (overall, groups) = a.progress();
    app.audit(audit::Entry::done(&p.actor(), "assessment.view", &id.to_string()))?;
    Ok(AssessmentView { system, regime, level, items, overall, groups, since, can_edit })
}

fn editable(app: &App, p: &Principal, id: i64) -> Result<(StoredSystem, Regime, Level), Failure> {
    let conn = app.read()?;
    let s = system_visible(&conn, app, p, id)?;
    if !edits(&conn, p, &s.system.org)? {
        return Err(Failure::NotFound(format!("no information system {id} of yours")));
    }
    let (r, l) = assessed_at(&s)?;
    Ok((s, r, l))
}

/// Records one requirement's row of a system's assessment.
pub fn set_item(
    app: &App,
    p: &Principal,
    id: i64,
    item: &str,
    entry: canh_compliance::assessment::Entry,
) -> Result<(), Failure> {
    let (_, regime, level) = editable(app, p, id)?;
    let actor = p.actor();
    Ok(app.lock().change(|tx| crate::state::assessment::set(tx, &actor, id, regime, level, item, entry))?)
}

/// Closes an assessment round (the next shows what changed since).
pub fn close_round(app: &App, p: &Principal, id: i64) -> Result<(), Failure> {
    let (_, regime, level) = editable(app, p, id)?;
    let actor = p.actor();
    app.lock().change(|tx| crate::state::assessment::snapshot(tx, &actor, id, regime, level))?;
    Ok(())
}

/// Stores an evidence file for a requirement of a system; it expires after the requirement's
/// cycle from the day it was collected.
/// An evidence file as a form or the API gives it.
pub struct Upload<'a> {
    /// The requirement item (`3/testing/external-pentest`).
    pub item: &'a str,
    pub name: &'a str,
    pub media_type: &'a str,
    pub bytes: &'a [u8],
    /// The day it was made (YYYY-MM-DD; empty: today).
    pub collected: &'a str,
}

pub fn upload_evidence(app: &App, p: &Principal, id: i64, upload: &Upload<'_>) -> Result<i64, Failure> {
    let Upload { item, name, media_type, bytes, collected } = *upload;
    let (s, regime, level) = editable(app, p, id)?;
    let catalog = canh_compliance::catalog::Catalog::of(regime);
    let found = catalog
        .item(item)
        .filter(|i| i.level == level)
        .ok_or_else(|| Failure::Invalid(format!("item: `{item}` is not a requirement of level {}", level.number())))?;
    let collected = if collected.trim().is_empty() {
        today_in_vietnam()
    } else {
        crate::when::parse_date(collected).map_err(|e| Failure::Invalid(format!("collected: {e}")))?
    };
    let expires = canh_compliance::evidence::expiry(collected, found.cycle());
    let store = canh_compliance::evidence::ContentStore::open(app.data.join("evidence"))
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let (sha256, size) = store.put(bytes).map_err(|e| Failure::Internal(e.to_string()))?;
    let actor = p.actor();
    let new = crate::state::evidence::New {
        org: &s.system.org,
        system: Some(id),
        dossier: None,
        item: Some(item),
        name,
        sha256: &sha256,
        size: size as i64,
        media_type,
        collected,
        expires,
    };
    Ok(app.lock().change(|tx| crate::state::evidence::add(tx, &actor, &new))?.id)
}

/// An evidence file for download, checked against its digest.
pub fn evidence_file(
    app: &App,
    p: &Principal,
    evidence: i64,
) -> Result<(crate::state::evidence::Evidence, Vec<u8>), Failure> {
    let e = crate::state::evidence::get(&*app.read()?, evidence)?
        .ok_or_else(|| Failure::NotFound(format!("no evidence {evidence}")))?;
    {
        let conn = app.read()?;
        match e.system {
            Some(s) => {
                system_visible(&conn, app, p, s)?;
            }
            None => {
                let scope = scope(app, p)?;
                if !in_scope(&scope, &e.org) {
                    return Err(Failure::NotFound(format!("no evidence {evidence}")));
                }
            }
        }
    }
    let store = canh_compliance::evidence::ContentStore::open(app.data.join("evidence"))
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let bytes = store.get(&e.sha256).map_err(|err| Failure::Internal(format!("evidence {evidence}: {err}")))?;
    app.audit(audit::Entry::done(&p.actor(), "evidence.download", &evidence.to_string()).detail(&e.name))?;
    Ok((e, bytes))
}

/// Attaches a file to a dossier (a part of it: the design document, the appraisal opinion
/// signed, the regulation's scan); whoever plays a part in the dossier may.
pub fn attach_to_dossier(
    app: &App,
    p: &Principal,
    id: i64,
    name: &str,
    media_type: &str,
    bytes: &[u8],
) -> Result<i64, Failure> {
    let org = {
        let conn = app.read()?;
        let d = visible_dossier(&conn, app, p, id)?;
        if parts_of(&conn, p, &d)?.is_empty() {
            return Err(Failure::NotFound(format!("no dossier {id} of yours")));
        }
        d.org
    };
    let store = canh_compliance::evidence::ContentStore::open(app.data.join("evidence"))
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let (sha256, size) = store.put(bytes).map_err(|e| Failure::Internal(e.to_string()))?;
    let actor = p.actor();
    let new = crate::state::evidence::New {
        org: &org,
        system: None,
        dossier: Some(id),
        item: None,
        name,
        sha256: &sha256,
        size: size as i64,
        media_type,
        collected: today_in_vietnam(),
        expires: None,
    };
    Ok(app.lock().change(|tx| crate::state::evidence::add(tx, &actor, &new))?.id)
}

/// Evidence expiring within 30 days or expired, of the caller's organizations.
pub fn expiring(
    app: &App,
    p: &Principal,
) -> Result<Vec<(crate::state::evidence::Evidence, canh_compliance::evidence::Validity)>, Failure> {
    let scope = scope(app, p)?;
    let found = crate::state::evidence::expiring(&*app.read()?, &scope, today_in_vietnam(), 30)?;
    app.audit(audit::Entry::done(&p.actor(), "evidence.expiring", "all"))?;
    Ok(found)
}

/// An organization's name by code (the code itself when unknown).
fn org_name(conn: &Connection, code: &str) -> String {
    org::list(conn)
        .ok()
        .and_then(|all| all.into_iter().find(|o| o.code == code).map(|o| o.name))
        .unwrap_or_else(|| code.to_string())
}

/// A document of a dossier as a Word file: its file name and bytes.
pub fn dossier_document(app: &App, p: &Principal, id: i64, kind: &str) -> Result<(String, Vec<u8>), Failure> {
    use canh_compliance::documents::{DossierFacts, Kind, Parties, SystemFacts, render};
    let kind = Kind::parse(kind).ok_or_else(|| Failure::NotFound(format!("no document `{kind}`")))?;
    let conn = app.read()?;
    let d = visible_dossier(&conn, app, p, id)?;
    let level = d.dossier.level;
    if !kind.applies(level.number()) {
        return Err(Failure::NotFound(format!(
            "{} is not a document of a level-{} dossier",
            kind.key(),
            level.number()
        )));
    }
    let systems: Vec<StoredSystem> =
        d.systems.iter().filter_map(|s| inventory::get(&conn, &None, *s).transpose()).collect::<Result<_, _>>()?;
    let classifications: Vec<Option<Classification>> = systems
        .iter()
        .map(|s| {
            inventory::classifications(&conn, s.id)
                .map(|k| k.into_iter().map(|k| k.result).find(|c| c.regime == d.dossier.regime))
        })
        .collect::<Result<_, _>>()?;
    let assessments: Vec<canh_compliance::assessment::Assessment> = systems
        .iter()
        .map(|s| crate::state::assessment::load(&conn, s.id, d.dossier.regime, level))
        .collect::<Result<_, _>>()?;
    let ancestors = org::ancestors(&conn, &d.org)?;
    let root = ancestors.first().cloned().unwrap_or_else(|| d.org.clone());
    let parties = Parties {
        place: org_name(&conn, &root).trim_start_matches("UBND tỉnh ").trim_start_matches("UBND ").to_string(),
        owner: org_name(&conn, &root),
        preparer: org_name(&conn, &d.org),
        preparer_parent: ancestors.last().map(|a| org_name(&conn, a)).unwrap_or_default(),
        appraiser: org_name(&conn, &dossier::routed_org(&conn, &d.org, level, Part::Appraiser)?),
        approver: org_name(&conn, &dossier::routed_org(&conn, &d.org, level, Part::Approver)?),
    };
    drop(conn);
    let facts = DossierFacts {
        id,
        parties,
        dossier: &d.dossier,
        systems: systems
            .iter()
            .zip(&classifications)
            .zip(&assessments)
            .map(|((s, c), a)| SystemFacts { system: &s.system, classification: c.as_ref(), assessment: Some(a) })
            .collect(),
        date: today_in_vietnam(),
    };
    let bytes = render(kind, &facts).to_docx();
    app.audit(audit::Entry::done(&p.actor(), "dossier.document", &format!("{id}/{}", kind.key())))?;
    Ok((format!("ho-so-{id}-{}.docx", kind.key()), bytes))
}

/// The province view: systems by level and by dossier stage, overdue steps, transition
/// deadlines, expiring evidence.
pub struct ProvinceView {
    /// Systems at each level 1–5, and not yet classified.
    pub by_level: [usize; 5],
    pub unclassified: usize,
    /// Systems by the stage of their newest dossier (Form 08's status words), and without one.
    pub by_stage: Vec<(String, usize)>,
    pub overdue: Vec<(StoredDossier, i64)>,
    /// Decree 85 dossiers not yet approved, to be by 31/12/2026.
    pub nd85_open: Vec<StoredDossier>,
    /// Systems approved under Decree 85: the new requirements by 30/6/2027.
    pub nd85_approved: Vec<StoredSystem>,
    pub expiring: usize,
}

pub fn province(app: &App, p: &Principal) -> Result<ProvinceView, Failure> {
    let scope = scope(app, p)?;
    let conn = app.read()?;
    let systems: Vec<StoredSystem> = inventory::list(&conn, &scope)?;
    let dossiers: Vec<StoredDossier> = dossier::list(&conn)?.into_iter().filter(|d| in_scope(&scope, &d.org)).collect();
    let mut by_level = [0usize; 5];
    let mut unclassified = 0;
    let mut stages: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &systems {
        match s.approved_level.or(s.level) {
            Some(l @ 1..=5) => by_level[usize::from(l - 1)] += 1,
            _ => unclassified += 1,
        }
        let newest = dossiers.iter().filter(|d| d.systems.contains(&s.id)).max_by_key(|d| d.id);
        let stage = newest.map_or("Chưa lập hồ sơ".to_string(), |d| d.dossier.stage.name_vi().to_string());
        *stages.entry(stage).or_default() += 1;
    }
    let cal = calendar::work_calendar(&conn)?;
    let today = today_in_vietnam();
    let overdue = dossiers.iter().filter_map(|d| d.dossier.overdue(today, &cal).map(|n| (d.clone(), n))).collect();
    let nd85_open =
        dossiers.iter().filter(|d| d.dossier.regime == Regime::Nd85 && !d.dossier.stage.is_final()).cloned().collect();
    let nd85_approved = systems.iter().filter(|s| s.approved_regime == Some(Regime::Nd85)).cloned().collect();
    let expiring = crate::state::evidence::expiring(&conn, &scope, today, 30)?.len();
    drop(conn);
    app.audit(audit::Entry::done(&p.actor(), "province.view", "all"))?;
    Ok(ProvinceView {
        by_level,
        unclassified,
        by_stage: stages.into_iter().collect(),
        overdue,
        nd85_open,
        nd85_approved,
        expiring,
    })
}

/// Form 08, the annual report of `year`, for the caller's organizations.
pub fn annual_report(app: &App, p: &Principal, year: i32) -> Result<(String, Vec<u8>), Failure> {
    use canh_compliance::documents::report::{AnnualReport, Row, period};
    if !(2016..=2100).contains(&year) {
        return Err(Failure::Invalid(format!("year: {year}")));
    }
    let scope = scope(app, p)?;
    let conn = app.read()?;
    let (from, to) = period(year);
    let dossiers: Vec<StoredDossier> = dossier::list(&conn)?;
    let mut rows = Vec::new();
    for s in inventory::list(&conn, &scope)? {
        let newest = dossiers.iter().filter(|d| d.systems.contains(&s.id)).max_by_key(|d| d.id);
        let regulation = dossier::regulation(&conn, &s.system.org)?;
        let assessed = crate::state::assessment::last_snapshot(
            &conn,
            s.id,
            s.approved_regime.or(s.regime).unwrap_or(Regime::Nd331),
        )?
        .filter(|(ts, _)| ts.get(..10).is_some_and(|d| d >= from.to_string().as_str() && d <= to.to_string().as_str()));
        let plan = match (s.approved_regime.or(s.regime), s.approved_level.or(s.level).and_then(Level::new)) {
            (Some(r), Some(l)) => {
                crate::state::assessment::load(&conn, s.id, r, l)?.progress().0.plan_status_vi().to_string()
            }
            _ => String::new(),
        };
        rows.push(Row {
            system: s.system.name.clone(),
            owner: s.system.owner.name.clone(),
            operator: s.system.operator.name.clone(),
            proposed_level: s.level.map(|l| l.to_string()).unwrap_or_default(),
            approval_status: newest.map(|d| d.dossier.stage.form08_status().to_string()).unwrap_or_default(),
            decision: newest
                .and_then(|d| d.dossier.decision.as_ref())
                .map(|i| format!("{}, {}", i.number, i.date))
                .unwrap_or_default(),
            regulation: regulation.map(|r| format!("{}, {}", r.number, r.date)).unwrap_or_default(),
            expected_approval: newest
                .filter(|d| d.dossier.stage == Stage::SubmittedForApproval)
                .and_then(|d| d.dossier.due)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            plan_status: plan,
            expected_full: String::new(),
            assessment: if assessed.is_some() { "Định kỳ".into() } else { String::new() },
        });
    }
    let root = org::ancestors(&conn, p.org())?.first().cloned().unwrap_or_else(|| p.org().to_string());
    let reporter = org_name(&conn, p.org());
    let place = org_name(&conn, &root).trim_start_matches("UBND tỉnh ").to_string();
    drop(conn);
    let report = AnnualReport {
        year,
        reporter,
        reporter_parent: String::new(),
        place,
        date: today_in_vietnam(),
        counts: AnnualReport::counts_of(&rows),
        rows,
    };
    let bytes = report.document().to_docx();
    app.audit(audit::Entry::done(&p.actor(), "report.form08", &year.to_string()))?;
    Ok((format!("mau-08-bao-cao-{year}.docx"), bytes))
}
