//! Vendor words → Vigil's small vocabularies (table-driven).

/// `allow` / `deny` / `ask` / `abort`, from any vendor's word in any casing.
pub fn decision(raw: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("approved", "allow"),
        ("approved_for_session", "allow"),
        ("approvedforsession", "allow"),
        ("approved_execpolicy_amendment", "allow"),
        ("accept", "allow"),
        ("accepted", "allow"),
        ("allow", "allow"),
        ("allowed", "allow"),
        ("yes", "allow"),
        ("denied", "deny"),
        ("deny", "deny"),
        ("reject", "deny"),
        ("rejected", "deny"),
        ("block", "deny"),
        ("blocked", "deny"),
        ("refused", "deny"),
        ("no", "deny"),
        ("ask", "ask"),
        ("prompt", "ask"),
        ("pending", "ask"),
        ("abort", "abort"),
        ("aborted", "abort"),
        ("cancel", "abort"),
        ("cancelled", "abort"),
        ("canceled", "abort"),
        ("timeout", "abort"),
    ];
    lookup(TABLE, raw)
}

/// A vendor word in any casing (`-` and spaces read as `_`) looked up in `table`.
fn lookup(table: &[(&str, &'static str)], raw: &str) -> Option<&'static str> {
    let key = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The small set of deciders: `config`, `user`, `policy`, `sandbox`, `reviewer`,
/// `proxy`, `hook`, `app`.
pub fn decision_source(raw: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("config", "config"),
        ("configuration", "config"),
        ("settings", "config"),
        ("user", "user"),
        ("user_permanent", "user"),
        ("user_temporary", "user"),
        ("user_abort", "user"),
        ("user_reject", "user"),
        ("userpermanent", "user"),
        ("usertemporary", "user"),
        ("policy", "policy"),
        ("exec_policy", "policy"),
        ("execpolicy", "policy"),
        ("sandbox", "sandbox"),
        ("automatedreviewer", "reviewer"),
        ("automated_reviewer", "reviewer"),
        ("guardian", "reviewer"),
        ("reviewer", "reviewer"),
        ("proxy", "proxy"),
        ("network_proxy", "proxy"),
        ("hook", "hook"),
        ("hooks", "hook"),
        ("app", "app"),
    ];
    lookup(TABLE, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_in_any_casing() {
        for (raw, want) in [
            ("approved", "allow"),
            ("Approved", "allow"),
            ("APPROVED_FOR_SESSION", "allow"),
            ("accept", "allow"),
            ("denied", "deny"),
            ("Denied", "deny"),
            ("reject", "deny"),
            ("abort", "abort"),
            ("Abort", "abort"),
            ("ask", "ask"),
        ] {
            assert_eq!(decision(raw), Some(want), "{raw}");
        }
        assert_eq!(decision("maybe"), None);
    }

    #[test]
    fn sources() {
        for (raw, want) in [
            ("Config", "config"),
            ("config", "config"),
            ("User", "user"),
            ("user_temporary", "user"),
            ("user_reject", "user"),
            ("AutomatedReviewer", "reviewer"),
            ("hook", "hook"),
        ] {
            assert_eq!(decision_source(raw), Some(want), "{raw}");
        }
        assert_eq!(decision_source("martians"), None);
    }
}
