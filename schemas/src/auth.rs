//! The one bearer-token check. Every surface (OTLP/HTTP, OTLP/gRPC, the API and
//! dashboard, the Postgres wire) asks [`Tokens::check`] and only adapts the
//! rejection to its protocol.
//!
//! `Authorization: <scheme> <token>`: the scheme is matched case-insensitively
//! (RFC 7235 §2.1), surrounding spaces are ignored, and tokens are compared in
//! constant time (as SHA-256 digests, so the length is not leaked either).
//!
//! Failed attempts are counted and limited per client address: after
//! [`MAX_FAILURES`] failures within [`FAILURE_WINDOW`], that address is refused
//! without a check ([`AuthError::TooManyAttempts`], a retryable 429) until the
//! window that began with its first failure ends. A correct token does not
//! reset the count, so guessing between good requests gains nothing. The table of
//! addresses is bounded ([`MAX_TRACKED_PEERS`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use sha2::{Digest, Sha256};

/// Failed attempts one address may make within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 20;
/// How long an address's failures count against it.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses whose failures are remembered at once; past it, expired entries
/// are dropped, and if none have expired the table starts over.
pub const MAX_TRACKED_PEERS: usize = 10_000;

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
    #[error("too many failed authentication attempts from this address; retry in {}s", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: Duration },
}

impl AuthError {
    /// The category every surface answers with.
    pub fn status(&self) -> crate::Status {
        match self {
            AuthError::Missing | AuthError::Invalid => crate::Status::Unauthenticated,
            AuthError::TooManyAttempts { .. } => crate::Status::Overloaded,
        }
    }
}

/// Failures per address, and the counters `/metrics` shows.
#[derive(Debug, Default)]
struct Attempts {
    peers: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    failed: Counter,
    refused: Counter,
}

impl Attempts {
    /// Refuses `peer` if it is over its failures.
    fn admit(&self, peer: Option<IpAddr>, now: Instant) -> Result<(), AuthError> {
        let Some(peer) = peer else { return Ok(()) };
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        match peers.get(&peer) {
            Some(&(since, n)) if n >= MAX_FAILURES && now < since + FAILURE_WINDOW => {
                self.refused.inc();
                Err(AuthError::TooManyAttempts {
                    retry_after: since + FAILURE_WINDOW - now,
                })
            }
            _ => Ok(()),
        }
    }

    fn failed(&self, peer: Option<IpAddr>, now: Instant) {
        self.failed.inc();
        let Some(peer) = peer else { return };
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.len() >= MAX_TRACKED_PEERS && !peers.contains_key(&peer) {
            peers.retain(|_, (since, _)| now < *since + FAILURE_WINDOW);
            if peers.len() >= MAX_TRACKED_PEERS {
                peers.clear();
            }
        }
        let entry = peers.entry(peer).or_insert((now, 0));
        if now >= entry.0 + FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
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

/// The tokens a server requires; `None` for an access that is open. Clones
/// share one failure table and counters.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    ingest: Option<Secret>,
    read: Option<Secret>,
    attempts: Arc<Attempts>,
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
            attempts: Arc::default(),
        }
    }

    /// Counts into these counters (registered in `/metrics`) from now on:
    /// failed attempts, and attempts refused unchecked for too many failures.
    pub fn counting_into(mut self, failed: Counter, refused: Counter) -> Self {
        self.attempts = Arc::new(Attempts {
            peers: Mutex::default(),
            failed,
            refused,
        });
        self
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

    /// Checks an `Authorization` header value for `access`, from `peer` (the
    /// client's address, where the transport knows it).
    pub fn check(
        &self,
        access: Access,
        authorization: Option<&[u8]>,
        peer: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        self.check_at(
            access,
            authorization.map(Presented::Header),
            peer,
            Instant::now(),
        )
    }

    /// Checks a bare token (a Postgres password, a dashboard login).
    pub fn check_token(
        &self,
        access: Access,
        token: &[u8],
        peer: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        self.check_at(access, Some(Presented::Bare(token)), peer, Instant::now())
    }

    fn check_at(
        &self,
        access: Access,
        presented: Option<Presented<'_>>,
        peer: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), AuthError> {
        let Some(secret) = self.secret(access) else {
            return Ok(());
        };
        self.attempts.admit(peer, now)?;
        let token = match presented {
            Some(Presented::Header(h)) => bearer_token(h),
            Some(Presented::Bare(t)) => Some(trim(t)),
            None => None,
        };
        let result = match token {
            None => Err(AuthError::Missing),
            Some(t) if secret.matches(t) => Ok(()),
            Some(_) => Err(AuthError::Invalid),
        };
        if result.is_err() {
            self.attempts.failed(peer, now);
        }
        result
    }
}

/// What a client presented: an `Authorization` value or a bare token.
#[derive(Clone, Copy)]
enum Presented<'a> {
    Header(&'a [u8]),
    Bare(&'a [u8]),
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
        let ok = |h: &str| t.check(Access::Read, Some(h.as_bytes()), None);
        assert_eq!(ok("Bearer s3cret"), Ok(()));
        assert_eq!(ok("bearer s3cret"), Ok(()));
        assert_eq!(ok("BEARER   s3cret  "), Ok(()));
        assert_eq!(ok("Bearer s3cre"), Err(AuthError::Invalid));
        assert_eq!(ok("Bearer s3cretX"), Err(AuthError::Invalid));
        assert_eq!(ok("Basic s3cret"), Err(AuthError::Missing));
        assert_eq!(ok("s3cret"), Err(AuthError::Missing));
        assert_eq!(ok("Bearer "), Err(AuthError::Missing));
        assert_eq!(t.check(Access::Ingest, None, None), Err(AuthError::Missing));
        assert_eq!(t.check_token(Access::Read, b" s3cret\n", None), Ok(()));
        assert_eq!(
            t.check_token(Access::Read, b"nope", None),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn split_tokens_and_open_access() {
        let t = Tokens::new(Some("in"), Some("out"));
        assert_eq!(t.check(Access::Ingest, Some(b"Bearer in"), None), Ok(()));
        assert_eq!(
            t.check(Access::Read, Some(b"Bearer in"), None),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            t.check(Access::Ingest, Some(b"Bearer out"), None),
            Err(AuthError::Invalid)
        );
        assert_eq!(t.check(Access::Read, Some(b"Bearer out"), None), Ok(()));
        let open = Tokens::open();
        assert!(!open.required(Access::Read));
        assert_eq!(open.check(Access::Read, None, None), Ok(()));
        let half = Tokens::new(Some("in"), Some(""));
        assert!(half.required(Access::Ingest) && !half.required(Access::Read));
    }

    #[test]
    fn failures_are_counted_and_limited_per_address() {
        let (failed, refused) = (Counter::default(), Counter::default());
        let t = Tokens::new(Some("s3cret"), Some("s3cret"))
            .counting_into(failed.clone(), refused.clone());
        let attacker: IpAddr = "10.0.0.1".parse().unwrap();
        let agent: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let try_ = |token: &[u8], peer, now| {
            t.check_at(Access::Read, Some(Presented::Bare(token)), Some(peer), now)
        };
        for i in 0..MAX_FAILURES {
            assert_eq!(
                try_(b"guess", attacker, at(1)),
                Err(AuthError::Invalid),
                "attempt {i}"
            );
        }
        assert_eq!(failed.get(), u64::from(MAX_FAILURES));
        // over the limit: refused unchecked, even with the right token
        assert_eq!(
            try_(b"s3cret", attacker, at(11)),
            Err(AuthError::TooManyAttempts {
                retry_after: Duration::from_secs(50)
            })
        );
        assert_eq!(refused.get(), 1);
        assert_eq!(
            failed.get(),
            u64::from(MAX_FAILURES),
            "a refusal is not a failure"
        );
        // another address is not affected
        assert_eq!(try_(b"s3cret", agent, at(11)), Ok(()));
        // nor the same address once the window has passed
        assert_eq!(try_(b"s3cret", attacker, at(61)), Ok(()));
        assert_eq!(try_(b"guess", attacker, at(61)), Err(AuthError::Invalid));
        // without an address: counted, never refused
        for _ in 0..MAX_FAILURES + 5 {
            assert_eq!(
                t.check_at(Access::Read, Some(Presented::Bare(b"x")), None, at(62)),
                Err(AuthError::Invalid)
            );
        }
        assert_eq!(failed.get(), u64::from(2 * MAX_FAILURES + 6));
        assert_eq!(
            AuthError::TooManyAttempts {
                retry_after: Duration::ZERO
            }
            .status()
            .http(),
            429
        );
        assert_eq!(AuthError::Invalid.status().http(), 401);
    }

    #[test]
    fn the_address_table_stays_bounded() {
        let t = Tokens::new(Some("s3cret"), None);
        let now = Instant::now();
        for i in 0..(MAX_TRACKED_PEERS as u32 + 10) {
            let peer = IpAddr::from(std::net::Ipv4Addr::from(i));
            let _ = t.check_at(Access::Ingest, None, Some(peer), now);
        }
        let len = t.attempts.peers.lock().unwrap().len();
        assert!(len <= MAX_TRACKED_PEERS, "{len} addresses tracked");
        // an open access never counts
        let open = Tokens::new(None, None);
        assert_eq!(
            open.check(Access::Read, None, Some("10.0.0.1".parse().unwrap())),
            Ok(())
        );
        assert_eq!(open.attempts.failed.get(), 0);
    }
}
