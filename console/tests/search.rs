//! The search page and its exports: results within the caller's organizations, a query error
//! shown at its place, every field one click from a narrower query, CSV and NDJSON exports
//! streamed page by page (every match, not one page), saved searches per user.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use canh_analyzer::store::Store;
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use canh_console::server::routes::{self, App, SESSION_COOKIE};
use canh_console::state::session::{self, Policy};
use canh_console::state::user::Role;
use canh_console::state::{Actor, State, audit, org, user};
use tower::ServiceExt as _;

const PASSWORD: &str = "Canh@2026test";

fn setup(dir: &std::path::Path) -> Arc<App> {
    let mut s = State::open(dir).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    s.change(|tx| {
        org::add(tx, &a, "tinh", "UBND tỉnh", None)?;
        org::add(tx, &a, "so-a", "Sở A", Some("tinh"))?;
        org::add(tx, &a, "so-b", "Sở B", Some("tinh"))?;
        user::add(tx, &a, "kiem", Role::Auditor, "so-a", PASSWORD)?;
        user::add(tx, &a, "lan", Role::Auditor, "so-b", PASSWORD)?;
        Ok(())
    })
    .unwrap();
    // 2,500 HTTP records in so-a (more than two export pages), 10 in so-b; one with markup.
    let store = Store::open(dir).unwrap();
    let mut w =
        StoreWriter::new(&store, CommitPolicy { records: 10_000, interval: std::time::Duration::from_secs(60) });
    let now = canh_console::state::now_unix() as f64;
    for i in 0..2510 {
        let org = if i < 2500 { "so-a" } else { "so-b" };
        let uri = if i == 7 { "=cmd|' /C calc'!A0<script>x</script>".to_string() } else { format!("/qlvb/doc/{i}") };
        let line = serde_json::json!({
            "ts": now - 60.0 - i as f64 * 0.01, "_type": "http", "_org": org, "_sensor": "s1", "uid": format!("C{i}"),
            "id.orig_h": "10.10.2.17", "id.orig_p": 40000 + i % 1000, "id.resp_h": "10.10.1.20", "id.resp_p": 80,
            "method": if i % 2 == 0 { "GET" } else { "POST" }, "host": "qlvb.tinh.gov.vn", "uri": uri,
        });
        w.add_line(&line.to_string()).unwrap();
    }
    w.commit().unwrap();
    App::new(s, Policy::default())
}

async fn get(app: &Arc<App>, token: &str, uri: &str) -> (StatusCode, String, String) {
    let req = Request::builder()
        .uri(uri)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::empty())
        .unwrap();
    let res = routes::router(app.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 26).await.unwrap();
    (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
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

#[tokio::test]
async fn the_search_page_shows_results_errors_and_narrowing_links() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    let (token, _) = sign_in(&app, "kiem");
    let (status, _, html) = get(&app, &token, "/search?q=method%3APOST&agg=_org&lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<strong>1250</strong> records found"), "only so-a's POSTs");
    assert!(html.contains("<rect"), "a histogram");
    // Top values of `_org`: so-a alone.
    assert!(html.contains(">so-a</a></td><td>1250</td>"), "{html}");
    // A value narrows the query.
    assert!(html.contains("/search?q=%28method%3APOST%29+AND+host%3A%22qlvb.tinh.gov.vn%22"), "narrowing link");
    // Markup from the network is text.
    let (_, _, html) = get(&app, &token, "/search?q=uri%3A*calc*").await;
    assert!(html.contains("&#60;script&#62;x&#60;/script&#62;") && !html.contains("<script>x"));
    // A query that does not parse: a 400, the message, and the caret under its place.
    let (status, _, html) = get(&app, &token, "/search?q=id.resp_p%3A%5B1+TO&lang=en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("<pre class=\"error\">id.resp_p:[1 TO\n"), "{html}");
    let (status, _, body) = get(&app, &token, "/api/v1/search?q=nosuchfield%3Ax").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["position"], 0, "{body}");
}

#[tokio::test]
async fn exports_stream_every_match_safe_for_spreadsheets() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    let (token, _) = sign_in(&app, "kiem");
    let (status, kind, csv) = get(&app, &token, "/search.csv?q=_type%3Ahttp").await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2500, "every match of so-a, over three pages");
    let uri = reader.headers().unwrap().iter().position(|h| h == "uri").unwrap();
    let hostile = rows.iter().find(|r| r[uri].contains("calc")).unwrap();
    assert!(hostile[uri].starts_with('\''), "a formula is neutralised: {}", &hostile[uri]);
    let (status, kind, ndjson) = get(&app, &token, "/search.ndjson?q=*").await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/x-ndjson"));
    assert_eq!(ndjson.lines().count(), 2500);
    assert!(ndjson.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["_org"] == "so-a"));
    // The other agency's auditor exports theirs only.
    let (other, _) = sign_in(&app, "lan");
    assert_eq!(get(&app, &other, "/search.ndjson?q=*").await.2.lines().count(), 10);
    let state = app.state.lock().unwrap();
    let exports =
        audit::recent(state.conn(), 100).unwrap().into_iter().filter(|e| e.action.starts_with("search.export")).count();
    assert_eq!(exports, 3);
}

#[tokio::test]
async fn searches_are_saved_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    let (token, csrf) = sign_in(&app, "kiem");
    let post = |path: &str, body: String| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, "console.test")
            .header(header::ORIGIN, "https://console.test")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let res = routes::router(app.clone())
        .oneshot(post("/search/saved", format!("csrf={csrf}&name=POST+to+QLVB&q=method%3APOST&since=7d")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, _, html) = get(&app, &token, "/search").await;
    assert!(html.contains(">POST to QLVB</a>") && html.contains("q=method%3APOST&amp;since=7d"), "{html}");
    // Another user does not see it.
    let (other, _) = sign_in(&app, "lan");
    assert!(!get(&app, &other, "/search").await.2.contains("POST to QLVB"));
    let res =
        routes::router(app.clone()).oneshot(post("/search/saved/1/delete", format!("csrf={csrf}"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!get(&app, &token, "/search").await.2.contains("POST to QLVB"));
    // The same through the API.
    let json = |path: &str, body: serde_json::Value| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, "console.test")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
            .header("x-csrf-token", &csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let body = serde_json::json!({"name": "DNS", "q": "_type:dns", "since": "24h"});
    let res = routes::router(app.clone()).oneshot(json("/api/v1/searches", body)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, _, list) = get(&app, &token, "/api/v1/searches").await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["name"], "DNS");
    assert_eq!(get(&app, &other, "/api/v1/searches").await.2, "[]");
    let id = list[0]["id"].as_i64().unwrap();
    let delete = format!("/api/v1/searches/{id}/delete");
    let res = routes::router(app.clone()).oneshot(json(&delete, serde_json::json!({}))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = routes::router(app.clone()).oneshot(json(&delete, serde_json::json!({}))).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Searches at once: each is audited (the audit writer appends concurrent entries together),
/// and the chain still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_searches_are_each_audited() {
    let dir = tempfile::tempdir().unwrap();
    let app = setup(dir.path());
    let (token, _) = sign_in(&app, "kiem");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move { get(&app, &token, &format!("/api/v1/search?q=uid%3AC{i}")).await.0 }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let state = app.state.lock().unwrap();
    let searches = audit::recent(state.conn(), 1000).unwrap().into_iter().filter(|e| e.action == "search").count();
    assert_eq!(searches, 40);
    assert!(audit::verify(state.conn(), dir.path(), None).unwrap().holds());
}
