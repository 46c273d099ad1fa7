//! TLS for a listener: the checked `tls_server_config` ([`TlsSettings`]),
//! rustls's server configuration built from it with the ring provider, and
//! [`Certificates`], which rebuilds that configuration when the certificate,
//! key or client CA files change on disk.
//!
//! Each handshake stats the files (a few syscalls) and compares their
//! modification times and sizes with those of the last load, so a renewed
//! certificate (cert-manager, certbot) is served from the next connection
//! on, without a restart. A file that fails to load keeps the previous
//! configuration in service and is logged once per change.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::RwLock;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme, SupportedCipherSuite};
use rustls::{SupportedProtocolVersion, crypto::ring as provider};
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Where PEM data comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// A file, re-read when it changes.
    File(PathBuf),
    /// Text written in the web configuration file.
    Inline(String),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => write!(f, "File({})", path.display()),
            // Inline text may be a private key.
            Source::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

impl Source {
    fn read(&self) -> Result<Vec<u8>> {
        match self {
            Source::File(path) => std::fs::read(path).map_err(|source| Error::Read { path: path.clone(), source }),
            Source::Inline(text) => Ok(text.as_bytes().to_vec()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Inline(_) => "the inline PEM text".to_owned(),
        }
    }

    /// The file's modification time and size, what a reload compares.
    fn stamp(&self) -> Option<(SystemTime, u64)> {
        match self {
            Source::File(path) => std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len()))),
            Source::Inline(_) => None,
        }
    }
}

/// How client certificates are asked for, after Go's `tls.ClientAuthType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// None asked for (`NoClientCert`).
    None,
    /// Asked for, not required, not verified (`RequestClientCert`).
    RequestAny,
    /// Required, not verified (`RequireAnyClientCert`).
    RequireAny,
    /// Verified against the client CA when sent (`VerifyClientCertIfGiven`).
    VerifyIfGiven,
    /// Required and verified against the client CA (`RequireAndVerifyClientCert`).
    RequireAndVerify,
}

/// A checked `tls_server_config`.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The certificate chain.
    pub cert: Source,
    /// The private key.
    pub key: Source,
    /// CA certificates for client certificates.
    pub client_ca: Option<Source>,
    /// How client certificates are asked for.
    pub client_auth: ClientAuth,
    /// Subject alternative names (DNS names, IP addresses) of which a
    /// verified client certificate must hold one; empty for any.
    pub allowed_sans: Vec<ServerName<'static>>,
    /// The protocol versions offered, at least one.
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// TLS 1.2 cipher suites chosen; empty for rustls's defaults.
    pub cipher_suites: Vec<SupportedCipherSuite>,
    /// Key-exchange groups in order of preference; empty for rustls's defaults.
    pub kx_groups: Vec<&'static dyn SupportedKxGroup>,
    /// Whether the server's order of cipher suites wins.
    pub prefer_server_cipher_suites: bool,
}

/// An entry of `client_allowed_sans`: a DNS name or an IP address.
///
/// # Errors
///
/// A message for anything else. exporter-toolkit also compares e-mail
/// addresses and URIs; those are refused here rather than never matched.
pub(crate) fn allowed_san(name: &str) -> Result<ServerName<'static>, String> {
    if name.contains('@') || name.contains("://") {
        return Err(format!("{name:?} is an e-mail address or a URI; only DNS names and IP addresses are checked"));
    }
    ServerName::try_from(name.to_owned()).map_err(|_| format!("{name:?} is neither a DNS name nor an IP address"))
}

/// A TLS 1.2 or 1.3 cipher suite by its IANA name, as Go's `crypto/tls` spells it.
///
/// # Errors
///
/// A message naming the suites rustls offers, for a suite it does not
/// implement (CBC, RC4, 3DES, RSA key exchange) or an unknown name.
pub(crate) fn cipher_suite(name: &str) -> Result<SupportedCipherSuite, String> {
    use provider::cipher_suite as cs;
    let suite = match name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => {
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_AES_128_GCM_SHA256" => cs::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384" => cs::TLS13_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256" => cs::TLS13_CHACHA20_POLY1305_SHA256,
        other => {
            let supported = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
                             TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
                             TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
            let known_to_go = other.starts_with("TLS_RSA_")
                || other.contains("_CBC_")
                || other.contains("RC4")
                || other.contains("3DES");
            return Err(if known_to_go {
                format!(
                    "{other:?} is not supported by rustls (no CBC, RC4, 3DES or RSA key exchange); one of {supported}"
                )
            } else {
                format!("{other:?} is not a cipher suite; one of {supported}")
            });
        }
    };
    Ok(suite)
}

/// A key-exchange group by Go's `tls.CurveID` name.
///
/// # Errors
///
/// A message naming the groups the ring provider offers.
pub(crate) fn kx_group(name: &str) -> Result<&'static dyn SupportedKxGroup, String> {
    use provider::kx_group as kx;
    match name {
        "X25519" => Ok(kx::X25519),
        "CurveP256" => Ok(kx::SECP256R1),
        "CurveP384" => Ok(kx::SECP384R1),
        "CurveP521" | "X25519MLKEM768" => {
            Err(format!("{name:?} is not supported by rustls's ring provider; one of X25519, CurveP256, CurveP384"))
        }
        other => Err(format!("{other:?} is not a curve; one of X25519, CurveP256, CurveP384")),
    }
}

/// The crypto provider the settings choose: ring, with the configured
/// TLS 1.2 suites (TLS 1.3's always on, as in Go) and groups.
fn crypto_provider(settings: &TlsSettings) -> CryptoProvider {
    let mut crypto = provider::default_provider();
    if !settings.cipher_suites.is_empty() {
        let tls13 = crypto.cipher_suites.iter().copied().filter(|s| s.version() == &rustls::version::TLS13);
        let mut suites: Vec<SupportedCipherSuite> = settings.cipher_suites.clone();
        for suite in tls13 {
            if !suites.contains(&suite) {
                suites.push(suite);
            }
        }
        crypto.cipher_suites = suites;
    }
    if !settings.kx_groups.is_empty() {
        crypto.kx_groups = settings.kx_groups.clone();
    }
    crypto
}

/// Builds rustls's server configuration from the settings, reading every file.
///
/// # Errors
///
/// A file that cannot be read or holds no certificate or key, a key that
/// does not match the certificate, or a client CA that cannot be used.
pub(crate) fn build_server_config(settings: &TlsSettings) -> Result<ServerConfig> {
    let crypto = Arc::new(crypto_provider(settings));
    let certs = CertificateDer::pem_slice_iter(&settings.cert.read()?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| Error::Pem { what: settings.cert.describe(), source })?;
    if certs.is_empty() {
        return Err(Error::NoCertificate { what: settings.cert.describe() });
    }
    let key = PrivateKeyDer::from_pem_slice(&settings.key.read()?)
        .map_err(|source| Error::Pem { what: settings.key.describe(), source })?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&crypto))
        .with_protocol_versions(&settings.versions)
        .map_err(|source| Error::Tls { what: "the protocol versions".into(), source })?;
    let verifier: Option<Arc<dyn ClientCertVerifier>> = match settings.client_auth {
        ClientAuth::None => None,
        ClientAuth::RequestAny | ClientAuth::RequireAny => Some(Arc::new(AnyClientCert {
            mandatory: settings.client_auth == ClientAuth::RequireAny,
            algorithms: crypto.signature_verification_algorithms,
        })),
        ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify => {
            let source = settings.client_ca.as_ref().ok_or(Error::NoClientCa)?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&source.read()?) {
                let cert = cert.map_err(|e| Error::Pem { what: source.describe(), source: e })?;
                roots
                    .add(cert)
                    .map_err(|e| Error::Tls { what: format!("the client CA in {}", source.describe()), source: e })?;
            }
            if roots.is_empty() {
                return Err(Error::NoCertificate { what: source.describe() });
            }
            let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&crypto));
            let builder = if settings.client_auth == ClientAuth::VerifyIfGiven {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            let verifier =
                builder.build().map_err(|e| Error::Verifier { what: source.describe(), message: e.to_string() })?;
            if settings.allowed_sans.is_empty() {
                Some(verifier)
            } else {
                Some(Arc::new(AllowedSans { inner: verifier, names: settings.allowed_sans.clone() }))
            }
        }
    };
    let builder = match verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config =
        builder.with_single_cert(certs, key).map_err(|source| Error::Tls { what: settings.cert.describe(), source })?;
    config.ignore_client_order = settings.prefer_server_cipher_suites;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The server's TLS configuration, rebuilt when its files change.
pub struct Certificates {
    settings: TlsSettings,
    current: RwLock<Loaded>,
    metrics: Metrics,
}

struct Loaded {
    /// The files' stamps when `acceptor` was built, or when a reload last failed.
    stamps: Vec<Option<(SystemTime, u64)>>,
    acceptor: TlsAcceptor,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Certificates {
    /// Loads the certificate, key and client CA.
    ///
    /// # Errors
    ///
    /// What [`build_server_config`] reports.
    pub fn new(settings: TlsSettings, metrics: Metrics) -> Result<Certificates> {
        let stamps = stamps(&settings);
        let acceptor = TlsAcceptor::from(Arc::new(build_server_config(&settings)?));
        Ok(Certificates { settings, current: RwLock::new(Loaded { stamps, acceptor }), metrics })
    }

    /// The acceptor for the next handshake, rebuilt first if a file changed.
    pub fn acceptor(&self) -> TlsAcceptor {
        let now = stamps(&self.settings);
        {
            let current = self.current.read();
            if current.stamps == now {
                return current.acceptor.clone();
            }
        }
        let mut current = self.current.write();
        if current.stamps != now {
            current.stamps = now;
            match build_server_config(&self.settings) {
                Ok(config) => {
                    current.acceptor = TlsAcceptor::from(Arc::new(config));
                    self.metrics.reloaded(true);
                    info!(cert = %self.settings.cert.describe(), "TLS certificates reloaded");
                }
                Err(err) => {
                    self.metrics.reloaded(false);
                    warn!(error = %err, "TLS certificates changed but cannot be loaded; serving the previous ones");
                }
            }
        }
        current.acceptor.clone()
    }
}

fn stamps(settings: &TlsSettings) -> Vec<Option<(SystemTime, u64)>> {
    [Some(&settings.cert), Some(&settings.key), settings.client_ca.as_ref()]
        .into_iter()
        .flatten()
        .map(Source::stamp)
        .collect()
}

/// Accepts any client certificate whose handshake signature is valid,
/// without checking who issued it: exporter-toolkit's `RequestClientCert`
/// and `RequireAnyClientCert`, which its documentation calls insecure.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A verified client certificate must also name one of the allowed
/// subject alternative names (exporter-toolkit's `client_allowed_sans`),
/// so that a CA shared with other services does not let all of them in.
#[derive(Debug)]
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    names: Vec<ServerName<'static>>,
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        if self.names.iter().any(|name| cert.verify_is_valid_for_subject_name(name).is_ok()) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
