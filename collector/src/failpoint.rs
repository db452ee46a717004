//! Crash points for tests: with `VIGIL_FAILPOINT=<name>` in its environment,
//! the process aborts when it reaches the point of that name, as a power cut
//! would stop it there (no destructors, no flush, nothing after it runs). The
//! end-to-end tests start the shipped binary this way to check that every state
//! a crash can leave starts cleanly; without the variable a point costs one
//! comparison. (Hand-written: `fail-rs` needs a feature build, and the binary
//! under test is the one users run.)

use std::sync::LazyLock;

static POINT: LazyLock<Option<String>> = LazyLock::new(|| {
    std::env::var("VIGIL_FAILPOINT")
        .ok()
        .filter(|p| !p.is_empty())
});

/// Aborts the process if `VIGIL_FAILPOINT` names `point`.
pub(crate) fn crash_here(point: &str) {
    if POINT.as_deref() == Some(point) {
        eprintln!("VIGIL_FAILPOINT={point}: aborting here");
        std::process::abort();
    }
}
