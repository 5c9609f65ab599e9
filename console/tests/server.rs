//! The console server: every route against every role (the router is built from the route
//! table, so a route cannot escape this test), CSRF and origin checks, API tokens, and the
//! real thing over TLS with a self-signed certificate, security headers and graceful shutdown.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use canh_console::server::permission::Permission;
use canh_console::server::routes::{self, App, ROUTES, SESSION_COOKIE, Verb};
use canh_console::state::session::{self, Policy};
use canh_console::state::user::Role;
use canh_console::state::{Actor, State, audit, org, token, totp, user};
use tower::ServiceExt as _;

const PASSWORD: &str = "Canh@2026test";

/// A province and one user per role, named by the role; the admin has a second factor.
fn setup(dir: &Path) -> (Arc<App>, String) {
    let mut s = State::open(dir).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    s.change(|tx| {
        org::add(tx, &a, "tinh", "UBND tỉnh", None)?;
        org::add(tx, &a, "so-a", "Sở A", Some("tinh"))?;
        for role in Role::ALL {
            user::add(tx, &a, role.as_str(), role, "so-a", PASSWORD)?;
        }
        Ok(())
    })
    .unwrap();
    let (secret, _) = s.change(|tx| totp::enroll(tx, &a, "admin", "Canh")).unwrap();
    (App::new(s, Policy::default()), secret)
}

/// Signs `role`'s user in; the k-th sign-in happens k TOTP steps from now, so that each
/// admin code is new.
fn sign_in(app: &App, secret: &str, role: Role, k: i64) -> (String, String) {
    let t = canh_console::state::now_unix() + 30 * k;
    let code = (role == Role::Admin).then(|| totp::of(secret).unwrap().generate(t as u64).to_string());
    let mut state = app.state.lock().unwrap();
    let opened =
        session::sign_in(&mut state, &Policy::default(), role.as_str(), PASSWORD, code.as_deref(), "10.0.0.1", t)
            .unwrap()
            .unwrap_or_else(|r| panic!("{role:?}: {r:?}"));
    (opened.token, opened.csrf)
}

fn request(verb: Verb, path: &str, session: Option<(&str, &str)>) -> Request<Body> {
    // A route's parameters get a value (no alert, case or suppression 1 exists: a granted role
    // gets a 404, a refused one a 403 before any lookup).
    let path = &path.replace("{id}", "1");
    let mut b = Request::builder()
        .method(if verb == Verb::Get { "GET" } else { "POST" })
        .uri(path)
        .header(header::HOST, "console.test");
    let mut body = String::new();
    if let Some((token, csrf)) = session {
        b = b.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
        body = format!("csrf={csrf}");
    }
    if verb == Verb::Post {
        b = b
            .header(header::ORIGIN, "https://console.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if path == "/signin" {
            body = format!("name=analyst&password={}", PASSWORD.replace('@', "%40"));
        }
    }
    b.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn every_route_for_every_role_and_for_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    let router = routes::router(app.clone());
    let mut k = 0;
    for spec in ROUTES {
        for role in Role::ALL {
            k += 1;
            let (token, csrf) = sign_in(&app, &secret, role, k);
            let res = router.clone().oneshot(request(spec.verb, spec.path, Some((&token, &csrf)))).await.unwrap();
            let status = res.status();
            let to_signin = res.headers().get(header::LOCATION).is_some_and(|l| l == "/signin");
            if spec.permission.granted_to(role) {
                let signs_out = spec.path == "/signout";
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && (signs_out || !to_signin),
                    "{role:?} {:?} {}: {status}",
                    spec.verb,
                    spec.path
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {:?} {}", spec.verb, spec.path);
            }
            // Every response carries the security headers.
            let h = res.headers();
            assert!(
                h.get(header::STRICT_TRANSPORT_SECURITY).is_some() && h.get(header::CONTENT_SECURITY_POLICY).is_some()
            );
            // `no-referrer` would make browsers send `Origin: null` with the console's own
            // forms, which the origin check refuses (seen in Chromium).
            assert_eq!(h.get(header::REFERRER_POLICY).unwrap(), "same-origin");
        }
        // No one signed in: public routes answer, pages send to the sign-in page, the API says 401.
        let res = router.clone().oneshot(request(spec.verb, spec.path, None)).await.unwrap();
        match spec.permission {
            Permission::Public => assert!(res.status().is_success() || res.status().is_redirection(), "{}", spec.path),
            _ if spec.path.starts_with("/api/") => assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{}", spec.path),
            _ => assert_eq!(
                res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap()),
                Some("/signin"),
                "{}",
                spec.path
            ),
        }
    }
    // Each refusal is in the audit trail.
    let state = app.state.lock().unwrap();
    let refused = audit::recent(state.conn(), 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "route" && e.outcome == "denied")
        .count();
    let expected =
        ROUTES.iter().map(|r| Role::ALL.iter().filter(|&&role| !r.permission.granted_to(role)).count()).sum::<usize>();
    assert_eq!(refused, expected);
    assert!(audit::verify(state.conn(), dir.path(), None).unwrap().holds());
}

#[tokio::test]
async fn forms_need_the_sessions_csrf_token_and_the_consoles_origin() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    let router = routes::router(app.clone());
    let (token, csrf) = sign_in(&app, &secret, Role::Analyst, 1);
    let without = request(Verb::Post, "/signout", Some((&token, "wrong")));
    assert_eq!(router.clone().oneshot(without).await.unwrap().status(), StatusCode::FORBIDDEN);
    let mut elsewhere = request(Verb::Post, "/signout", Some((&token, &csrf)));
    elsewhere.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(router.clone().oneshot(elsewhere).await.unwrap().status(), StatusCode::FORBIDDEN);
    // Over HTTP/2 the host is the request's authority, not a Host header.
    let h2 = Request::builder()
        .method("POST")
        .uri("https://console.test/signout")
        .header(header::ORIGIN, "https://console.test")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    let res = router.clone().oneshot(h2).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    // The session is over on the server, whatever the browser keeps.
    let res = router.clone().oneshot(request(Verb::Get, "/", Some((&token, &csrf)))).await.unwrap();
    assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/signin");
}

#[tokio::test]
async fn sign_in_through_the_form_sets_a_strict_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = setup(dir.path());
    let router = routes::router(app.clone());
    let res = router.clone().oneshot(request(Verb::Post, "/signin", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let me = Request::builder()
        .uri("/api/v1/me")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(me).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A wrong password: the page again, 401, and nothing that says which part was wrong.
    let bad = Request::builder()
        .method("POST")
        .uri("/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=analyst&password=nope"))
        .unwrap();
    let res = router.clone().oneshot(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_tokens_sign_scripts_in_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = setup(dir.path());
    let router = routes::router(app.clone());
    let a = Actor { name: "cli:test".into(), org: String::new() };
    let now = canh_console::state::now_unix();
    let (id, secret) = app
        .state
        .lock()
        .unwrap()
        .change(|tx| token::issue(tx, &a, "auditor", "bao-cao", Role::Auditor, "so-a", now, now + 3600))
        .unwrap();
    let me = || {
        Request::builder()
            .uri("/api/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .body(Body::empty())
            .unwrap()
    };
    let res = router.clone().oneshot(me()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["role"].as_str(), v["org"].as_str()),
        (Some("token"), Some("auditor"), Some("so-a"))
    );
    app.state.lock().unwrap().change(|tx| token::revoke(tx, &a, id, now)).unwrap();
    assert_eq!(router.clone().oneshot(me()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_and_a_graceful_stop() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = setup(dir.path());
    let (cert, key) = canh_console::server::tls::pair(dir.path(), None, None).unwrap();
    // Made once, then kept.
    assert_eq!(canh_console::server::tls::pair(dir.path(), None, None).unwrap(), (cert.clone(), key.clone()));
    let tls = canh_console::server::tls::server_config(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(canh_console::server::serve(listener, tls, routes::router(app), async {
        let _ = stopped.await;
    }));
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_file(&cert).unwrap()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect("localhost".try_into().unwrap(), tcp).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    let lower = response.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{response}");
    assert!(lower.contains("strict-transport-security: max-age=31536000"), "{response}");
    assert!(response.ends_with("ok"), "{response}");
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(15), server).await.expect("stops").unwrap().unwrap();
}

async fn body_text(res: axum::response::Response) -> String {
    String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn vietnamese_by_default_english_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = setup(dir.path());
    let router = routes::router(app);
    let get = |uri: &str, cookie: Option<&str>| {
        let mut b = Request::builder().uri(uri);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::empty()).unwrap()
    };
    let vi = body_text(router.clone().oneshot(get("/signin", None)).await.unwrap()).await;
    assert!(vi.contains("<html lang=\"vi\">") && vi.contains("Mật khẩu"), "{vi}");
    let res = router.clone().oneshot(get("/signin?lang=en", None)).await.unwrap();
    let remembered = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(remembered.starts_with("canh_lang=en;"), "{remembered}");
    let en = body_text(res).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Password"), "{en}");
    let again = body_text(router.clone().oneshot(get("/signin", Some("canh_lang=en"))).await.unwrap()).await;
    assert!(again.contains("Password"));
}

/// Text from records and forms is hostile: a page shows it as text, never as markup.
#[tokio::test]
async fn pages_escape_what_they_show() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    // A search of the analyst's, in their organization: the admin of that organization sees it.
    let a = Actor { name: "analyst".into(), org: "so-a".into() };
    app.state
        .lock()
        .unwrap()
        .record(audit::Entry::done(&a, "search", "\"><img src=x onerror=alert(1)>").detail("<script>alert(2)</script>"))
        .unwrap();
    let router = routes::router(app.clone());
    let (token, csrf) = sign_in(&app, &secret, Role::Admin, 1);
    let page = body_text(router.oneshot(request(Verb::Get, "/audit", Some((&token, &csrf)))).await.unwrap()).await;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{page}");
    // Shown as text: escaped as entities (askama writes them numerically).
    assert!(page.contains("&#60;script&#62;alert(2)&#60;/script&#62;"), "{page}");
    assert!(page.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"), "{page}");
}

#[tokio::test]
async fn auditors_export_the_trail_safe_for_spreadsheets() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    let a = Actor { name: "analyst".into(), org: "so-a".into() };
    app.state.lock().unwrap().record(audit::Entry::done(&a, "search", "=HYPERLINK(\"http://x\")")).unwrap();
    let router = routes::router(app.clone());
    let (token, csrf) = sign_in(&app, &secret, Role::Auditor, 1);
    let res = router.oneshot(request(Verb::Get, "/audit.csv", Some((&token, &csrf)))).await.unwrap();
    assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    let csv = body_text(res).await;
    assert!(csv.starts_with("seq,ts,actor,org,action,target,outcome,detail,hash\n"), "{csv}");
    assert!(csv.contains("'=HYPERLINK") && !csv.contains(",=HYPERLINK"), "{csv}");
    // The export is itself in the trail.
    let state = app.state.lock().unwrap();
    assert_eq!(audit::recent(state.conn(), 1).unwrap()[0].action, "audit.export");
}

/// Search through the API sees the caller's organizations only — the server's scope, which
/// no query text widens — and each search is in the audit trail.
#[tokio::test]
async fn search_is_scoped_to_the_callers_organizations() {
    use canh_analyzer::store::Store;
    use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    {
        let a = Actor { name: "cli:test".into(), org: String::new() };
        app.state.lock().unwrap().change(|tx| org::add(tx, &a, "so-b", "Sở B", Some("tinh")).map(|_| ())).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut w =
            StoreWriter::new(&store, CommitPolicy { records: 100, interval: std::time::Duration::from_secs(60) });
        let now = canh_console::state::now_unix() as f64;
        for (i, o) in ["so-a", "so-a", "so-b", "tinh"].iter().enumerate() {
            let line = serde_json::json!({"ts": now - i as f64, "_type": "conn", "_org": o, "uid": format!("Cs{i}")});
            w.add_line(&line.to_string()).unwrap();
        }
        w.commit().unwrap();
    }
    let router = routes::router(app.clone());
    let search = |token: &str, q: &str| {
        let uri = format!(
            "/api/v1/search?q={}",
            q.replace(' ', "%20").replace(':', "%3A").replace('(', "%28").replace(')', "%29")
        );
        Request::builder()
            .uri(uri)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
            .body(Body::empty())
            .unwrap()
    };
    let total = |body: String| serde_json::from_str::<serde_json::Value>(&body).unwrap()["total"].as_u64().unwrap();
    // The analyst belongs to so-a.
    let (analyst, _) = sign_in(&app, &secret, Role::Analyst, 1);
    let res = router.clone().oneshot(search(&analyst, "*")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(total(body_text(res).await), 2);
    let res = router.clone().oneshot(search(&analyst, "_org:so-b")).await.unwrap();
    assert_eq!(total(body_text(res).await), 0);
    let res = router.clone().oneshot(search(&analyst, "x) OR (_org:so-b")).await.unwrap();
    let body = body_text(res).await;
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["total"].as_u64().is_none_or(|n| n == 0),
        "{body}"
    );
    // A bad query is a 400 with its place, not a 500.
    let res = router.clone().oneshot(search(&analyst, "id.resp_p:[1 TO")).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let state = app.state.lock().unwrap();
    let searches = audit::recent(state.conn(), 100).unwrap().into_iter().filter(|e| e.action == "search").count();
    assert_eq!(searches, 4);
}

/// The OpenAPI document names exactly the API routes of the route table (each with its
/// method), and every schema it refers to is in it.
#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let dir = tempfile::tempdir().unwrap();
    let (app, secret) = setup(dir.path());
    let (token, _) = sign_in(&app, &secret, Role::Auditor, 1);
    let res = routes::router(app.clone())
        .oneshot(request(Verb::Get, "/api/v1/openapi.json", Some((&token, ""))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = body_text(res).await;
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut routed: Vec<(String, String)> = ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/") && r.path != "/api/v1/openapi.json")
        .map(|r| ((if r.verb == Verb::Get { "GET" } else { "POST" }).to_string(), r.path.to_string()))
        .collect();
    routed.sort();
    assert_eq!(documented, routed);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1).filter_map(|r| r.split('"').next()) {
        assert!(schemas.contains_key(reference), "{reference} is referred to and not described");
    }
    assert!(schemas.contains_key("Alert") && schemas["Alert"]["properties"].get("community_id").is_some());
    // Query parameters are flat, as a query string carries them.
    let params = doc["paths"]["/api/v1/alerts"]["get"]["parameters"].as_array().unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"rule_id") && names.contains(&"limit") && !names.contains(&"filter"), "{names:?}");
}
