//! The compliance desk's pages: the systems list with its import, a system's page, its form
//! and the classification wizard, the dossiers and a dossier with the steps its viewer may
//! take. Forms answer with a redirect; a refused form says why on the page it came from.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Multipart, Path, Query, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use canh_compliance::classify::cite_vi;
use canh_compliance::dossier::Part;
use canh_compliance::import;
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use canh_compliance::system::{
    Decider, InformationClass, InformationSystem, InfrastructureScope, NationalSecurityHarm,
    NationalSecurityIndicators, Profile, PublicService, SystemType, Unit, WorksGrade,
};

use super::*;
use crate::server::i18n::{Lang, Tr};
use crate::server::routes::{App, Principal, page};
use crate::server::triage::pages::{csrf_of, form_pairs, one};
use crate::server::triage::{blocking, number};
use crate::state::org;

/// A form's answer: the page `to` names when the service did it, else the failure's page.
pub(crate) fn then_redirect<T>(done: Result<T, Failure>, lang: Lang, to: impl FnOnce(T) -> String) -> Response {
    match done {
        Ok(v) => Redirect::to(&to(v)).into_response(),
        Err(f) => f.page(lang),
    }
}

/// One option of a select, radio group or checkbox group.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choice(value: &str, label: String, selected: bool) -> Choice {
    Choice { value: value.to_string(), label, selected }
}

struct Row {
    id: i64,
    org: String,
    code: String,
    name: String,
    system_type: String,
    level: Option<u8>,
    approved_level: Option<u8>,
    stage: String,
}

#[derive(Template)]
#[template(path = "systems.html")]
struct SystemsPage {
    t: Tr,
    csrf: String,
    rows: Vec<Row>,
    can_add: bool,
    /// A system owner may tick several level 1–2 systems into one combined dossier.
    can_open: bool,
    message: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Notice {
    added: Option<usize>,
    updated: Option<usize>,
}

pub async fn systems_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(notice): Query<Notice>,
) -> Response {
    let csrf = csrf_of(&p);
    let can_add = matches!(p.role(), crate::state::user::Role::SystemOwner | crate::state::user::Role::Admin);
    let can_open = p.role() == crate::state::user::Role::SystemOwner;
    match blocking(&app, move |app| systems(app, &p)).await {
        Ok(found) => {
            let t = Tr(lang);
            let rows = found
                .into_iter()
                .map(|r| Row {
                    stage: r.dossier_stage.as_deref().map(|s| t.get(&format!("stage-{s}"))).unwrap_or_default(),
                    id: r.id,
                    org: r.org,
                    code: r.code,
                    name: r.name,
                    system_type: r.system_type,
                    level: r.level,
                    approved_level: r.approved_level,
                })
                .collect();
            let message =
                notice.added.map(|a| format!("{}: +{a}, ~{}", t.get("sys-imported"), notice.updated.unwrap_or(0)));
            page(&SystemsPage { t, csrf, rows, can_add, can_open, message })
        }
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "system_form.html")]
struct SystemForm {
    t: Tr,
    csrf: String,
    id: Option<i64>,
    s: InformationSystem,
    orgs: Vec<String>,
    procedures: String,
    connected: String,
    zones: String,
    devices: String,
    applications: String,
    error: Option<String>,
}

fn form_page(
    lang: Lang,
    csrf: String,
    id: Option<i64>,
    s: InformationSystem,
    orgs: Vec<String>,
    error: Option<String>,
) -> Response {
    let zones = s
        .zones
        .iter()
        .map(|z| {
            let ranges: Vec<String> = z.private_ranges.iter().chain(&z.public_ranges).map(|r| r.to_string()).collect();
            format!("{}: {}", z.name, ranges.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let devices = s
        .devices
        .iter()
        .map(|d| format!("{} | {} | {} | {}", d.name, d.kind, d.location, d.purpose))
        .collect::<Vec<_>>()
        .join("\n");
    let applications = s
        .applications
        .iter()
        .map(|a| format!("{} | {} | {} | {}", a.name, a.server, a.os, a.purpose))
        .collect::<Vec<_>>()
        .join("\n");
    let page_ = SystemForm {
        t: Tr(lang),
        csrf,
        id,
        procedures: s.administrative_procedures.join("\n"),
        connected: s.connected_systems.join("\n"),
        zones,
        devices,
        applications,
        s,
        orgs,
        error,
    };
    page(&page_)
}

/// The organizations `p` may file systems for.
fn my_orgs(app: &App, p: &Principal) -> Result<Vec<String>, Failure> {
    Ok(org::subtree(&*app.read()?, p.org())?)
}

pub async fn new_system_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let csrf = csrf_of(&p);
    let org = p.org().to_string();
    match blocking(&app, move |app| my_orgs(app, &p)).await {
        Ok(orgs) => form_page(lang, csrf, None, InformationSystem { org, ..Default::default() }, orgs, None),
        Err(f) => f.page(lang),
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The form's fields onto a system (its profile kept from `base`).
fn system_of(pairs: &[(String, String)], base: InformationSystem) -> Result<InformationSystem, String> {
    let unit = |name: &str, old: &Unit| Unit { name: one(pairs, name).trim().to_string(), ..old.clone() };
    let zones = lines(one(pairs, "zones")).map(import::zone).collect::<Result<Vec<_>, _>>()?;
    Ok(InformationSystem {
        org: one(pairs, "org").trim().to_string(),
        code: one(pairs, "code").trim().to_string(),
        name: one(pairs, "name").trim().to_string(),
        purpose: one(pairs, "purpose").trim().to_string(),
        owner: unit("owner", &base.owner),
        operator: unit("operator", &base.operator),
        cybersecurity_unit: unit("cybersecurity_unit", &base.cybersecurity_unit),
        users_served: one(pairs, "users_served").trim().parse().unwrap_or(0),
        infrastructure: one(pairs, "infrastructure").trim().to_string(),
        administrative_procedures: lines(one(pairs, "procedures")).map(String::from).collect(),
        connected_systems: lines(one(pairs, "connected")).map(String::from).collect(),
        zones,
        devices: lines(one(pairs, "devices")).map(import::device).collect(),
        applications: lines(one(pairs, "applications")).map(import::application).collect(),
        profile: base.profile,
    })
}

async fn save(app: Arc<App>, p: Principal, lang: Lang, id: Option<i64>, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let csrf = csrf_of(&p);
    let base = match id {
        Some(id) => {
            let q = p.clone();
            match blocking(&app, move |app| system_detail(app, &q, id)).await {
                Ok(d) => d.stored.system,
                Err(f) => return f.page(lang),
            }
        }
        None => InformationSystem {
            // A new system processes what its owner says in the wizard; until then, private
            // information (staff accounts) is the safe assumption.
            profile: Profile { information: [InformationClass::Private].into(), ..Default::default() },
            ..Default::default()
        },
    };
    let system = match system_of(&pairs, base) {
        Ok(s) => s,
        Err(e) => {
            let orgs = my_orgs(&app, &p).unwrap_or_default();
            let shown = InformationSystem {
                org: one(&pairs, "org").to_string(),
                code: one(&pairs, "code").to_string(),
                name: one(&pairs, "name").to_string(),
                ..Default::default()
            };
            return form_page(lang, csrf, id, shown, orgs, Some(e));
        }
    };
    let shown = system.clone();
    let q = p.clone();
    match blocking(&app, move |app| save_system(app, &q, id, system)).await {
        Ok(id) => Redirect::to(&format!("/systems/{id}")).into_response(),
        Err(Failure::Invalid(e)) => {
            let orgs = my_orgs(&app, &p).unwrap_or_default();
            form_page(lang, csrf, id, shown, orgs, Some(e))
        }
        Err(f) => f.page(lang),
    }
}

pub async fn create_system(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    save(app, p, lang, None, body).await
}

pub async fn update_system(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match number(&id, "system") {
        Ok(id) => save(app, p, lang, Some(id), body).await,
        Err(f) => f.page(lang),
    }
}

pub async fn edit_system_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf_of(&p);
    let found = blocking(&app, move |app| {
        let id = number(&id, "system")?;
        let d = system_detail(app, &p, id)?;
        if !d.can_edit {
            return Err(Failure::NotFound(format!("no information system {id} of yours")));
        }
        Ok((id, d.stored.system, my_orgs(app, &p)?))
    })
    .await;
    match found {
        Ok((id, s, orgs)) => form_page(lang, csrf, Some(id), s, orgs, None),
        Err(f) => f.page(lang),
    }
}

struct FiredRow {
    level: u8,
    citation: String,
    text: String,
    detail: String,
    decisive: bool,
}

struct ClassificationView {
    headline: String,
    fired: Vec<FiredRow>,
    raised: bool,
    ns: Vec<String>,
    grey: Vec<String>,
    by: String,
}

#[derive(Template)]
#[template(path = "system.html")]
struct SystemPage {
    t: Tr,
    csrf: String,
    id: i64,
    s: InformationSystem,
    system_type: String,
    information: String,
    risk_assessed: Option<String>,
    classification: Option<ClassificationView>,
    /// (id, stage, level) of each dossier.
    dossiers: Vec<(i64, String, String)>,
    can_edit: bool,
    can_open: bool,
    today: String,
    /// Why its level should be determined again, in words.
    triggers: Vec<String>,
}

pub async fn system_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf_of(&p);
    let zone = p.zone();
    let owner = p.role() == crate::state::user::Role::SystemOwner;
    let found = blocking(&app, move |app| system_detail(app, &p, number(&id, "system")?)).await;
    let d = match found {
        Ok(d) => d,
        Err(f) => return f.page(lang),
    };
    let t = Tr(lang);
    let en = lang == Lang::En;
    let s = d.stored.system;
    let classification = d.classification.map(|k| {
        let c = k.result;
        let decree = if en { c.regime.standard().to_string() } else { c.regime.decree().to_string() };
        let headline = match c.level {
            Some(l) if en => format!("Level {} under {} ({})", l.number(), c.regime.decree(), c.regime.standard()),
            Some(l) => format!("Cấp độ {} theo {} ({})", l.number(), c.regime.decree(), c.regime.standard()),
            None => t.get("sys-not-classified"),
        };
        let _ = decree;
        ClassificationView {
            headline,
            fired: c
                .fired
                .iter()
                .map(|f| FiredRow {
                    level: f.level.number(),
                    citation: if en { format!("Art. {}", f.clause) } else { cite_vi(&f.clause) },
                    text: if en { f.en.clone() } else { f.vi.clone() },
                    detail: f.detail.clone(),
                    decisive: Some(f.level) == c.level,
                })
                .collect(),
            raised: c.raised_by_risk,
            ns: c
                .national_security_critical
                .iter()
                .map(|f| {
                    format!(
                        "{} — {}",
                        if en { format!("Art. {}", f.clause) } else { cite_vi(&f.clause) },
                        if en { &f.en } else { &f.vi }
                    )
                })
                .collect(),
            grey: c.grey.iter().map(|g| if en { g.en.clone() } else { g.vi.clone() }).collect(),
            by: format!("{} · {}", k.actor, zone.text(&k.ts)),
        }
    });
    let system_type = t.get(&format!("type-{}", s.profile.system_type.key()));
    let information =
        s.profile.information.iter().map(|c| t.get(&format!("info-{}", c.key()))).collect::<Vec<_>>().join(", ");
    let dossiers = d
        .dossiers
        .iter()
        .map(|x| {
            (
                x.id,
                t.get(&format!("stage-{}", x.dossier.stage.key())),
                format!("{} · {}", x.dossier.regime, x.dossier.level),
            )
        })
        .collect();
    page(&SystemPage {
        csrf,
        id: d.stored.id,
        system_type,
        information,
        risk_assessed: d.stored.risk_assessed,
        classification,
        dossiers,
        can_open: d.can_edit && owner && d.stored.level.is_some(),
        can_edit: d.can_edit,
        today: crate::when::today_in_vietnam().to_string(),
        triggers: d.triggers.iter().map(|x| x.vi()).collect(),
        s,
        t,
    })
}

#[derive(Template)]
#[template(path = "classify.html")]
struct ClassifyPage {
    t: Tr,
    csrf: String,
    id: i64,
    name: String,
    p: Profile,
    types: Vec<Choice>,
    information: Vec<Choice>,
    harms: Vec<Choice>,
    services: Vec<Choice>,
    scopes: Vec<Choice>,
    works: Vec<Choice>,
    decided_levels: Vec<Choice>,
    deciders: Vec<Choice>,
    risk_levels: Vec<Choice>,
}

fn harm_key(h: NationalSecurityHarm) -> &'static str {
    match h {
        NationalSecurityHarm::None => "",
        NationalSecurityHarm::Harm => "harm",
        NationalSecurityHarm::Serious => "serious",
        NationalSecurityHarm::EspeciallySerious => "especially_serious",
    }
}

fn service_key(s: PublicService) -> &'static str {
    match s {
        PublicService::None => "",
        PublicService::Information => "information",
        PublicService::Partial => "partial",
        PublicService::EndToEnd => "end_to_end",
    }
}

fn scope_key(s: Option<InfrastructureScope>) -> &'static str {
    match s {
        None => "",
        Some(InfrastructureScope::OneBody) => "one_body",
        Some(InfrastructureScope::ProvinceOrSector) => "province_or_sector",
        Some(InfrastructureScope::Nationwide) => "nationwide",
        Some(InfrastructureScope::International) => "international",
    }
}

fn works_key(w: Option<WorksGrade>) -> &'static str {
    match w {
        None => "",
        Some(WorksGrade::GradeTwoToFour) => "grade_two_to_four",
        Some(WorksGrade::GradeOne) => "grade_one",
        Some(WorksGrade::Special) => "special",
        Some(WorksGrade::NationalSecurity) => "national_security",
    }
}

fn decider_key(d: Decider) -> &'static str {
    match d {
        Decider::PrimeMinister => "prime_minister",
        Decider::RiskFramework => "risk_framework",
    }
}

fn with_none(t: &Tr, current: &str, options: Vec<(&'static str, String)>) -> Vec<Choice> {
    let mut out = vec![choice("", t.get("wiz-none"), current.is_empty())];
    out.extend(options.into_iter().map(|(v, l)| choice(v, l, v == current)));
    out
}

fn level_choices(t: &Tr, current: Option<Level>) -> Vec<Choice> {
    let mut out = vec![choice("", t.get("wiz-none"), current.is_none())];
    out.extend(Level::ALL.iter().map(|l| choice(&l.number().to_string(), l.number().to_string(), Some(*l) == current)));
    out
}

pub async fn classify_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf_of(&p);
    let found = blocking(&app, move |app| {
        let id = number(&id, "system")?;
        let d = system_detail(app, &p, id)?;
        if !d.can_edit {
            return Err(Failure::NotFound(format!("no information system {id} of yours")));
        }
        Ok(d)
    })
    .await;
    let d = match found {
        Ok(d) => d,
        Err(f) => return f.page(lang),
    };
    let t = Tr(lang);
    let pr = d.stored.system.profile.clone();
    let types = SystemType::ALL
        .iter()
        .map(|s| choice(s.key(), t.get(&format!("type-{}", s.key())), *s == pr.system_type))
        .collect();
    let information = InformationClass::ALL
        .iter()
        .map(|c| choice(c.key(), t.get(&format!("info-{}", c.key())), pr.information.contains(c)))
        .collect();
    let keyed = |prefix: &str, keys: &[&'static str]| {
        keys.iter().map(|k| (*k, t.get(&format!("{prefix}-{k}")))).collect::<Vec<_>>()
    };
    let harms =
        with_none(&t, harm_key(pr.national_security_harm), keyed("harm", &["harm", "serious", "especially_serious"]));
    let services =
        with_none(&t, service_key(pr.public_service), keyed("service", &["information", "partial", "end_to_end"]));
    let scopes = with_none(
        &t,
        scope_key(pr.infrastructure_scope),
        keyed("scope", &["one_body", "province_or_sector", "nationwide", "international"]),
    );
    let works = with_none(
        &t,
        works_key(pr.works_grade),
        keyed("works", &["grade_two_to_four", "grade_one", "special", "national_security"]),
    );
    let decider = pr.decided_level.map(|(_, d)| d).unwrap_or(Decider::RiskFramework);
    let deciders = ["prime_minister", "risk_framework"]
        .iter()
        .map(|k| choice(k, t.get(&format!("decider-{k}")), *k == decider_key(decider)))
        .collect();
    page(&ClassifyPage {
        csrf,
        id: d.stored.id,
        name: d.stored.system.name.clone(),
        decided_levels: level_choices(&t, pr.decided_level.map(|(l, _)| l)),
        risk_levels: level_choices(&t, pr.risk_assessment_level),
        types,
        information,
        harms,
        services,
        scopes,
        works,
        deciders,
        p: pr,
        t,
    })
}

/// The wizard's answers as a profile; an unknown value is refused, naming its field.
fn profile_of(pairs: &[(String, String)]) -> Result<Profile, Failure> {
    let bad = |field: &str, v: &str| Failure::Invalid(format!("{field}: `{v}` is not an answer"));
    let ticked = |name: &str| one(pairs, name) == "1";
    let system_type = one(pairs, "system_type");
    let system_type =
        SystemType::ALL.into_iter().find(|s| s.key() == system_type).ok_or_else(|| bad("system_type", system_type))?;
    let mut information = std::collections::BTreeSet::new();
    for (k, v) in pairs.iter().filter(|(k, _)| k == "information") {
        information.insert(InformationClass::ALL.into_iter().find(|c| c.key() == v).ok_or_else(|| bad(k, v))?);
    }
    let harm = match one(pairs, "harm") {
        "" => NationalSecurityHarm::None,
        "harm" => NationalSecurityHarm::Harm,
        "serious" => NationalSecurityHarm::Serious,
        "especially_serious" => NationalSecurityHarm::EspeciallySerious,
        v => return Err(bad("harm", v)),
    };
    let public_service = match one(pairs, "public_service") {
        "" => PublicService::None,
        "information" => PublicService::Information,
        "partial" => PublicService::Partial,
        "end_to_end" => PublicService::EndToEnd,
        v => return Err(bad("public_service", v)),
    };
    let infrastructure_scope = match one(pairs, "infrastructure_scope") {
        "" => None,
        "one_body" => Some(InfrastructureScope::OneBody),
        "province_or_sector" => Some(InfrastructureScope::ProvinceOrSector),
        "nationwide" => Some(InfrastructureScope::Nationwide),
        "international" => Some(InfrastructureScope::International),
        v => return Err(bad("infrastructure_scope", v)),
    };
    let works_grade = match one(pairs, "works_grade") {
        "" => None,
        "grade_two_to_four" => Some(WorksGrade::GradeTwoToFour),
        "grade_one" => Some(WorksGrade::GradeOne),
        "special" => Some(WorksGrade::Special),
        "national_security" => Some(WorksGrade::NationalSecurity),
        v => return Err(bad("works_grade", v)),
    };
    let level = |name: &str| -> Result<Option<Level>, Failure> {
        match one(pairs, name) {
            "" => Ok(None),
            v => v.parse().map(Some).map_err(|_| bad(name, v)),
        }
    };
    let decider = match one(pairs, "decider") {
        "prime_minister" => Decider::PrimeMinister,
        _ => Decider::RiskFramework,
    };
    let count = |name: &str| -> Result<u64, Failure> {
        let v = one(pairs, name).trim();
        if v.is_empty() { Ok(0) } else { v.parse().map_err(|_| bad(name, v)) }
    };
    Ok(Profile {
        system_type,
        information,
        serves_defence_security: ticked("serves_defence_security"),
        national_security_harm: harm,
        conditional_business_line: ticked("conditional_business_line"),
        handles_administrative_procedures: ticked("handles_administrative_procedures"),
        basic_subjects: count("basic_subjects")?,
        sensitive_subjects: count("sensitive_subjects")?,
        public_service,
        infrastructure_scope,
        national_egovernment: ticked("national_egovernment"),
        round_the_clock: ticked("round_the_clock"),
        works_grade,
        national_data_store: ticked("national_data_store"),
        decided_level: level("decided_level")?.map(|l| (l, decider)),
        risk_assessment_level: level("risk_level")?,
        national_security: NationalSecurityIndicators {
            directs_security_works: ticked("ns_works"),
            directs_security_telecom: ticked("ns_telecom"),
            critical_field: ticked("ns_field"),
            critical_consequence: ticked("ns_consequence"),
        },
    })
}

pub async fn classify_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let done = blocking(&app, move |app| {
        let id = number(&id, "system")?;
        let profile = profile_of(&pairs)?;
        let regime: Regime = one(&pairs, "regime")
            .parse()
            .map_err(|e: canh_compliance::regime::NotARegime| Failure::Invalid(e.to_string()))?;
        classify(app, &p, id, profile, regime)?;
        Ok(id)
    })
    .await;
    then_redirect(done, lang, |id| format!("/systems/{id}#classification"))
}

pub async fn risk_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let done = blocking(&app, move |app| {
        let id = number(&id, "system")?;
        record_risk_assessment(app, &p, id, one(&pairs, "day"))?;
        Ok(id)
    })
    .await;
    then_redirect(done, lang, |id| format!("/systems/{id}"))
}

pub async fn import_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    mut form: Multipart,
) -> Response {
    let mut file = Vec::new();
    let mut default_org = String::new();
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => match field.bytes().await {
                Ok(b) => file = b.to_vec(),
                Err(e) => return Failure::Invalid(format!("file: {e}")).page(lang),
            },
            Some("org") => default_org = field.text().await.unwrap_or_default().trim().to_string(),
            _ => {}
        }
    }
    if file.is_empty() {
        return Failure::Invalid("file: choose a CSV or XLSX sheet".into()).page(lang);
    }
    match blocking(&app, move |app| import(app, &p, &file, &default_org)).await {
        Ok(done) => Redirect::to(&format!("/systems?added={}&updated={}", done.added, done.updated)).into_response(),
        Err(f) => f.page(lang),
    }
}

struct DossierRow {
    id: i64,
    org: String,
    systems: String,
    level: u8,
    stage: String,
    due: String,
    late: Option<i64>,
}

#[derive(Template)]
#[template(path = "dossiers.html")]
struct DossiersPage {
    t: Tr,
    rows: Vec<DossierRow>,
}

pub async fn dossiers_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let found = blocking(&app, move |app| {
        let all = dossiers(app, &p)?;
        let cal = crate::state::calendar::work_calendar(&*app.read()?)?;
        Ok((all, cal))
    })
    .await;
    match found {
        Ok((all, cal)) => {
            let t = Tr(lang);
            let today = crate::when::today_in_vietnam();
            let rows = all
                .into_iter()
                .map(|d| DossierRow {
                    id: d.id,
                    systems: d.dossier.systems.join(", "),
                    level: d.dossier.level.number(),
                    stage: t.get(&format!("stage-{}", d.dossier.stage.key())),
                    due: d.dossier.due.map(|d| d.to_string()).unwrap_or_default(),
                    late: d.dossier.overdue(today, &cal),
                    org: d.org,
                })
                .collect();
            page(&DossiersPage { t, rows })
        }
        Err(f) => f.page(lang),
    }
}

pub async fn open_dossier_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let done = blocking(&app, move |app| {
        let ids = pairs
            .iter()
            .filter(|(k, _)| k == "system")
            .map(|(_, v)| number(v, "system"))
            .collect::<Result<Vec<_>, _>>()?;
        let regime: Regime = one(&pairs, "regime")
            .parse()
            .map_err(|e: canh_compliance::regime::NotARegime| Failure::Invalid(e.to_string()))?;
        let level = match one(&pairs, "level") {
            "" => None,
            v => Some(v.parse::<Level>().map_err(|e| Failure::Invalid(e.to_string()))?),
        };
        open_dossier(app, &p, &ids, regime, level)
    })
    .await;
    then_redirect(done, lang, |id| format!("/dossiers/{id}"))
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    t: Tr,
    csrf: String,
    id: i64,
    org: String,
    regime: String,
    level: u8,
    stage: String,
    systems: Vec<(i64, String)>,
    due: Option<String>,
    left: Option<String>,
    late: bool,
    regime_deadline: Option<String>,
    decision: Option<String>,
    routing: Vec<(String, String)>,
    missing: Vec<String>,
    actions: Vec<(&'static str, String)>,
    needs_decision: bool,
    events: Vec<crate::state::dossier::Event>,
    /// (file stem, name) of the documents this dossier's level has.
    documents: Vec<(&'static str, &'static str)>,
    attachments: Vec<crate::state::evidence::Evidence>,
    /// The viewer plays a part in it (and may attach files).
    can_attach: bool,
}

fn part_key(p: Part) -> &'static str {
    match p {
        Part::Preparer => "preparer",
        Part::Opinion => "opinion",
        Part::Appraiser => "appraiser",
        Part::Approver => "approver",
    }
}

pub async fn dossier_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf_of(&p);
    let zone = p.zone();
    let d = match blocking(&app, move |app| dossier_detail(app, &p, number(&id, "dossier")?)).await {
        Ok(d) => d,
        Err(f) => return f.page(lang),
    };
    let t = Tr(lang);
    let dos = &d.stored.dossier;
    let left = d
        .days_left
        .map(|n| if n >= 0 { format!("{n} {}", t.get("dos-left")) } else { format!("{} {}", -n, t.get("dos-late")) });
    let events = d
        .events
        .into_iter()
        .map(|mut e| {
            e.action = t.get(&format!("action-{}", e.action));
            e.to = t.get(&format!("stage-{}", e.to));
            e.ts = zone.text(&e.ts);
            e
        })
        .collect();
    page(&DossierPage {
        csrf,
        id: d.stored.id,
        org: d.stored.org.clone(),
        regime: format!("{} ({})", dos.regime.decree(), dos.regime.standard()),
        level: dos.level.number(),
        stage: t.get(&format!("stage-{}", dos.stage.key())),
        systems: d.systems.iter().map(|s| (s.id, s.system.name.clone())).collect(),
        due: dos.due.map(|d| d.to_string()),
        left,
        late: d.days_left.is_some_and(|n| n < 0),
        regime_deadline: dos.regime_deadline().map(|d| d.to_string()),
        decision: dos.decision.as_ref().map(|i| format!("{} ({})", i.number, i.date)),
        routing: d
            .routing
            .iter()
            .map(|(part, org)| (t.get(&format!("part-{}", part_key(*part))), org.clone()))
            .collect(),
        missing: d.missing,
        needs_decision: d.actions.contains(&"approve"),
        documents: canh_compliance::documents::Kind::ALL
            .into_iter()
            .filter(|k| k.applies(dos.level.number()))
            .map(|k| (k.key(), k.name_vi()))
            .collect(),
        can_attach: !d.parts.is_empty(),
        attachments: d.attachments,
        actions: d.actions.iter().map(|a| (*a, t.get(&format!("action-{a}")))).collect(),
        events,
        t,
    })
}

pub async fn act_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let req = ActRequest {
        action: one(&pairs, "action").to_string(),
        reason: one(&pairs, "reason").to_string(),
        decision: one(&pairs, "decision").to_string(),
    };
    then_redirect(
        blocking(&app, move |app| {
            let id = number(&id, "dossier")?;
            act(app, &p, id, &req).map(|_| id)
        })
        .await,
        lang,
        |id| format!("/dossiers/{id}"),
    )
}

/// A changed item: its key, its status before and now.
type ChangeRow = (String, String, String);

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    t: Tr,
    csrf: String,
    v: AssessmentView,
    standard: String,
    plan_status: &'static str,
    /// (group name, % met, counts).
    groups: Vec<(String, u32, String)>,
    statuses: Vec<(&'static str, String)>,
    /// When the last round closed, and (item, before, after) since.
    since: Option<(String, Vec<ChangeRow>)>,
}

pub async fn assessment_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    use canh_compliance::assessment::Status;
    let csrf = csrf_of(&p);
    let zone = p.zone();
    let v = match blocking(&app, move |app| assessment(app, &p, number(&id, "system")?, lang)).await {
        Ok(v) => v,
        Err(f) => return f.page(lang),
    };
    let t = Tr(lang);
    let catalog = canh_compliance::catalog::Catalog::of(v.regime);
    let groups = v
        .groups
        .iter()
        .map(|(key, tally)| {
            let name =
                catalog.group(key).map_or(key.clone(), |g| if lang == Lang::En { g.en.clone() } else { g.vi.clone() });
            (name, tally.met_percent(), format!("{}/{}", tally.met, tally.total - tally.not_applicable))
        })
        .collect();
    let label = |s: Status| t.get(&format!("gap-{}", s.key()));
    let since = v.since.as_ref().map(|(ts, changes)| {
        (zone.text(ts), changes.iter().map(|c| (c.key.clone(), label(c.before), label(c.after))).collect())
    });
    page(&AssessmentPage {
        csrf,
        standard: format!("{} ({})", catalog.standard, catalog.decree),
        plan_status: v.overall.plan_status_vi(),
        groups,
        statuses: Status::ALL.iter().map(|s| (s.key(), label(*s))).collect(),
        since,
        v,
        t,
    })
}

pub async fn assessment_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    use canh_compliance::assessment::{Entry, Status};
    let pairs = form_pairs(&body);
    let done = blocking(&app, move |app| {
        let id = number(&id, "system")?;
        let status = one(&pairs, "status");
        let entry = Entry {
            status: Status::parse(status).ok_or_else(|| Failure::Invalid(format!("status: `{status}`")))?,
            reason: one(&pairs, "reason").trim().to_string(),
            measure: one(&pairs, "measure").trim().to_string(),
            owner: one(&pairs, "owner").trim().to_string(),
            due: match one(&pairs, "due").trim() {
                "" => None,
                d => Some(crate::when::parse_date(d).map_err(|e| Failure::Invalid(format!("due: {e}")))?),
            },
            evidence: Vec::new(),
        };
        set_item(app, &p, id, one(&pairs, "item"), entry)?;
        Ok(id)
    })
    .await;
    then_redirect(done, lang, |id| format!("/systems/{id}/assessment"))
}

pub async fn close_round_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    then_redirect(
        blocking(&app, move |app| {
            let id = number(&id, "system")?;
            close_round(app, &p, id).map(|_| id)
        })
        .await,
        lang,
        |id| format!("/systems/{id}/assessment"),
    )
}

pub async fn evidence_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let (mut file, mut name, mut media, mut item, mut collected) =
        (Vec::new(), String::new(), String::new(), String::new(), String::new());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => {
                name = field.file_name().unwrap_or("evidence").to_string();
                media = field.content_type().unwrap_or("application/octet-stream").to_string();
                match field.bytes().await {
                    Ok(b) => file = b.to_vec(),
                    Err(e) => return Failure::Invalid(format!("file: {e}")).page(lang),
                }
            }
            Some("item") => item = field.text().await.unwrap_or_default(),
            Some("collected") => collected = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    if file.is_empty() {
        return Failure::Invalid("file: choose a file".into()).page(lang);
    }
    then_redirect(
        blocking(&app, move |app| {
            let id = number(&id, "system")?;
            upload_evidence(
                app,
                &p,
                id,
                &Upload { item: &item, name: &name, media_type: &media, bytes: &file, collected: &collected },
            )
            .map(|_| id)
        })
        .await,
        lang,
        |id| format!("/systems/{id}/assessment"),
    )
}

/// An evidence file, always as a download of bytes (never rendered by the browser, whatever
/// type its uploader claimed).
pub async fn evidence_download(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
) -> Response {
    use axum::http::{HeaderValue, header};
    match blocking(&app, move |app| evidence_file(app, &p, number(&id, "evidence")?)).await {
        Ok((e, bytes)) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            let encoded: String =
                form_urlencoded::byte_serialize(e.name.as_bytes()).collect::<String>().replace('+', "%20");
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"evidence-{}\"; filename*=UTF-8''{encoded}",
                e.id
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(f) => f.page(lang),
    }
}

struct ExpiringRow {
    id: i64,
    org: String,
    system: Option<i64>,
    item: String,
    name: String,
    collected: String,
    expires: String,
    expired: bool,
    state: String,
}

#[derive(Template)]
#[template(path = "evidence.html")]
struct ExpiringPage {
    t: Tr,
    rows: Vec<ExpiringRow>,
}

pub async fn expiring_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    use canh_compliance::evidence::Validity;
    match blocking(&app, move |app| expiring(app, &p)).await {
        Ok(found) => {
            let t = Tr(lang);
            let rows = found
                .into_iter()
                .map(|(e, v)| ExpiringRow {
                    expired: matches!(v, Validity::Expired(_)),
                    state: match v {
                        Validity::Expired(_) => t.get("ev-expired"),
                        Validity::ExpiresSoon(n) => format!("{n} {}", t.get("ev-days-left")),
                        Validity::Valid => String::new(),
                    },
                    id: e.id,
                    org: e.org,
                    system: e.system,
                    item: e.item.unwrap_or_default(),
                    name: e.name,
                    collected: e.collected,
                    expires: e.expires.unwrap_or_default(),
                })
                .collect();
            page(&ExpiringPage { t, rows })
        }
        Err(f) => f.page(lang),
    }
}

/// A Word file as a download.
pub(crate) fn docx(name: &str, bytes: Vec<u8>) -> Response {
    use axum::http::{HeaderValue, header};
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

pub async fn dossier_document_file(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    match blocking(&app, move |app| {
        let kind = file.strip_suffix(".docx").ok_or_else(|| Failure::NotFound(format!("no document `{file}`")))?;
        dossier_document(app, &p, number(&id, "dossier")?, kind)
    })
    .await
    {
        Ok((name, bytes)) => docx(&name, bytes),
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "province.html")]
struct ProvincePage {
    t: Tr,
    v: ProvinceView,
    levels: Vec<(String, usize)>,
    year: i32,
}

pub async fn province_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    match blocking(&app, move |app| province(app, &p)).await {
        Ok(v) => {
            let t = Tr(lang);
            let mut levels: Vec<(String, usize)> =
                v.by_level.iter().enumerate().map(|(i, n)| (format!("{} {}", t.get("dos-level"), i + 1), *n)).collect();
            levels.push((t.get("prov-unclassified"), v.unclassified));
            // The report year: the period that ends on 14/12 of this year, or next year's once past it.
            let today = crate::when::today_in_vietnam();
            let year = if (today.month() as u8, today.day()) > (12, 14) { today.year() + 1 } else { today.year() };
            page(&ProvincePage { t, v, levels, year })
        }
        Err(f) => f.page(lang),
    }
}

pub async fn annual_report_file(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(file): Path<String>,
) -> Response {
    match blocking(&app, move |app| {
        let year = file
            .strip_prefix("report-")
            .and_then(|f| f.strip_suffix(".docx"))
            .and_then(|y| y.parse().ok())
            .ok_or_else(|| Failure::NotFound(format!("no report `{file}`")))?;
        annual_report(app, &p, year)
    })
    .await
    {
        Ok((name, bytes)) => docx(&name, bytes),
        Err(f) => f.page(lang),
    }
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    t: Tr,
    csrf: String,
    year: i32,
    /// (date, weekday, day off?, name, edited?)
    days: Vec<(String, String, bool, String, bool)>,
    /// The administrator corrects the calendar; everyone else reads it.
    can_edit: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct YearParam {
    year: Option<i32>,
}

pub async fn calendar_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Query(q): Query<YearParam>,
) -> Response {
    use canh_compliance::calendar::DayKind;
    let csrf = csrf_of(&p);
    let can_edit = crate::server::permission::Permission::Administer.granted_to(p.role());
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or_else(|| crate::when::today_in_vietnam().year());
    let found = blocking(&app, move |app| {
        let conn = app.read()?;
        let edits = crate::state::calendar::edits(&conn)?;
        let cal = canh_compliance::calendar::WorkCalendar::new(edits.clone());
        Ok((cal.year(year), edits))
    })
    .await;
    match found {
        Ok((days, edits)) => {
            let days = days
                .into_iter()
                .map(|(d, k, n)| {
                    (d.to_string(), d.weekday().to_string(), k == DayKind::DayOff, n, edits.iter().any(|e| e.date == d))
                })
                .collect();
            page(&CalendarPage { t: Tr(lang), csrf, year, days, can_edit })
        }
        Err(f) => f.page(lang),
    }
}

pub async fn calendar_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    body: Bytes,
) -> Response {
    use canh_compliance::calendar::DayKind;
    let pairs = form_pairs(&body);
    let day = one(&pairs, "day").trim().to_string();
    let year = day.get(..4).unwrap_or("").to_string();
    let done = blocking(&app, move |app| {
        let actor = p.actor();
        let mut state = app.lock();
        match one(&pairs, "kind") {
            "unset" => state.change(|tx| crate::state::calendar::unset(tx, &actor, &day))?,
            kind => {
                let kind = if kind == "working_day" { DayKind::WorkingDay } else { DayKind::DayOff };
                state.change(|tx| crate::state::calendar::set(tx, &actor, &day, kind, one(&pairs, "name")))?
            }
        }
        Ok(())
    })
    .await;
    then_redirect(done, lang, |()| format!("/calendar?year={year}"))
}

pub async fn dossier_attach_form(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let (mut file, mut name, mut media) = (Vec::new(), String::new(), String::new());
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            name = field.file_name().unwrap_or("tai-lieu").to_string();
            media = field.content_type().unwrap_or("application/octet-stream").to_string();
            match field.bytes().await {
                Ok(b) => file = b.to_vec(),
                Err(e) => return Failure::Invalid(format!("file: {e}")).page(lang),
            }
        }
    }
    if file.is_empty() {
        return Failure::Invalid("file: choose a file".into()).page(lang);
    }
    let done = blocking(&app, move |app| {
        let id = number(&id, "dossier")?;
        attach_to_dossier(app, &p, id, &name, &media, &file).map(|_| id)
    })
    .await;
    then_redirect(done, lang, |id| format!("/dossiers/{id}"))
}
