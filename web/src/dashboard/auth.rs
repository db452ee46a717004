//! Dashboard logins. With `--auth-token`, the login form takes the token once and
//! answers with a random login id in an `HttpOnly`, `SameSite=Strict` cookie; the
//! server keeps only the id's digest, with an expiry and the login's CSRF token
//! (logout must present it). Without a token the dashboard is open.
//!
//! Login itself is CSRF-safe by double submit: the form carries the value of a
//! `vigil_csrf` cookie the page set, which another site can neither read nor set;
//! and a POST whose `Origin` names another host is refused outright.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;
use parking_lot::Mutex;
use rand::Rng as _;
use sha2::{Digest, Sha256};

pub(crate) const LOGIN_COOKIE: &str = "vigil_login";
pub(crate) const CSRF_COOKIE: &str = "vigil_csrf";
/// How long a login lasts.
pub(crate) const LOGIN_TTL: Duration = Duration::from_secs(12 * 3600);
/// Logins kept at most; the oldest go first (a bound on what a flood of
/// logins with the right token can make the server hold).
const MAX_LOGINS: usize = 4096;

#[derive(Debug)]
struct Login {
    csrf: String,
    expires: Instant,
}

/// The logins the server has handed out.
#[derive(Debug, Default)]
pub struct Logins {
    by_digest: Mutex<HashMap<[u8; 32], Login>>,
}

/// 32 random bytes as hex.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Logins {
    /// A new login: its id (for the cookie) and its CSRF token.
    pub(crate) fn create(&self) -> (String, String) {
        let id = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut map = self.by_digest.lock();
        map.retain(|_, l| l.expires > now);
        if map.len() >= MAX_LOGINS
            && let Some(oldest) = map.iter().min_by_key(|(_, l)| l.expires).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            digest(&id),
            Login {
                csrf: csrf.clone(),
                expires: now + LOGIN_TTL,
            },
        );
        (id, csrf)
    }

    /// The CSRF token of a live login.
    pub(crate) fn csrf_of(&self, id: &str) -> Option<String> {
        let map = self.by_digest.lock();
        map.get(&digest(id))
            .filter(|l| l.expires > Instant::now())
            .map(|l| l.csrf.clone())
    }

    pub(crate) fn remove(&self, id: &str) {
        self.by_digest.lock().remove(&digest(id));
    }
}

/// The value of cookie `name`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether a state-changing request comes from a page of this server: its
/// `Origin` (sent by browsers on every POST) names the host it was sent to,
/// and `Sec-Fetch-Site`, when sent, is not cross-site.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|s| s == "same-origin" || s == "none");
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin_host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            origin_host.is_some() && origin_host == host
        }
    };
    fetch_site_ok && origin_ok
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn equal_secrets(a: &str, b: &str) -> bool {
    digest(a)
        .iter()
        .zip(digest(b).iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A `Set-Cookie` value for the dashboard: `HttpOnly`, `SameSite=Strict`,
/// the whole site, and `Secure` when the dashboard is served over TLS (the
/// browser then never sends it in clear); `max_age` 0 clears it.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Where to go after logging in: a path on this site, never another site
/// (`//host`, `/\host`) or a scheme.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_lives_until_removed_and_its_csrf_token_is_its_own() {
        let logins = Logins::default();
        let (a, csrf_a) = logins.create();
        let (b, csrf_b) = logins.create();
        assert_ne!(a, b);
        assert_ne!(csrf_a, csrf_b);
        assert_eq!(logins.csrf_of(&a).as_deref(), Some(csrf_a.as_str()));
        assert_eq!(logins.csrf_of("nope"), None);
        logins.remove(&a);
        assert_eq!(logins.csrf_of(&a), None);
        assert_eq!(logins.csrf_of(&b).as_deref(), Some(csrf_b.as_str()));
    }

    #[test]
    fn logins_are_bounded() {
        let logins = Logins::default();
        let first = logins.create().0;
        for _ in 0..MAX_LOGINS {
            logins.create();
        }
        assert_eq!(logins.by_digest.lock().len(), MAX_LOGINS);
        assert_eq!(logins.csrf_of(&first), None, "the oldest login went first");
    }

    #[test]
    fn next_stays_on_this_site() {
        for (next, want) in [
            (None, "/"),
            (Some("/sessions?q=x"), "/sessions?q=x"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example"), "/"),
            (Some("javascript:alert(1)"), "/"),
            (Some("/a\r\nSet-Cookie: x"), "/"),
        ] {
            assert_eq!(safe_next(next), want, "{next:?}");
        }
    }

    #[test]
    fn origin_must_be_this_host() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        assert!(same_origin(&h(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site"),
        ])));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut m = HeaderMap::new();
        m.insert(header::COOKIE, "a=1; vigil_login=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&m, LOGIN_COOKIE), Some("abc"));
        assert_eq!(cookie(&m, "b"), Some("2"));
        assert_eq!(cookie(&m, "c"), None);
    }
}
