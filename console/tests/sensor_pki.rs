//! The province CA and sensor enrollment through the `canh` binary: a one-time token redeemed
//! once for a certificate that names the enrolled sensor and organization (whatever the
//! request says), revocation and re-enrollment refusing the old certificate.

use std::process::Command;

use canh_console::server::ca::{identity, sensor_request};
use canh_console::state::{State, sensor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

fn canh(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_canh")).args(args).arg("--data").arg(data).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn token(text: &str) -> String {
    text.lines().find(|l| l.starts_with("canh-enroll-")).expect("a token").to_string()
}

#[test]
fn enroll_certify_revoke_reenroll() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(canh(&data, &["org", "add", "tinh", "--name", "UBND tỉnh"]).0);
    assert!(canh(&data, &["org", "add", "so-khcn", "--name", "Sở KH&CN", "--parent", "tinh"]).0);
    let (ok, text) = canh(&data, &["ca", "init", "--province", "Lâm Đồng"]);
    assert!(ok, "{text}");
    assert!(!canh(&data, &["ca", "init"]).0, "the CA is made once");

    // A sensor's own request, naming someone else: the certificate names the enrollment.
    let (ok, text) = canh(&data, &["sensor", "enroll", "cb-01", "--org", "so-khcn"]);
    assert!(ok, "{text}");
    let first = token(&text);
    let (_key, csr) = sensor_request("so-khac/impostor").unwrap();
    std::fs::write(dir.path().join("cb.csr"), &csr).unwrap();
    let cb = dir.path().join("cb");
    let cert = cb.join("sensor.crt");
    let (ok, text) = canh(
        &data,
        &[
            "sensor",
            "certify",
            "--token",
            &first,
            "--csr",
            dir.path().join("cb.csr").to_str().unwrap(),
            "--out",
            cb.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    let der = CertificateDer::from_pem_slice(&std::fs::read(&cert).unwrap()).unwrap();
    // The identity directory has the CA beside the certificate; the key stayed with the sensor.
    assert!(cb.join("ca.crt").is_file() && !cb.join("sensor.key").exists());
    let id = identity(&der).unwrap();
    assert_eq!((id.org.as_str(), id.name.as_str()), ("so-khcn", "cb-01"));

    // The token is spent.
    let again = dir.path().join("again");
    let (ok, text) = canh(&data, &["sensor", "certify", "--token", &first, "--out", again.to_str().unwrap()]);
    assert!(!ok && text.contains("already used"), "{text}");

    let accepts = |serial: &str| {
        let s = State::open(&data).unwrap();
        sensor::accepts(s.conn(), "cb-01", "so-khcn", serial).unwrap()
    };
    assert!(accepts(&id.serial));
    assert!(
        !{
            let s = State::open(&data).unwrap();
            sensor::accepts(s.conn(), "cb-01", "so-khac", &id.serial).unwrap()
        },
        "another organization's claim"
    );

    // Revoked: refused at once.
    assert!(canh(&data, &["sensor", "revoke", "cb-01"]).0);
    assert!(!accepts(&id.serial));
    let (_, list) = canh(&data, &["sensor", "list"]);
    assert!(list.contains("revoked"), "{list}");

    // Re-enrolled (a key made here): the new certificate is accepted, the old one is not.
    let (_, text) = canh(&data, &["sensor", "enroll", "cb-01", "--org", "so-khcn"]);
    let renewed = dir.path().join("renewed");
    let (ok, text) = canh(&data, &["sensor", "certify", "--token", &token(&text), "--out", renewed.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(renewed.join("sensor.key").exists());
    let new_id =
        identity(&CertificateDer::from_pem_slice(&std::fs::read(renewed.join("sensor.crt")).unwrap()).unwrap())
            .unwrap();
    assert!(accepts(&new_id.serial) && !accepts(&id.serial));
    // Another organization cannot re-enroll the name.
    assert!(canh(&data, &["org", "add", "so-khac", "--name", "Sở khác", "--parent", "tinh"]).0);
    assert!(!canh(&data, &["sensor", "enroll", "cb-01", "--org", "so-khac"]).0);
}
