//! The province's certificate authority for its sensors (`canh ca init`): a P-256 key and a
//! self-signed CA certificate under `DATA/ca/` (the key readable by its owner only). It signs a
//! sensor's certificate from the sensor's own key (a CSR: the private key never leaves the
//! sensor), writing the sensor's name and organization from the enrollment record into it —
//! never from what the request says — as the subject and a `urn:canh:sensor:ORG:NAME` URI.
//! The server reads a connecting sensor's identity back from that URI ([`identity`]).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// How long a sensor's certificate is valid; renewal starts well before (a third left).
pub const SENSOR_DAYS: i64 = 90;
/// How long the CA is valid.
const CA_DAYS: i64 = 3650;

pub struct Ca {
    cert_pem: String,
    key: KeyPair,
}

fn paths(data: &Path) -> (PathBuf, PathBuf) {
    let dir = data.join("ca");
    (dir.join("ca.crt"), dir.join("ca.key"))
}

impl Ca {
    /// Makes the CA of `province`; refuses to replace an existing one (its sensors' certificates
    /// would all stop being trusted).
    pub fn init(data: &Path, province: &str) -> Result<PathBuf> {
        let (cert, key) = paths(data);
        if cert.exists() || key.exists() {
            bail!("{} exists: the province's CA is made once (its sensors trust it)", cert.display());
        }
        let pair = KeyPair::generate().context("making the CA's key")?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("Canh sensor CA — {province}"));
        dn.push(DnType::OrganizationName, province);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(CA_DAYS);
        let certified = params.self_signed(&pair).context("signing the CA's certificate")?;
        std::fs::create_dir_all(cert.parent().expect("a parent")).with_context(|| cert.display().to_string())?;
        super::tls::write_private(&key, pair.serialize_pem().as_bytes())?;
        std::fs::write(&cert, certified.pem()).with_context(|| cert.display().to_string())?;
        Ok(cert)
    }

    pub fn load(data: &Path) -> Result<Self> {
        let (cert, key) = paths(data);
        let cert_pem = std::fs::read_to_string(&cert)
            .with_context(|| format!("{} (make it with `canh ca init`)", cert.display()))?;
        let key = KeyPair::from_pem(&std::fs::read_to_string(&key).with_context(|| key.display().to_string())?)
            .with_context(|| format!("{}: not a private key", key.display()))?;
        Ok(Self { cert_pem, key })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Signs a sensor's certificate from its CSR (PEM), for `name` of `org` — the enrollment
    /// record's, whatever the request names — valid for [`SENSOR_DAYS`], client use only.
    /// Returns the certificate (PEM) and its serial (hex).
    pub fn sign_sensor(&self, csr_pem: &str, name: &str, org: &str) -> Result<(String, String, OffsetDateTime)> {
        self.sign_sensor_valid(csr_pem, name, org, SENSOR_DAYS)
    }

    /// [`Self::sign_sensor`] with a certificate that ends `days` from now (tests make expired
    /// ones with a negative number).
    pub fn sign_sensor_valid(
        &self,
        csr_pem: &str,
        name: &str,
        org: &str,
        days: i64,
    ) -> Result<(String, String, OffsetDateTime)> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .context("not a certificate signing request (PEM) with a valid signature")?;
        let p = &mut csr.params;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationalUnitName, org);
        p.distinguished_name = dn;
        p.subject_alt_names =
            vec![SanType::URI(format!("urn:canh:sensor:{org}:{name}").try_into().context("a sensor URI")?)];
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        // A positive 127-bit serial: its DER integer has no sign byte to tell apart.
        let mut serial: [u8; 16] = crate::state::random_bytes();
        serial[0] = (serial[0] & 0x7f) | 0x01;
        p.serial_number = Some(serial.to_vec().into());
        let now = OffsetDateTime::now_utc();
        p.not_after = now + Duration::days(days);
        p.not_before = (now - Duration::minutes(5)).min(p.not_after - Duration::days(SENSOR_DAYS));
        let not_after = p.not_after;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).context("the CA's certificate")?;
        let cert = csr.signed_by(&issuer).context("signing the sensor's certificate")?;
        Ok((cert.pem(), hex::encode(serial), not_after))
    }
}

/// The certificate the server shows its sensors (signed by the CA, so that a sensor trusts the
/// one CA file it was given): `DATA/ca/server.{crt,key}`, made on first use for `names` (and
/// localhost, the loopback addresses and the host's name). Remove the pair to make it again
/// with other names.
pub fn listener_pair(data: &Path, names: &[String]) -> Result<(PathBuf, PathBuf)> {
    let dir = data.join("ca");
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    let ca = Ca::load(data)?;
    let pair = KeyPair::generate().context("making the server's key")?;
    let mut all = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        all.push(host.trim().to_string());
    }
    all.extend(names.iter().cloned());
    all.retain(|n| !n.is_empty());
    all.dedup();
    let mut params = CertificateParams::new(all).context("the server's names")?;
    params.distinguished_name.push(DnType::CommonName, "Canh server (sensors)");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(CA_DAYS / 2);
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, &ca.key).context("the CA's certificate")?;
    let certified = params.signed_by(&pair, &issuer).context("signing the server's certificate")?;
    super::tls::write_private(&key, pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, certified.pem()).with_context(|| cert.display().to_string())?;
    Ok((cert, key))
}

/// A sensor's identity as its certificate states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub org: String,
    pub name: String,
    /// The certificate's serial (hex): what revocation names.
    pub serial: String,
    pub not_after: OffsetDateTime,
}

/// The identity in a sensor certificate (DER), from its `urn:canh:sensor:ORG:NAME` URI.
pub fn identity(der: &[u8]) -> Result<Identity> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| anyhow::anyhow!("not a certificate: {e}"))?;
    let san =
        cert.subject_alternative_name().map_err(|e| anyhow::anyhow!("{e}"))?.context("no subject alternative name")?;
    let uri = san
        .value
        .general_names
        .iter()
        .find_map(|g| match g {
            GeneralName::URI(u) => u.strip_prefix("urn:canh:sensor:"),
            _ => None,
        })
        .context("not a Canh sensor certificate")?;
    let (org, name) = uri.split_once(':').context("a sensor URI names ORG:NAME")?;
    let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp()).context("a validity")?;
    Ok(Identity {
        org: org.to_string(),
        name: name.to_string(),
        serial: hex::encode(cert.raw_serial().iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>()),
        not_after,
    })
}

/// A sensor's key and CSR, as the sensor makes them (its key stays with it).
pub fn sensor_request(name: &str) -> Result<(String, String)> {
    let key = KeyPair::generate().context("making the sensor's key")?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    let csr = params.serialize_request(&key).context("the sensor's request")?;
    Ok((key.serialize_pem(), csr.pem().context("the request as PEM")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensor_certificate_names_what_the_enrollment_says() {
        let dir = tempfile::tempdir().unwrap();
        Ca::init(dir.path(), "Lâm Đồng").unwrap();
        assert!(Ca::init(dir.path(), "again").is_err(), "the CA is made once");
        let ca = Ca::load(dir.path()).unwrap();
        // The sensor asks as "so-khac/impostor"; the CA writes the enrolled name and org.
        let (_key, csr) = sensor_request("impostor").unwrap();
        let (pem, serial, not_after) = ca.sign_sensor(&csr, "cb-khcn-01", "so-khcn").unwrap();
        use rustls::pki_types::pem::PemObject as _;
        let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let id = identity(&der).unwrap();
        assert_eq!((id.org.as_str(), id.name.as_str(), id.serial.as_str()), ("so-khcn", "cb-khcn-01", serial.as_str()));
        assert!(not_after > OffsetDateTime::now_utc() + Duration::days(SENSOR_DAYS - 1));
        // A request with a broken signature is refused.
        let tampered = csr.replace('A', "B");
        assert!(ca.sign_sensor(&tampered, "x", "y").is_err());
        // The key file is its owner's only.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("ca/ca.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}
