//! The console's certificate: the configured PEM pair, or a self-signed one made on first
//! start under `DATA/tls/` (kept, so browsers that accepted it once keep accepting it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate and key files to serve: the configured ones, or the self-signed pair
/// (made now if it does not exist).
pub fn pair(data: &Path, cert: Option<&Path>, key: Option<&Path>) -> Result<(PathBuf, PathBuf)> {
    if let (Some(c), Some(k)) = (cert, key) {
        return Ok((c.to_path_buf(), k.to_path_buf()));
    }
    let dir = data.join("tls");
    let (c, k) = (dir.join("console.crt"), dir.join("console.key"));
    if c.is_file() && k.is_file() {
        return Ok((c, k));
    }
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !host.is_empty() {
        names.push(host);
    }
    let certified = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
    std::fs::write(&c, certified.cert.pem()).with_context(|| c.display().to_string())?;
    write_private(&k, certified.signing_key.serialize_pem().as_bytes())?;
    tracing::info!(cert = %c.display(), "made a self-signed certificate for the console");
    Ok((c, k))
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| path.display().to_string())?;
    f.write_all(bytes).with_context(|| path.display().to_string())
}

/// A rustls server configuration over the pair, speaking HTTP/2 and HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    build(cert, key, None)
}

/// The sensors' listener: the same, and a client certificate the CA `ca` signed is required
/// (checked in the handshake: unknown issuer, expiry, client use). Revocation is checked on
/// every request against the enrolled sensors, so that it holds at once.
pub fn sensor_config(cert: &Path, key: &Path, ca: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).with_context(|| ca.display().to_string())? {
        roots.add(c.with_context(|| ca.display().to_string())?).with_context(|| ca.display().to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .context("the sensors' CA")?;
    build(cert, key, Some(verifier))
}

fn build(
    cert: &Path,
    key: &Path,
    clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> Result<Arc<rustls::ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| cert.display().to_string())?
        .collect::<Result<_, _>>()
        .with_context(|| cert.display().to_string())?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| key.display().to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?;
    let config = match clients {
        Some(v) => config.with_client_cert_verifier(v),
        None => config.with_no_client_auth(),
    };
    let mut config = config.with_single_cert(chain, key).context("the certificate and key do not go together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
