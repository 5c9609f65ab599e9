//! Every route of the console, each with the permission it needs ([`ROUTES`]). The router is
//! built from this table and nothing else, so a route cannot exist without its entry, and a
//! test walks the table for every role.
//!
//! One guard ([`guard`]) runs before every handler: it finds the principal (a session cookie,
//! or an API token as `Authorization: Bearer`), checks the route's permission (a refusal is
//! audited), and for a state-changing request checks that it comes from the console's own
//! pages (the `Origin` header) and, for a session, carries the session's CSRF token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, FromRequest as _, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Form, Json, Router};

use super::i18n::{Lang, Tr};
use super::permission::Permission;
use super::{compliance, dashboard, search, triage};
use crate::state::audit::{self, Outcome};
use crate::state::session::{self, Policy, Refusal};
use crate::state::user::{Role, User};
use crate::state::{Actor, State, now_unix as now, token};

/// What every handler shares.
pub struct App {
    /// The writer: changes, each with its audit entry, one at a time.
    pub state: Mutex<State>,
    pub policy: Policy,
    /// The data directory: the event store is under `events/`.
    pub data: std::path::PathBuf,
    /// What the triage table has taken from the store so far.
    pub alert_sync: Mutex<super::feed::AlertSync>,
    /// The event store, opened at its first use and kept (with its days' readers).
    store: std::sync::OnceLock<canh_analyzer::store::Store>,
    /// Read-only connections for reads, so that no read waits behind a write.
    readers: Mutex<Vec<rusqlite::Connection>>,
    /// Entries of actions that changed nothing (views, searches, refusals), appended by
    /// [`audit_writer`] together: concurrent requests share one transaction and one flush.
    audit_jobs: Mutex<std::sync::mpsc::Sender<AuditJob>>,
    /// Bumped by every change to alerts: answers cached before it are stale.
    pub triage_generation: std::sync::atomic::AtomicU64,
    /// The alert queue's last answers, by caller's scope and filter, with their generation.
    pub queue_cache: Mutex<HashMap<String, CachedQueue>>,
    /// When a sensor's health is a problem (`[server]` sensor limits).
    pub sensor_limits: Mutex<super::ingest::health::Limits>,
    /// The host-log receivers, once started (their counts go to `/metrics`).
    pub hostlogs: std::sync::OnceLock<Arc<super::hostlogs::HostLogs>>,
}

/// A queue's answer and the triage generation it was computed at.
pub type CachedQueue = (u64, Arc<Vec<crate::state::alerts::Group>>);

/// An entry to append and where to say it is appended.
struct AuditJob {
    entry: audit::OwnedEntry,
    done: std::sync::mpsc::Sender<Result<(), String>>,
}

/// Most read connections kept.
const READERS: usize = 8;

impl App {
    pub fn new(state: State, policy: Policy) -> Arc<Self> {
        let data = state.dir().to_path_buf();
        let (jobs, queue) = std::sync::mpsc::channel();
        Arc::new_cyclic(|app| {
            let app = app.clone();
            std::thread::Builder::new()
                .name("audit-writer".into())
                .spawn(move || audit_writer(app, queue))
                .expect("a thread for the audit writer");
            Self {
                state: Mutex::new(state),
                policy,
                data,
                alert_sync: Mutex::default(),
                store: Default::default(),
                readers: Mutex::default(),
                audit_jobs: Mutex::new(jobs),
                triage_generation: Default::default(),
                queue_cache: Mutex::default(),
                sensor_limits: Default::default(),
                hostlogs: Default::default(),
            }
        })
    }

    /// The event store of the data directory.
    pub fn store(&self) -> Result<&canh_analyzer::store::Store, canh_analyzer::store::StoreError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let opened = canh_analyzer::store::Store::open(&self.data)?;
        Ok(self.store.get_or_init(|| opened))
    }

    /// Takes the alerts the store has that triage has not (the server does this every few
    /// seconds; tests and tools call it when they need it now).
    pub fn sync_alerts(&self) -> anyhow::Result<crate::state::alerts::Taken> {
        super::feed::sync(self)
    }

    /// The writer (for changes).
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A handler that panicked mid-transaction rolled it back; the state is still whole.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection to read with (returned to the pool when dropped).
    pub(crate) fn read(&self) -> Result<Reader<'_>, crate::state::StateError> {
        let kept = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match kept {
            Some(c) => c,
            None => self.lock().open_reader()?,
        };
        Ok(Reader { app: self, conn: Some(conn) })
    }

    /// Appends the entry of an action that changed nothing, and returns once it is committed
    /// (with the entries of the requests that came meanwhile: one transaction for them all).
    pub(crate) fn audit(&self, entry: audit::Entry<'_>) -> Result<(), crate::state::StateError> {
        let (done, committed) = std::sync::mpsc::channel();
        let job = AuditJob { entry: audit::OwnedEntry::of(&entry), done };
        let sent = self.audit_jobs.lock().unwrap_or_else(|p| p.into_inner()).send(job);
        let outcome = match sent {
            Ok(()) => committed.recv().unwrap_or_else(|_| Err("the audit writer stopped".into())),
            Err(_) => Err("the audit writer stopped".into()),
        };
        outcome.map_err(|message| crate::state::StateError::Invalid { field: "audit", message })
    }

    /// Something changed alerts: cached queues are stale.
    pub(crate) fn triage_changed(&self) {
        self.triage_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Appends the audit jobs as they come, all those waiting in one transaction.
fn audit_writer(app: std::sync::Weak<App>, jobs: std::sync::mpsc::Receiver<AuditJob>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < 1000 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let Some(app) = app.upgrade() else { return };
        let outcome = app
            .lock()
            .change(|tx| batch.iter().try_for_each(|job| audit::append(tx, job.entry.entry()).map(|_| ())))
            .map_err(|e| e.to_string());
        for job in batch {
            let _ = job.done.send(outcome.clone());
        }
    }
}

/// A read connection, back to the pool when dropped.
pub(crate) struct Reader<'a> {
    app: &'a App,
    conn: Option<rusqlite::Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        self.conn.as_ref().expect("held until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let mut pool = self.app.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS
            && let Some(conn) = self.conn.take()
        {
            pool.push(conn);
        }
    }
}

/// The peer's address, put on each connection's requests by the server.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

/// One route: method, path, the permission it needs.
#[derive(Debug)]
pub struct RouteSpec {
    pub verb: Verb,
    pub path: &'static str,
    pub permission: Permission,
}

const fn route(verb: Verb, path: &'static str, permission: Permission) -> RouteSpec {
    RouteSpec { verb, path, permission }
}

/// The console's routes. Add a route here, and its handler in [`handler`].
pub static ROUTES: &[RouteSpec] = &[
    route(Verb::Get, "/healthz", Permission::Public),
    route(Verb::Get, "/signin", Permission::Public),
    route(Verb::Post, "/signin", Permission::Public),
    route(Verb::Get, "/", Permission::SignedIn),
    route(Verb::Get, "/account", Permission::SignedIn),
    route(Verb::Post, "/account", Permission::SignedIn),
    route(Verb::Get, "/signout", Permission::SignedIn),
    route(Verb::Post, "/signout", Permission::SignedIn),
    route(Verb::Get, "/audit", Permission::ReadAudit),
    route(Verb::Get, "/audit.csv", Permission::ReadAudit),
    route(Verb::Get, "/api/v1/me", Permission::SignedIn),
    route(Verb::Get, "/api/v1/audit", Permission::ReadAudit),
    route(Verb::Get, "/api/v1/openapi.json", Permission::SignedIn),
    route(Verb::Get, "/api/v1/search", Permission::Search),
    route(Verb::Get, "/search", Permission::Search),
    route(Verb::Get, "/search.csv", Permission::Search),
    route(Verb::Get, "/search.ndjson", Permission::Search),
    route(Verb::Post, "/search/saved", Permission::Search),
    route(Verb::Post, "/search/saved/{id}/delete", Permission::Search),
    route(Verb::Get, "/api/v1/searches", Permission::Search),
    route(Verb::Post, "/api/v1/searches", Permission::Search),
    route(Verb::Post, "/api/v1/searches/{id}/delete", Permission::Search),
    route(Verb::Get, "/assets/console.css", Permission::Public),
    route(Verb::Get, "/assets/console.js", Permission::Public),
    route(Verb::Get, "/dashboard", Permission::ReadAlerts),
    route(Verb::Get, "/api/v1/dashboard", Permission::ReadAlerts),
    route(Verb::Get, "/alerts", Permission::ReadAlerts),
    route(Verb::Get, "/alerts/list", Permission::ReadAlerts),
    route(Verb::Get, "/alerts/{id}", Permission::ReadAlerts),
    route(Verb::Post, "/alerts/act", Permission::Triage),
    route(Verb::Post, "/alerts/{id}/packets", Permission::Triage),
    route(Verb::Get, "/alerts/{id}/packets/{request}", Permission::Triage),
    route(Verb::Get, "/suppressions", Permission::ReadAlerts),
    route(Verb::Post, "/suppressions", Permission::Triage),
    route(Verb::Post, "/suppressions/{id}/remove", Permission::Triage),
    route(Verb::Get, "/cases", Permission::ReadAlerts),
    route(Verb::Get, "/cases/{id}", Permission::ReadAlerts),
    route(Verb::Post, "/cases/{id}", Permission::Triage),
    route(Verb::Post, "/cases/{id}/incident", Permission::Triage),
    route(Verb::Post, "/cases/{id}/incident/update", Permission::Triage),
    route(Verb::Get, "/cases/{id}/incident.docx", Permission::ReadAlerts),
    route(Verb::Get, "/incidents", Permission::ReadAlerts),
    route(Verb::Get, "/sensors", Permission::ReadAlerts),
    route(Verb::Get, "/metrics", Permission::ReadAlerts),
    route(Verb::Get, "/api/v1/alerts/queue", Permission::ReadAlerts),
    route(Verb::Get, "/api/v1/alerts", Permission::ReadAlerts),
    route(Verb::Get, "/api/v1/alerts/{id}", Permission::ReadAlerts),
    route(Verb::Post, "/api/v1/alerts/act", Permission::Triage),
    route(Verb::Get, "/api/v1/suppressions", Permission::ReadAlerts),
    route(Verb::Post, "/api/v1/suppressions", Permission::Triage),
    route(Verb::Post, "/api/v1/suppressions/{id}/remove", Permission::Triage),
    route(Verb::Get, "/api/v1/cases", Permission::ReadAlerts),
    route(Verb::Get, "/api/v1/cases/{id}", Permission::ReadAlerts),
    route(Verb::Post, "/api/v1/cases/{id}", Permission::Triage),
    route(Verb::Get, "/systems", Permission::ReadCompliance),
    route(Verb::Post, "/systems", Permission::EditSystems),
    route(Verb::Get, "/systems/new", Permission::EditSystems),
    route(Verb::Post, "/systems/import", Permission::EditSystems),
    route(Verb::Get, "/systems/{id}", Permission::ReadCompliance),
    route(Verb::Post, "/systems/{id}", Permission::EditSystems),
    route(Verb::Get, "/systems/{id}/edit", Permission::EditSystems),
    route(Verb::Post, "/systems/{id}/risk", Permission::EditSystems),
    route(Verb::Get, "/systems/{id}/assessment", Permission::ReadCompliance),
    route(Verb::Post, "/systems/{id}/assessment", Permission::EditSystems),
    route(Verb::Post, "/systems/{id}/assessment/close", Permission::EditSystems),
    route(Verb::Post, "/systems/{id}/evidence", Permission::EditSystems),
    route(Verb::Get, "/evidence", Permission::ReadCompliance),
    route(Verb::Get, "/dossiers/{id}/documents/{file}", Permission::ReadCompliance),
    route(Verb::Get, "/province", Permission::ReadCompliance),
    route(Verb::Get, "/calendar", Permission::ReadCompliance),
    route(Verb::Post, "/calendar", Permission::Administer),
    route(Verb::Get, "/province/{file}", Permission::ReadCompliance),
    route(Verb::Get, "/evidence/{id}", Permission::ReadCompliance),
    route(Verb::Get, "/systems/{id}/classify", Permission::EditSystems),
    route(Verb::Post, "/systems/{id}/classify", Permission::EditSystems),
    route(Verb::Get, "/dossiers", Permission::ReadCompliance),
    route(Verb::Post, "/dossiers", Permission::ActOnDossiers),
    route(Verb::Get, "/dossiers/{id}", Permission::ReadCompliance),
    route(Verb::Post, "/dossiers/{id}/act", Permission::ActOnDossiers),
    route(Verb::Post, "/dossiers/{id}/attachments", Permission::ActOnDossiers),
    route(Verb::Get, "/api/v1/systems", Permission::ReadCompliance),
    route(Verb::Post, "/api/v1/systems", Permission::EditSystems),
    route(Verb::Get, "/api/v1/systems/{id}", Permission::ReadCompliance),
    route(Verb::Post, "/api/v1/systems/{id}/classify", Permission::EditSystems),
    route(Verb::Get, "/api/v1/dossiers", Permission::ReadCompliance),
    route(Verb::Post, "/api/v1/dossiers", Permission::ActOnDossiers),
    route(Verb::Get, "/api/v1/dossiers/{id}", Permission::ReadCompliance),
    route(Verb::Post, "/api/v1/dossiers/{id}/act", Permission::ActOnDossiers),
];

fn handler(spec: &RouteSpec) -> MethodRouter<Arc<App>> {
    match (spec.verb, spec.path) {
        (Verb::Get, "/healthz") => get(|| async { "ok" }),
        (Verb::Get, "/signin") => get(signin_page),
        (Verb::Post, "/signin") => post(signin_submit),
        (Verb::Get, "/") => get(home),
        (Verb::Get, "/account") => get(account_page),
        (Verb::Post, "/account") => post(account_submit),
        (Verb::Get, "/signout") => get(signout_page),
        (Verb::Post, "/signout") => post(signout),
        (Verb::Get, "/audit") => get(audit_page),
        (Verb::Get, "/audit.csv") => get(audit_csv),
        (Verb::Get, "/api/v1/me") => get(api_me),
        (Verb::Get, "/api/v1/audit") => get(api_audit),
        (Verb::Get, "/api/v1/openapi.json") => get(super::openapi::document),
        (Verb::Get, "/api/v1/search") => get(search::api_search),
        (Verb::Get, "/search") => get(search::search_page),
        (Verb::Get, "/search.csv") | (Verb::Get, "/search.ndjson") => get(search::export),
        (Verb::Post, "/search/saved") => post(search::save_form),
        (Verb::Post, "/search/saved/{id}/delete") => post(search::delete_form),
        (Verb::Get, "/api/v1/searches") => get(search::api_saved),
        (Verb::Post, "/api/v1/searches") => post(search::api_save),
        (Verb::Post, "/api/v1/searches/{id}/delete") => post(search::api_delete_saved),
        (Verb::Get, "/assets/console.css") => {
            get(|| async { asset("text/css", include_str!("../../assets/console.css")) })
        }
        (Verb::Get, "/assets/console.js") => {
            get(|| async { asset("text/javascript", include_str!("../../assets/console.js")) })
        }
        (Verb::Get, "/dashboard") => get(dashboard::dashboard_page),
        (Verb::Get, "/api/v1/dashboard") => get(dashboard::api_dashboard),
        (Verb::Get, "/alerts") => get(triage::pages::queue_page),
        (Verb::Get, "/alerts/list") => get(triage::pages::list_page),
        (Verb::Get, "/alerts/{id}") => get(triage::pages::alert_page),
        (Verb::Post, "/alerts/act") => post(triage::pages::act_form),
        (Verb::Post, "/alerts/{id}/packets") => post(triage::packets::request_form),
        (Verb::Get, "/alerts/{id}/packets/{request}") => get(triage::packets::download),
        (Verb::Get, "/suppressions") => get(triage::pages::suppressions_page),
        (Verb::Post, "/suppressions") => post(triage::pages::suppress_form),
        (Verb::Post, "/suppressions/{id}/remove") => post(triage::pages::unsuppress_form),
        (Verb::Get, "/cases") => get(triage::pages::cases_page),
        (Verb::Get, "/cases/{id}") => get(triage::pages::case_page),
        (Verb::Post, "/cases/{id}") => post(triage::pages::case_form),
        (Verb::Post, "/cases/{id}/incident") => post(compliance::incident::declare_form),
        (Verb::Post, "/cases/{id}/incident/update") => post(compliance::incident::update_form),
        (Verb::Get, "/cases/{id}/incident.docx") => get(compliance::incident::report_file),
        (Verb::Get, "/incidents") => get(compliance::incident::incidents_page),
        (Verb::Get, "/sensors") => get(super::sensors::sensors_page),
        (Verb::Get, "/metrics") => get(super::metrics::metrics),
        (Verb::Get, "/api/v1/alerts/queue") => get(triage::api::api_queue),
        (Verb::Get, "/api/v1/alerts") => get(triage::api::api_list),
        (Verb::Get, "/api/v1/alerts/{id}") => get(triage::api::api_alert),
        (Verb::Post, "/api/v1/alerts/act") => post(triage::api::api_act),
        (Verb::Get, "/api/v1/suppressions") => get(triage::api::api_suppressions),
        (Verb::Post, "/api/v1/suppressions") => post(triage::api::api_suppress),
        (Verb::Post, "/api/v1/suppressions/{id}/remove") => post(triage::api::api_unsuppress),
        (Verb::Get, "/api/v1/cases") => get(triage::api::api_cases),
        (Verb::Get, "/api/v1/cases/{id}") => get(triage::api::api_case),
        (Verb::Post, "/api/v1/cases/{id}") => post(triage::api::api_change_case),
        (Verb::Get, "/systems") => get(compliance::pages::systems_page),
        (Verb::Post, "/systems") => post(compliance::pages::create_system),
        (Verb::Get, "/systems/new") => get(compliance::pages::new_system_page),
        (Verb::Post, "/systems/import") => post(compliance::pages::import_form),
        (Verb::Get, "/systems/{id}") => get(compliance::pages::system_page),
        (Verb::Post, "/systems/{id}") => post(compliance::pages::update_system),
        (Verb::Get, "/systems/{id}/edit") => get(compliance::pages::edit_system_page),
        (Verb::Post, "/systems/{id}/risk") => post(compliance::pages::risk_form),
        (Verb::Get, "/systems/{id}/assessment") => get(compliance::pages::assessment_page),
        (Verb::Post, "/systems/{id}/assessment") => post(compliance::pages::assessment_form),
        (Verb::Post, "/systems/{id}/assessment/close") => post(compliance::pages::close_round_form),
        (Verb::Post, "/systems/{id}/evidence") => post(compliance::pages::evidence_form),
        (Verb::Get, "/evidence") => get(compliance::pages::expiring_page),
        (Verb::Get, "/dossiers/{id}/documents/{file}") => get(compliance::pages::dossier_document_file),
        (Verb::Get, "/province") => get(compliance::pages::province_page),
        (Verb::Get, "/calendar") => get(compliance::pages::calendar_page),
        (Verb::Post, "/calendar") => post(compliance::pages::calendar_form),
        (Verb::Get, "/province/{file}") => get(compliance::pages::annual_report_file),
        (Verb::Get, "/evidence/{id}") => get(compliance::pages::evidence_download),
        (Verb::Get, "/systems/{id}/classify") => get(compliance::pages::classify_page),
        (Verb::Post, "/systems/{id}/classify") => post(compliance::pages::classify_form),
        (Verb::Get, "/dossiers") => get(compliance::pages::dossiers_page),
        (Verb::Post, "/dossiers") => post(compliance::pages::open_dossier_form),
        (Verb::Get, "/dossiers/{id}") => get(compliance::pages::dossier_page),
        (Verb::Post, "/dossiers/{id}/act") => post(compliance::pages::act_form),
        (Verb::Post, "/dossiers/{id}/attachments") => post(compliance::pages::dossier_attach_form),
        (Verb::Get, "/api/v1/systems") => get(compliance::api::api_systems),
        (Verb::Post, "/api/v1/systems") => post(compliance::api::api_add_system),
        (Verb::Get, "/api/v1/systems/{id}") => get(compliance::api::api_system),
        (Verb::Post, "/api/v1/systems/{id}/classify") => post(compliance::api::api_classify),
        (Verb::Get, "/api/v1/dossiers") => get(compliance::api::api_dossiers),
        (Verb::Post, "/api/v1/dossiers") => post(compliance::api::api_open_dossier),
        (Verb::Get, "/api/v1/dossiers/{id}") => get(compliance::api::api_dossier),
        (Verb::Post, "/api/v1/dossiers/{id}/act") => post(compliance::api::api_act),
        (verb, path) => panic!("route {verb:?} {path} has no handler"),
    }
}

/// An embedded asset. Cached for a day: assets carry no data, and change only with the binary.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    res
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "canh_session";

/// The console's router, from [`ROUTES`], with the security headers on every response.
pub fn router(app: Arc<App>) -> Router {
    let mut r: Router<Arc<App>> = Router::new();
    for spec in ROUTES {
        let guarded = handler(spec).route_layer(middleware::from_fn_with_state((app.clone(), spec), guard));
        r = r.route(spec.path, guarded);
    }
    r.fallback(|Extension(lang): Extension<Lang>| async move {
        let t = Tr(lang);
        (StatusCode::NOT_FOUND, t.get("error-not-found"))
    })
    .layer(middleware::from_fn(language))
    .layer(middleware::map_response(security_headers))
    .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD))
    .with_state(app)
}

/// The name of the cookie that remembers the language chosen.
pub const LANG_COOKIE: &str = "canh_lang";

/// The page language: `?lang=` (then remembered in a cookie), else the cookie, else
/// Vietnamese.
async fn language(mut req: Request, next: Next) -> Response {
    let asked =
        req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang="))).and_then(Lang::parse);
    let lang =
        asked.or_else(|| cookie(req.headers(), LANG_COOKIE).as_deref().and_then(Lang::parse)).unwrap_or(Lang::Vi);
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(lang) = asked {
        let c = format!("{LANG_COOKIE}={}; Path=/; Secure; SameSite=Strict; Max-Age=31536000", lang.code());
        res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&c).expect("ascii"));
    }
    res
}

/// Headers every response carries: HTTPS only from now on, no framing, no sniffing, no
/// referrer outside the console, no caching of pages that show records, and a Content-Security-Policy that allows
/// scripts and styles from the console itself only (no inline script, no eval).
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    // Referrers to the console itself only. Not `no-referrer`: under it browsers send
    // `Origin: null` with a form's POST, and the origin check refuses the console's own forms.
    set(h, header::REFERRER_POLICY, "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A signed-in user, with their session's token and CSRF token.
    User { user: User, token: String, csrf: String },
    /// A script with an API token.
    Token(token::Principal),
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Self::User { user, .. } => user.role,
            Self::Token(t) => t.role,
        }
    }

    pub fn org(&self) -> &str {
        match self {
            Self::User { user, .. } => &user.org,
            Self::Token(t) => &t.org,
        }
    }

    /// Where the caller reads times: the user's chosen offset; Vietnam's for tokens.
    pub fn zone(&self) -> crate::when::Zone {
        match self {
            Self::User { user, .. } => crate::when::Zone::minutes(user.utc_offset),
            Self::Token(_) => crate::when::Zone::vietnam(),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Self::User { user, .. } => Actor { name: user.name.clone(), org: user.org.clone() },
            Self::Token(t) => t.actor(),
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn principal(app: &App, headers: &HeaderMap) -> Option<Principal> {
    if let Some(bearer) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        // A read first: the writer only to record a use after half a minute.
        let (principal, stale) = token::peek(&*app.read().ok()?, bearer.trim(), now()).ok()??;
        if !stale {
            return Some(Principal::Token(principal));
        }
        return token::check(app.lock().conn(), bearer.trim(), now()).ok().flatten().map(Principal::Token);
    }
    let token = cookie(headers, SESSION_COOKIE)?;
    let now = now();
    // A read first: the writer only when the session is to be touched or ended.
    if let session::Peeked::Live(user, csrf) = session::peek(&*app.read().ok()?, &app.policy, &token, now).ok()? {
        return Some(Principal::User { user, token, csrf });
    }
    let (user, csrf) = session::lookup(app.lock().conn(), &app.policy, &token, now).ok().flatten()?;
    Some(Principal::User { user, token, csrf })
}

/// Whether a state-changing request comes from the console's own pages: a browser sends
/// `Origin` with every POST, and it must be this host over HTTPS.
fn same_origin(req: &Request) -> bool {
    let headers = req.headers();
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Scripts (API tokens) send none; browsers always do on a POST.
        return true;
    };
    // HTTP/1.1 names the host in `Host`, HTTP/2 in the request's authority.
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    origin == format!("https://{host}")
}

async fn guard(
    AxState((app, spec)): AxState<(Arc<App>, &'static RouteSpec)>,
    mut req: Request,
    next: Next,
) -> Response {
    let is_api = spec.path.starts_with("/api/");
    let t = Tr(req.extensions().get::<Lang>().copied().unwrap_or(Lang::Vi));
    if spec.verb == Verb::Post && !same_origin(&req) {
        return (StatusCode::FORBIDDEN, t.get("error-cross-origin")).into_response();
    }
    let who = principal(&app, req.headers());
    if spec.permission == Permission::Public {
        if let Some(p) = who {
            req.extensions_mut().insert(p);
        }
        return next.run(req).await;
    }
    let Some(p) = who else {
        return if is_api {
            (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "sign in or give a token"}))).into_response()
        } else {
            Redirect::to("/signin").into_response()
        };
    };
    if !spec.permission.granted_to(p.role()) {
        let actor = p.actor();
        let _ = app.audit(
            audit::Entry::new(&actor, "route", spec.path, Outcome::Denied).detail(&format!("{:?}", spec.permission)),
        );
        return (StatusCode::FORBIDDEN, t.get("error-forbidden")).into_response();
    }
    if spec.verb == Verb::Post
        && let Principal::User { csrf, .. } = &p
    {
        // The CSRF token comes as a header (scripts in the page) or as the form's `csrf` field.
        let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(String::from);
        let (parts, body) = req.into_parts();
        // Files (a spreadsheet, an evidence document) come as multipart forms, and larger.
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let limit = if multipart { MAX_UPLOAD } else { 1 << 20 };
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, t.get("error-too-large")).into_response();
        };
        let field = if header_token.is_some() {
            header_token
        } else if multipart {
            let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
            multipart_field(probe, "csrf").await
        } else {
            let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
            Form::<HashMap<String, String>>::from_request(probe, &())
                .await
                .ok()
                .and_then(|Form(f)| f.get("csrf").cloned())
        };
        if field.as_deref() != Some(csrf.as_str()) {
            let actor = p.actor();
            let _ = app.audit(audit::Entry::new(&actor, "csrf", spec.path, Outcome::Denied));
            return (StatusCode::FORBIDDEN, t.get("error-csrf")).into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(p);
    next.run(req).await
}

/// The largest file a form may carry (32 MiB).
pub const MAX_UPLOAD: usize = 32 << 20;

/// A text field of a multipart form.
async fn multipart_field(req: Request, name: &str) -> Option<String> {
    let mut form = axum::extract::Multipart::from_request(req, &()).await.ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    t: Tr,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    t: Tr,
    name: &'a str,
    role: &'a str,
    org: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    entries: Vec<audit::Stored>,
}

pub(super) fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a page: {e}");
            internal_error(Lang::Vi)
        }
    }
}

pub(super) fn internal_error(lang: Lang) -> Response {
    let t = Tr(lang);
    (StatusCode::INTERNAL_SERVER_ERROR, t.get("error-internal")).into_response()
}

async fn signin_page(Extension(lang): Extension<Lang>) -> Response {
    page(&SigninPage { t: Tr(lang), error: None })
}

#[derive(serde::Deserialize)]
struct SigninForm {
    name: String,
    password: String,
    #[serde(default)]
    code: String,
}

async fn signin_submit(
    AxState(app): AxState<Arc<App>>,
    peer: Option<Extension<Peer>>,
    previous: Option<Extension<Principal>>,
    Extension(lang): Extension<Lang>,
    Form(form): Form<SigninForm>,
) -> Response {
    let t = Tr(lang);
    let address = peer.map(|Extension(Peer(a))| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let worker = app.clone();
    // argon2 is slow on purpose (19 MiB and two passes a check): off the async threads.
    let outcome = tokio::task::spawn_blocking(move || {
        let mut state = worker.lock();
        // A session the browser held before is ended: a sign-in always starts a new one.
        if let Some(Extension(Principal::User { token, .. })) = previous {
            let _ = session::end(&mut state, &token);
        }
        let code = (!form.code.trim().is_empty()).then_some(form.code.as_str());
        session::sign_in(&mut state, &worker.policy, form.name.trim(), &form.password, code, &address, now())
    })
    .await;
    match outcome {
        Ok(Ok(Ok(opened))) => {
            let cookie = format!("{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict", opened.token);
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex token"));
            res
        }
        Ok(Ok(Err(refusal))) => {
            let error = match refusal {
                Refusal::Locked { .. } => t.get("signin-locked"),
                _ => t.get("signin-refused"),
            };
            let mut res = page(&SigninPage { t, error: Some(error) });
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            res
        }
        Ok(Err(e)) => {
            tracing::error!("sign-in: {e}");
            internal_error(lang)
        }
        Err(e) => {
            tracing::error!("sign-in task: {e}");
            internal_error(lang)
        }
    }
}

async fn home(Extension(p): Extension<Principal>, Extension(lang): Extension<Lang>) -> Response {
    match &p {
        Principal::User { user, csrf, .. } => {
            page(&HomePage { t: Tr(lang), name: &user.name, role: user.role.as_str(), org: &user.org, csrf })
        }
        Principal::Token(_) => Redirect::to("/api/v1/me").into_response(),
    }
}

#[derive(Template)]
#[template(path = "signout.html")]
struct SignoutPage<'a> {
    t: Tr,
    name: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    t: Tr,
    name: &'a str,
    role: &'a str,
    org: &'a str,
    csrf: &'a str,
    /// Offset in minutes, its label, whether it is the user's.
    zones: Vec<(i32, String, bool)>,
}

/// The signed-in user's account: where their times are shown.
async fn account_page(Extension(p): Extension<Principal>, Extension(lang): Extension<Lang>) -> Response {
    let Principal::User { user, csrf, .. } = &p else { return Redirect::to("/api/v1/me").into_response() };
    let zones = crate::state::user::UTC_OFFSETS
        .iter()
        .map(|&m| {
            let mut label = crate::when::Zone::minutes(m).label();
            if m == crate::when::VIETNAM_MINUTES {
                label.push_str(" — Asia/Ho_Chi_Minh");
            }
            (m, label, m == user.utc_offset)
        })
        .collect();
    page(&AccountPage { t: Tr(lang), name: &user.name, role: user.role.as_str(), org: &user.org, csrf, zones })
}

#[derive(serde::Deserialize)]
struct AccountForm {
    utc_offset: i32,
}

async fn account_submit(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
    Form(form): Form<AccountForm>,
) -> Response {
    let Principal::User { user, .. } = &p else { return Redirect::to("/api/v1/me").into_response() };
    let (actor, name) = (p.actor(), user.name.clone());
    let worker = app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        worker.lock().change(|tx| crate::state::user::set_utc_offset(tx, &actor, &name, form.utc_offset))
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/account").into_response(),
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("{}: {e}", Tr(lang).get("error-invalid"))).into_response(),
        Err(_) => internal_error(lang),
    }
}

/// The sign-out form, linked from every page (a sign-out is a POST with the CSRF token).
async fn signout_page(Extension(p): Extension<Principal>, Extension(lang): Extension<Lang>) -> Response {
    match &p {
        Principal::User { user, csrf, .. } => page(&SignoutPage { t: Tr(lang), name: &user.name, csrf }),
        Principal::Token(_) => Redirect::to("/api/v1/me").into_response(),
    }
}

async fn signout(AxState(app): AxState<Arc<App>>, Extension(p): Extension<Principal>) -> Response {
    if let Principal::User { token, .. } = &p {
        let _ = session::end(&mut app.lock(), token);
    }
    let mut res = Redirect::to("/signin").into_response();
    let gone = format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&gone).expect("ascii"));
    res
}

/// The audit entries `p` may read, newest first: their organization's subtree, and the
/// command line's entries (no organization) only from the root of the tree. Reading them is
/// itself an entry (`action`).
fn visible_audit(
    app: &App,
    p: &Principal,
    action: &str,
    limit: usize,
) -> Result<Vec<audit::Stored>, crate::state::StateError> {
    app.audit(audit::Entry::done(&p.actor(), action, "recent"))?;
    let conn = app.read()?;
    let scope = crate::state::org::scope(&conn, p.org())?;
    let visible = |e: &audit::Stored| scope.as_ref().is_none_or(|codes| codes.contains(&e.org));
    Ok(audit::recent(&conn, limit)?.into_iter().filter(visible).collect())
}

/// The audit trail as CSV, for auditors' spreadsheets: text cells a spreadsheet would run as
/// a formula are neutralised.
async fn audit_csv(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    let entries = match visible_audit(&app, &p, "audit.export", 100_000) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("audit export: {e}");
            return internal_error(lang);
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let cell = |s: &str| crate::escape::spreadsheet_cell(s).into_owned();
    let _ = w.write_record(["seq", "ts", "actor", "org", "action", "target", "outcome", "detail", "hash"]);
    for e in &entries {
        let _ = w.write_record([
            e.seq.to_string(),
            e.ts.clone(),
            cell(&e.actor),
            cell(&e.org),
            cell(&e.action),
            cell(&e.target),
            cell(&e.outcome),
            cell(&e.detail),
            e.hash.clone(),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"canh-audit.csv\""));
    res
}

async fn audit_page(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    Extension(lang): Extension<Lang>,
) -> Response {
    match visible_audit(&app, &p, "audit.view", 200) {
        Ok(entries) => page(&AuditPage { t: Tr(lang), entries }),
        Err(e) => {
            tracing::error!("audit: {e}");
            internal_error(lang)
        }
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditParams {
    /// Newest entries to return, 1 to 100000 (200).
    limit: Option<usize>,
}

/// The audit trail's newest entries within the caller's organizations (the command line's
/// only for the root), newest first; reading it is itself an entry.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, description = "Entries, newest first, each with its hash and the hash before it", body = Vec<audit::Stored>)))]
pub(super) async fn api_audit(
    AxState(app): AxState<Arc<App>>,
    Extension(p): Extension<Principal>,
    axum::extract::Query(params): axum::extract::Query<AuditParams>,
) -> Response {
    let limit = params.limit.unwrap_or(200).clamp(1, 100_000);
    let worker = app.clone();
    match tokio::task::spawn_blocking(move || visible_audit(&worker, &p, "audit.view", limit)).await {
        Ok(Ok(entries)) => Json(entries).into_response(),
        Ok(Err(e)) => {
            tracing::error!("audit: {e}");
            internal_error(Lang::En)
        }
        Err(e) => {
            tracing::error!("audit: {e}");
            internal_error(Lang::En)
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, description = "Who is asking: a user or a token, its role and organization", body = super::openapi::MeAnswer)))]
pub(super) async fn api_me(Extension(p): Extension<Principal>) -> Json<serde_json::Value> {
    let (name, kind) = match &p {
        Principal::User { user, .. } => (user.name.clone(), "user"),
        Principal::Token(t) => (t.actor().name, "token"),
    };
    Json(serde_json::json!({"name": name, "kind": kind, "role": p.role().as_str(), "org": p.org()}))
}
