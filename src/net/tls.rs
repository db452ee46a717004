//! TLS for every listener, from `--tls-cert`, `--tls-key` and
//! `--tls-client-ca` (rustls with the ring provider; TLS 1.2 and 1.3).
//!
//! The files are read once at start-up: a new certificate takes a restart.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The server's TLS settings; each listener takes an acceptor with its own ALPN.
#[derive(Debug, Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
    pub client_certificates: bool,
}

impl Tls {
    /// Reads the certificate chain, its key and, for client-certificate
    /// authentication, the CA certificates clients must chain to.
    pub fn load(cert: &Path, key: &Path, client_ca: Option<&Path>) -> anyhow::Result<Tls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = certificates(cert, "--tls-cert")?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            anyhow::anyhow!(
                "reading the private key (--tls-key) from {}: {e}",
                key.display()
            )
        })?;
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?;
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for ca in certificates(path, "--tls-client-ca")? {
                    roots.add(ca).with_context(|| {
                        format!("a CA certificate in {} (--tls-client-ca)", path.display())
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .context("the client-certificate verifier (--tls-client-ca)")?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .context("the private key (--tls-key) does not fit the certificate (--tls-cert)")?;
        Ok(Tls {
            config: Arc::new(config),
            client_certificates: client_ca.is_some(),
        })
    }

    /// An acceptor offering `alpn` (in order of preference).
    pub fn acceptor(&self, alpn: &[&[u8]]) -> TlsAcceptor {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsAcceptor::from(Arc::new(config))
    }
}

fn certificates(path: &Path, flag: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let read = |e: rustls_pki_types::pem::Error| {
        anyhow::anyhow!("reading certificates ({flag}) from {}: {e}", path.display())
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    if certs.is_empty() {
        bail!(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in {} ({flag})",
            path.display()
        );
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bad_files_are_refused_with_the_flag_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_pem = write(dir.path(), "cert.pem", &cert.pem());
        let key_pem = write(dir.path(), "key.pem", &key.serialize_pem());
        let other_key = write(
            dir.path(),
            "other.pem",
            &rcgen::KeyPair::generate().unwrap().serialize_pem(),
        );
        let empty = write(dir.path(), "empty.pem", "not a certificate\n");
        let missing = dir.path().join("missing.pem");

        let tls = Tls::load(&cert_pem, &key_pem, None).unwrap();
        assert!(!tls.client_certificates);
        assert_eq!(
            tls.acceptor(super::super::ALPN_GRPC)
                .config()
                .alpn_protocols,
            vec![b"h2".to_vec()]
        );
        assert!(
            Tls::load(&cert_pem, &key_pem, Some(&cert_pem))
                .unwrap()
                .client_certificates
        );

        let err = |r: anyhow::Result<Tls>| format!("{:#}", r.unwrap_err());
        let e = err(Tls::load(&empty, &key_pem, None));
        assert!(
            e.contains("no PEM certificate") && e.contains("empty.pem") && e.contains("--tls-cert"),
            "{e}"
        );
        let e = err(Tls::load(&missing, &key_pem, None));
        assert!(e.contains("missing.pem") && e.contains("--tls-cert"), "{e}");
        let e = err(Tls::load(&cert_pem, &empty, None));
        assert!(e.contains("empty.pem") && e.contains("--tls-key"), "{e}");
        let e = err(Tls::load(&cert_pem, &other_key, None));
        assert!(e.contains("does not fit"), "{e}");
        let e = err(Tls::load(&cert_pem, &key_pem, Some(&empty)));
        assert!(
            e.contains("--tls-client-ca") && e.contains("empty.pem"),
            "{e}"
        );
    }
}
