//! Alert triage through the API and the pages: alerts written to the event store reach the
//! queue, every read and action stays within the caller's organizations (an alert of another
//! agency is not found, by id or by filter), actions on one alert or on a filter, cases with
//! their timeline, suppressions applied to new alerts, triage state across a restart, and
//! attacker-written alert text shown as text.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use canh_analyzer::store::Store;
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use canh_console::server::routes::{self, App, SESSION_COOKIE};
use canh_console::state::session::{self, Policy};
use canh_console::state::user::Role;
use canh_console::state::{Actor, State, audit, org, user};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const PASSWORD: &str = "Canh@2026test";
const SCANNER: &str = "65a212ca-f87c-5777-811f-708540b9aea0";
const DDNS: &str = "1d9d897b-8ff6-5e38-8ec2-c4c5d393506c";

/// A province with two departments; an analyst in each, the province SOC's analyst, an auditor
/// of department A.
fn setup(dir: &Path) -> Arc<App> {
    let mut s = State::open(dir).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    s.change(|tx| {
        org::add(tx, &a, "tinh", "UBND tỉnh", None)?;
        org::add(tx, &a, "so-a", "Sở A", Some("tinh"))?;
        org::add(tx, &a, "so-b", "Sở B", Some("tinh"))?;
        user::add(tx, &a, "an", Role::Analyst, "so-a", PASSWORD)?;
        user::add(tx, &a, "binh", Role::Analyst, "so-b", PASSWORD)?;
        user::add(tx, &a, "soc", Role::Analyst, "tinh", PASSWORD)?;
        user::add(tx, &a, "kiem", Role::Auditor, "so-a", PASSWORD)?;
        Ok(())
    })
    .unwrap();
    App::new(s, Policy::default())
}

/// An alert as the analyzer writes it (the fields of `canh_analyzer::alert::Alert`).
fn alert(id: &str, rule: &str, title: &str, org: &str, src: &str, evidence: &str, ts: f64) -> Value {
    json!({
        "id": id, "ts": ts, "_type": "alert", "engine": "sigma", "rule_id": rule, "title": title,
        "severity": "high", "tags": ["attack.t1595"], "_sensor": "s1", "_org": org,
        "uids": [format!("C{id}")], "community_id": format!("1:{id}="),
        "id.orig_h": src, "id.orig_p": 40000, "id.resp_h": "10.10.1.20", "id.resp_p": 80,
        "evidence": evidence,
    })
}

fn write(dir: &Path, lines: &[Value]) {
    let store = Store::open(dir).unwrap();
    let mut w = StoreWriter::new(&store, CommitPolicy { records: 1000, interval: std::time::Duration::from_secs(60) });
    for l in lines {
        w.add_line(&l.to_string()).unwrap();
    }
    w.commit().unwrap();
}

fn now() -> f64 {
    canh_console::state::now_unix() as f64
}

/// Five scanner alerts and a DDNS one in department A, two scanner alerts in B.
fn alerts_of_two_agencies(dir: &Path) {
    let t = now() - 600.0;
    let mut lines = Vec::new();
    for i in 0..5 {
        lines.push(alert(
            &format!("a{i}"),
            SCANNER,
            "Web vulnerability scanner",
            "so-a",
            "203.0.113.66",
            "GET /cgi-bin/test.cgi",
            t + i as f64,
        ));
    }
    lines.push(alert(
        "a5",
        DDNS,
        "DNS query for a dynamic-DNS provider",
        "so-a",
        "10.10.2.45",
        "A x.duckdns.org",
        t + 9.0,
    ));
    for i in 0..2 {
        lines.push(alert(
            &format!("b{i}"),
            SCANNER,
            "Web vulnerability scanner",
            "so-b",
            "198.51.100.7",
            "GET /admin",
            t + i as f64,
        ));
    }
    write(dir, &lines);
}

fn sign_in(app: &App, name: &str) -> (String, String) {
    let mut state = app.state.lock().unwrap();
    let opened = session::sign_in(
        &mut state,
        &Policy::default(),
        name,
        PASSWORD,
        None,
        "10.0.0.1",
        canh_console::state::now_unix(),
    )
    .unwrap()
    .unwrap();
    (opened.token, opened.csrf)
}

struct Client {
    router: axum::Router,
    token: String,
    csrf: String,
}

impl Client {
    fn new(app: &Arc<App>, name: &str) -> Self {
        let (token, csrf) = sign_in(app, name);
        Self { router: routes::router(app.clone()), token, csrf }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, String) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .uri(uri)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", self.token))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    async fn json(&self, uri: &str) -> Value {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn post_json(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        let req = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::HOST, "console.test")
            .header(header::ORIGIN, "https://console.test")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", self.token))
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, text) = self.send(req).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post_form(&self, uri: &str, form: &str) -> StatusCode {
        let req = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::HOST, "console.test")
            .header(header::ORIGIN, "https://console.test")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", self.token))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={}&{form}", self.csrf)))
            .unwrap();
        self.send(req).await.0
    }
}

fn statuses(list: &Value) -> Vec<(String, String)> {
    list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_string(), a["status"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn the_queue_groups_alerts_and_keeps_each_agency_to_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    alerts_of_two_agencies(dir.path());
    let taken = app.sync_alerts().unwrap();
    assert_eq!((taken.added, taken.known), (8, 0));
    // Polling again finds nothing new.
    assert_eq!(app.sync_alerts().unwrap().added, 0);

    let an = Client::new(&app, "an");
    let queue = an.json("/api/v1/alerts/queue").await;
    let groups = queue["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{queue}");
    let scanner = groups.iter().find(|g| g["rule_id"] == SCANNER).unwrap();
    assert_eq!((scanner["count"].as_i64(), scanner["new"].as_i64()), (Some(5), Some(5)));
    assert_eq!(scanner["src"], "203.0.113.66");
    assert!(scanner["first"].as_i64() < scanner["last"].as_i64());

    // The province SOC sees both agencies; grouped by destination on request.
    let soc = Client::new(&app, "soc");
    let all = soc.json("/api/v1/alerts/queue?by=dst").await;
    assert_eq!(all["groups"].as_array().unwrap().len(), 3);
    assert!(all["groups"][0]["dst"].is_string());

    // Another agency's alert is not found, by id, by filter or by action.
    let (status, _) = an.get("/api/v1/alerts/b0").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = an.get("/alerts/b0").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(an.json("/api/v1/alerts?org=so-b").await["total"], 0);
    let (status, _) = an.post_json("/api/v1/alerts/act", json!({"ids": ["a0", "b0"], "action": "acknowledge"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing was half done.
    assert!(statuses(&an.json("/api/v1/alerts").await).iter().all(|(_, s)| s == "new"));
    let (status, closed) = an
        .post_json(
            "/api/v1/alerts/act",
            json!({"filter": {"rule_id": SCANNER}, "action": "close", "verdict": "true_positive"}),
        )
        .await;
    assert_eq!((status, closed["alerts"].as_i64()), (StatusCode::OK, Some(5)), "{closed}");
    let b = Client::new(&app, "binh");
    assert!(statuses(&b.json("/api/v1/alerts").await).iter().all(|(_, s)| s == "new"));

    // The auditor reads, and may not act.
    let kiem = Client::new(&app, "kiem");
    assert_eq!(kiem.json("/api/v1/alerts?status=all").await["total"], 6);
    let (status, _) = kiem.post_json("/api/v1/alerts/act", json!({"ids": ["a5"], "action": "acknowledge"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The refused look at another agency's alert is in the audit trail.
    let state = app.state.lock().unwrap();
    let entries = audit::recent(state.conn(), 1000).unwrap();
    assert!(entries.iter().any(|e| e.action == "alert.view" && e.target == "b0" && e.outcome == "denied"));
    assert!(entries.iter().any(|e| e.action == "alert.close" && e.detail.starts_with("5 alerts")));
}

#[tokio::test]
async fn actions_on_one_alert_and_on_every_alert_a_filter_matches() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    alerts_of_two_agencies(dir.path());
    app.sync_alerts().unwrap();
    let an = Client::new(&app, "an");

    // From the pages: acknowledge one, assign it, then close the rest of the group by filter.
    assert_eq!(
        an.post_form("/alerts/act", "ids=a0&target=ids&action=acknowledge&back=/alerts/a0").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        an.post_form("/alerts/act", "ids=a0&ids=a1&target=ids&action=assign&assignee=soc").await,
        StatusCode::NOT_FOUND
    );
    // `soc` sits above so-a: not someone an analyst of so-a may hand work to.
    assert_eq!(
        an.post_form("/alerts/act", "ids=a0&ids=a1&target=ids&action=assign&assignee=an").await,
        StatusCode::SEE_OTHER
    );
    let form = format!(
        "target=matching&f.rule_id={SCANNER}&f.src=203.0.113.66&f.status=new&action=close&verdict=false_positive&comment=lab+scanner"
    );
    assert_eq!(an.post_form("/alerts/act", &form).await, StatusCode::SEE_OTHER);
    let list = an.json(&format!("/api/v1/alerts?status=all&rule_id={SCANNER}")).await;
    let by_id: std::collections::HashMap<_, _> = statuses(&list).into_iter().collect();
    assert_eq!(by_id["a0"], "acknowledged");
    assert!(["a1", "a2", "a3", "a4"].iter().all(|id| by_id[*id] == "closed"), "{by_id:?}");
    // The history of one alert tells what happened to it, and who did it.
    let detail = an.json("/api/v1/alerts/a1").await;
    let history: Vec<_> = detail["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(history, ["assign", "close"]);
    assert_eq!(detail["history"][1]["detail"], "false_positive: lab scanner");
    assert_eq!(detail["alert"]["verdict"], "false_positive");
    assert_eq!(detail["alert"]["assignee"], "an");
    // Closed alerts leave the open queue; reopening brings one back.
    assert_eq!(an.json("/api/v1/alerts").await["total"], 2);
    let (status, _) = an.post_json("/api/v1/alerts/act", json!({"ids": ["a1"], "action": "reopen"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(an.json("/api/v1/alerts").await["total"], 3);
    // A bad request names its field.
    let (status, body) =
        an.post_json("/api/v1/alerts/act", json!({"ids": ["a1"], "action": "close", "verdict": "maybe"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("verdict"), "{body}");
    // A filter that does not parse changes nothing.
    let (status, body) =
        an.post_json("/api/v1/alerts/act", json!({"filter": {"since": "yesterday"}, "action": "acknowledge"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn escalation_opens_a_case_with_a_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    alerts_of_two_agencies(dir.path());
    app.sync_alerts().unwrap();
    let an = Client::new(&app, "an");
    let (status, acted) = an
        .post_json("/api/v1/alerts/act", json!({"ids": ["a0", "a5"], "action": "escalate", "title": "Scan then C2 from the same LAN", "comment": "look at 10.10.2.45"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{acted}");
    let case = acted["case_id"].as_i64().unwrap();
    // More alerts join the open case.
    let (status, _) =
        an.post_json("/api/v1/alerts/act", json!({"ids": ["a1"], "action": "escalate", "case": case})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(an.post_form(&format!("/cases/{case}"), "note=Blocked+at+the+firewall").await, StatusCode::SEE_OTHER);
    assert_eq!(an.post_form(&format!("/cases/{case}"), "assignee=an").await, StatusCode::SEE_OTHER);
    assert_eq!(an.post_form(&format!("/cases/{case}"), "status=in_progress").await, StatusCode::SEE_OTHER);
    let detail = an.json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(detail["case"]["org"], "so-a");
    assert_eq!(detail["case"]["status"], "in_progress");
    assert_eq!(detail["case"]["assignee"], "an");
    assert_eq!(detail["alerts"].as_array().unwrap().len(), 3);
    let kinds: Vec<_> = detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "alerts", "alerts", "note", "assigned", "status"]);
    assert!(detail["timeline"].as_array().unwrap().iter().all(|e| e["actor"] == "an"));
    // Department B's analyst cannot see or touch it.
    let b = Client::new(&app, "binh");
    assert_eq!(b.get(&format!("/api/v1/cases/{case}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(b.post_form(&format!("/cases/{case}"), "note=mine").await, StatusCode::NOT_FOUND);
    assert_eq!(b.json("/api/v1/cases").await["cases"].as_array().unwrap().len(), 0);
    // The case page lists it all, in Vietnamese.
    let (status, html) = an.get(&format!("/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Scan then C2 from the same LAN")
            && html.contains("Diễn biến")
            && html.contains("Blocked at the firewall")
    );
}

#[tokio::test]
async fn suppressions_catch_new_alerts_until_removed() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    alerts_of_two_agencies(dir.path());
    app.sync_alerts().unwrap();
    let an = Client::new(&app, "an");
    let (status, made) = an
        .post_json(
            "/api/v1/suppressions",
            json!({"rule_id": SCANNER, "src": "203.0.113.66", "reason": "the province's own scanner", "days": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    // Without a reason, or for a whole rule, no.
    let (status, _) =
        an.post_json("/api/v1/suppressions", json!({"rule_id": SCANNER, "src": "203.0.113.66", "days": 7})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        an.post_json("/api/v1/suppressions", json!({"rule_id": SCANNER, "reason": "noise", "days": 7})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // New alerts arrive while the server runs: the suppressed source's are kept, as suppressed;
    // another source, and the same source in another agency, are not caught.
    let t = now();
    write(
        dir.path(),
        &[
            alert("n0", SCANNER, "Web vulnerability scanner", "so-a", "203.0.113.66", "GET /", t),
            alert("n1", SCANNER, "Web vulnerability scanner", "so-a", "203.0.113.99", "GET /", t),
            alert("n2", SCANNER, "Web vulnerability scanner", "so-b", "203.0.113.66", "GET /", t),
        ],
    );
    let taken = app.sync_alerts().unwrap();
    assert_eq!((taken.added, taken.suppressed), (3, 1));
    let soc = Client::new(&app, "soc");
    let status_of = |list: &Value, id: &str| statuses(list).into_iter().find(|(i, _)| i == id).unwrap().1;
    let list = soc.json("/api/v1/alerts?status=all").await;
    assert_eq!(
        (status_of(&list, "n0").as_str(), status_of(&list, "n1").as_str(), status_of(&list, "n2").as_str()),
        ("suppressed", "new", "new")
    );
    assert_eq!(an.json("/api/v1/alerts/n0").await["alert"]["suppression"], id);

    // Listed for the agency; not for the other one; removed, it catches nothing more.
    assert_eq!(an.json("/api/v1/suppressions").await["suppressions"].as_array().unwrap().len(), 1);
    let b = Client::new(&app, "binh");
    assert_eq!(b.json("/api/v1/suppressions").await["suppressions"].as_array().unwrap().len(), 0);
    assert_eq!(b.post_json(&format!("/api/v1/suppressions/{id}/remove"), json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(an.post_form(&format!("/suppressions/{id}/remove"), "").await, StatusCode::SEE_OTHER);
    write(dir.path(), &[alert("n3", SCANNER, "Web vulnerability scanner", "so-a", "203.0.113.66", "GET /", t + 1.0)]);
    assert_eq!(app.sync_alerts().unwrap().suppressed, 0);
    let (_, page) = an.get("/suppressions").await;
    assert!(
        page.contains("the province&#39;s own scanner") || page.contains("the province&#x27;s own scanner"),
        "{page}"
    );
}

#[tokio::test]
async fn triage_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = setup(dir.path());
        alerts_of_two_agencies(dir.path());
        app.sync_alerts().unwrap();
        let an = Client::new(&app, "an");
        let (status, _) =
            an.post_json("/api/v1/alerts/act", json!({"ids": ["a2"], "action": "close", "verdict": "benign"})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let app = App::new(State::open(dir.path()).unwrap(), Policy::default());
    // The store is read again from the start: nothing is taken twice.
    let taken = app.sync_alerts().unwrap();
    assert_eq!((taken.added, taken.known), (0, 0));
    let an = Client::new(&app, "an");
    let detail = an.json("/api/v1/alerts/a2").await;
    assert_eq!(
        (detail["alert"]["status"].as_str(), detail["alert"]["verdict"].as_str()),
        (Some("closed"), Some("benign"))
    );
    assert!(audit::verify(app.state.lock().unwrap().conn(), dir.path(), None).unwrap().holds());
}

#[tokio::test]
async fn attacker_written_alert_text_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    let payloads = [
        "<script>window.__pwned=1</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "{{7*7}} {% raw %}",
    ];
    let lines: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| alert(&format!("x{i}"), &format!("rule-{p}"), p, "so-a", "10.10.2.9", p, now() - i as f64))
        .collect();
    write(dir.path(), &lines);
    assert_eq!(app.sync_alerts().unwrap().added, 4);
    let an = Client::new(&app, "an");
    let mut pages = vec!["/alerts".to_string(), "/alerts/list".to_string()];
    pages.extend((0..4).map(|i| format!("/alerts/x{i}")));
    for uri in &pages {
        let (status, html) = an.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        for p in ["<script>window", "<img src=x", "\"><img"] {
            assert!(!html.contains(p), "{uri} shows {p} unescaped");
        }
        // Every link the page makes is the console's own.
        for href in html.split("href=\"").skip(1).filter_map(|h| h.split('"').next()) {
            assert!(href.starts_with('/') || href.starts_with('?'), "{uri}: link {href}");
        }
    }
    let (_, html) = an.get("/alerts/x0").await;
    assert!(html.contains("&#60;script&#62;window.__pwned=1&#60;/script&#62;"), "shown as text");
}

#[tokio::test]
async fn the_dashboard_counts_within_the_callers_organizations() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    alerts_of_two_agencies(dir.path());
    app.sync_alerts().unwrap();
    let an = Client::new(&app, "an");
    let d = an.json("/api/v1/dashboard?since=24h").await;
    let total: i64 = d["alerts"]["over_time"].as_array().unwrap().iter().map(|b| b[1].as_i64().unwrap()).sum();
    assert_eq!(total, 6, "department A's six alerts: {d}");
    assert_eq!(d["alerts"]["rules"][0][0], SCANNER);
    assert_eq!(d["alerts"]["rules"][0][2], 5);
    assert_eq!(d["alerts"]["sources"][0], json!(["203.0.113.66", 5]));
    assert_eq!(d["records_by_org"], json!([["so-a", 6]]));
    let soc = Client::new(&app, "soc");
    let d = soc.json("/api/v1/dashboard?since=24h").await;
    assert_eq!(d["records_by_type"], json!([["alert", 8]]));
    let (status, html) = soc.get("/dashboard?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Top rules") && html.contains("<rect"), "{html}");
    let (status, _) = an.get("/api/v1/dashboard?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn times_are_shown_and_read_in_the_users_zone() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    // 2027-01-15 08:00:00 UTC: 15:00 in Vietnam.
    write(
        dir.path(),
        &[alert("z0", DDNS, "DNS query for a dynamic-DNS provider", "so-a", "10.10.2.45", "A x", 1_800_000_000.0)],
    );
    app.sync_alerts().unwrap();
    let an = Client::new(&app, "an");
    let (_, html) = an.get("/alerts/list?status=all").await;
    assert!(html.contains("2027-01-15 15:00:00"), "Vietnam's time by default");
    // A local time typed in a filter is Vietnam's too.
    assert_eq!(an.json("/api/v1/alerts?status=all&since=2027-01-15+14:30").await["total"], 1);
    assert_eq!(an.post_form("/account", "utc_offset=0").await, StatusCode::SEE_OTHER);
    let (_, html) = an.get("/alerts/list?status=all").await;
    assert!(html.contains("2027-01-15 08:00:00") && !html.contains("2027-01-15 15:00:00"), "UTC once chosen");
    assert_eq!(an.json("/api/v1/alerts?status=all&since=2027-01-15+14:30").await["total"], 0);
    assert_eq!(an.json("/api/v1/alerts?status=all&since=2027-01-15+07:30").await["total"], 1);
    let (_, account) = an.get("/account").await;
    assert!(account.contains("<option value=\"0\" selected>UTC+00:00</option>"), "{account}");
    // Only offsets of real zones.
    assert_eq!(an.post_form("/account", "utc_offset=17").await, StatusCode::BAD_REQUEST);
}
