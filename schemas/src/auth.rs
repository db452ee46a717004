//! The one bearer-token check. Every surface (OTLP/HTTP, OTLP/gRPC, the API and
//! dashboard, the Postgres wire) asks [`Tokens::check`] and only adapts the
//! rejection to its protocol.
//!
//! `Authorization: <scheme> <token>`: the scheme is matched case-insensitively
//! (RFC 7235 §2.1), surrounding spaces are ignored, and tokens are compared in
//! constant time (as SHA-256 digests, so the length is not leaked either).

use sha2::{Digest, Sha256};

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Send telemetry (OTLP).
    Ingest,
    /// Read the store (SQL, API, dashboard, Postgres wire).
    Read,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid bearer token")]
    Invalid,
}

/// A configured token, kept only as its digest.
#[derive(Clone)]
struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    fn new(token: &str) -> Self {
        Secret(Sha256::digest(token.as_bytes()).into())
    }
    fn matches(&self, presented: &[u8]) -> bool {
        let d: [u8; 32] = Sha256::digest(presented).into();
        d.iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// The tokens a server requires; `None` for an access that is open.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    ingest: Option<Secret>,
    read: Option<Secret>,
}

impl Tokens {
    /// No token required anywhere.
    pub fn open() -> Self {
        Tokens::default()
    }

    /// Separate tokens for sending and reading; empty strings count as none.
    pub fn new(ingest: Option<&str>, read: Option<&str>) -> Self {
        let secret = |t: Option<&str>| t.map(str::trim).filter(|t| !t.is_empty()).map(Secret::new);
        Tokens {
            ingest: secret(ingest),
            read: secret(read),
        }
    }

    /// Whether `access` needs a token.
    pub fn required(&self, access: Access) -> bool {
        self.secret(access).is_some()
    }

    fn secret(&self, access: Access) -> Option<&Secret> {
        match access {
            Access::Ingest => self.ingest.as_ref(),
            Access::Read => self.read.as_ref(),
        }
    }

    /// Checks an `Authorization` header value for `access`.
    pub fn check(&self, access: Access, authorization: Option<&[u8]>) -> Result<(), AuthError> {
        let Some(secret) = self.secret(access) else {
            return Ok(());
        };
        let token = authorization
            .and_then(bearer_token)
            .ok_or(AuthError::Missing)?;
        if secret.matches(token) {
            Ok(())
        } else {
            Err(AuthError::Invalid)
        }
    }

    /// Checks a bare token (a Postgres password, a dashboard login).
    pub fn check_token(&self, access: Access, token: &[u8]) -> Result<(), AuthError> {
        match self.secret(access) {
            None => Ok(()),
            Some(s) if s.matches(trim(token)) => Ok(()),
            Some(_) => Err(AuthError::Invalid),
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// The token of `Bearer <token>`, any casing of the scheme.
fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let h = trim(header);
    let space = h.iter().position(|c| *c == b' ' || *c == b'\t')?;
    let (scheme, rest) = h.split_at(space);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| trim(rest))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_table() {
        let t = Tokens::new(Some("s3cret"), Some("s3cret"));
        let ok = |h: &str| t.check(Access::Read, Some(h.as_bytes()));
        assert_eq!(ok("Bearer s3cret"), Ok(()));
        assert_eq!(ok("bearer s3cret"), Ok(()));
        assert_eq!(ok("BEARER   s3cret  "), Ok(()));
        assert_eq!(ok("Bearer s3cre"), Err(AuthError::Invalid));
        assert_eq!(ok("Bearer s3cretX"), Err(AuthError::Invalid));
        assert_eq!(ok("Basic s3cret"), Err(AuthError::Missing));
        assert_eq!(ok("s3cret"), Err(AuthError::Missing));
        assert_eq!(ok("Bearer "), Err(AuthError::Missing));
        assert_eq!(t.check(Access::Ingest, None), Err(AuthError::Missing));
        assert_eq!(t.check_token(Access::Read, b"s3cret"), Ok(()));
        assert_eq!(
            t.check_token(Access::Read, b"nope"),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn split_tokens_and_open_access() {
        let t = Tokens::new(Some("in"), Some("out"));
        assert_eq!(t.check(Access::Ingest, Some(b"Bearer in")), Ok(()));
        assert_eq!(
            t.check(Access::Read, Some(b"Bearer in")),
            Err(AuthError::Invalid)
        );
        assert_eq!(t.check(Access::Read, Some(b"Bearer out")), Ok(()));
        let open = Tokens::open();
        assert!(!open.required(Access::Read));
        assert_eq!(open.check(Access::Read, None), Ok(()));
        let half = Tokens::new(Some("in"), Some(""));
        assert!(half.required(Access::Ingest) && !half.required(Access::Read));
    }
}
