//! OTLP receivers. Both protocols decode, then call [`crate::Collector::export`].

pub mod body;
pub mod grpc;
pub mod http;

/// Compares a presented bearer token with the configured one in constant time.
pub fn token_matches(header: Option<&str>, expected: &str) -> bool {
    let Some(presented) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let (a, b) = (presented.trim().as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_token_check() {
        assert!(super::token_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(!super::token_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!super::token_matches(Some("s3cret"), "s3cret"));
        assert!(!super::token_matches(None, "s3cret"));
    }
}
