//! Why TLS could not be set up.

use std::path::PathBuf;

/// Why a listener's TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A certificate, key or CA file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        #[source]
        source: std::io::Error,
    },
    /// PEM data without a usable certificate or key.
    #[error("{what} holds no PEM certificate or key that can be read")]
    Pem {
        /// The file, or the inline text.
        what: String,
        /// What the PEM reader reported.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// PEM data without a certificate.
    #[error("{what} holds no certificate")]
    NoCertificate {
        /// The file, or the inline text.
        what: String,
    },
    /// Client certificates are verified but no CA is configured.
    #[error("client certificates are verified but no client_ca_file is configured")]
    NoClientCa,
    /// rustls refused the certificate, key or versions.
    #[error("rustls refused {what}")]
    Tls {
        /// What was refused.
        what: String,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },
    /// The client certificate verifier could not be built.
    #[error("cannot verify client certificates with the CA in {what}: {message}")]
    Verifier {
        /// The CA file, or the inline text.
        what: String,
        /// What rustls reported.
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
