//! The detector's two drivers: a task inside `vigil serve` that evaluates the
//! sessions new rows touch, about a second behind intake, and `vigil rescan`,
//! which evaluates every session again (after a rule change) with a progress
//! bar. Both write each pass through the collector, like any acknowledged rows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use collector::Collector;
use query::QueryEngine;
use query::detect::{Detector, RuleSet};
use schemas::findings::FINDINGS;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The rules: the defaults, then `files` in order.
pub fn load_rules(files: &[PathBuf]) -> anyhow::Result<Arc<RuleSet>> {
    let rules = RuleSet::load(files).context("loading detection rules")?;
    tracing::info!(rules = rules.rules().len(), digest = %rules.digest(), "detection rules loaded");
    Ok(Arc::new(rules))
}

/// Writes one pass; `false` when it could not be written (the round restarts).
async fn write_pass(
    detector: &mut Detector,
    collector: &Collector,
    pass: query::detect::Pass,
) -> anyhow::Result<()> {
    match collector.append_rows(FINDINGS, pass.batch.clone()).await {
        Ok(_) => {
            detector.written(&pass);
            Ok(())
        }
        Err(e) => {
            detector.retry();
            Err(e).context("writing findings")
        }
    }
}

/// How long the detector waits after a round that took `round`: `interval`,
/// or twice the round if longer (at most a minute). A touched session is
/// evaluated whole, so under heavy intake short rounds would re-read the same
/// busy sessions every second (`vigil bench ingest`: with the detector idle,
/// one core stored 50k records/s instead of 24k); waiting in proportion aims
/// to keep it to about a third of the time, findings lagging more only while
/// the load lasts, each evaluation covering more new rows.
fn pause_after(round: Duration, interval: Duration) -> Duration {
    interval.max(round.saturating_mul(2).min(Duration::from_secs(60)))
}

/// Evaluates new rows every `interval` (see [`pause_after`]) until `stop`.
pub fn spawn(
    collector: Arc<Collector>,
    engine: QueryEngine,
    rules: Arc<RuleSet>,
    interval: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut detector = loop {
            match Detector::new(&engine, Arc::clone(&rules), false).await {
                Ok(d) => break d,
                Err(e) => {
                    tracing::warn!(error = %e, "detector: cannot read its checkpoint; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(interval) => {}
                    }
                }
            }
        };
        tracing::info!(checkpoint = detector.checkpoint(), "detector started");
        // when the round that is draining began
        let mut round_started: Option<std::time::Instant> = None;
        loop {
            let started = *round_started.get_or_insert_with(std::time::Instant::now);
            // drain the work that is there, then wait for more
            let busy = match detector.next_pass(&engine).await {
                Ok(Some(pass)) => {
                    let (sessions, findings, remaining) =
                        (pass.sessions, pass.findings, pass.remaining);
                    match write_pass(&mut detector, &collector, pass).await {
                        Ok(()) => {
                            tracing::debug!(sessions, findings, remaining, "detection pass");
                            remaining > 0
                        }
                        Err(e) => {
                            if !stop.is_cancelled() {
                                tracing::warn!(error = %format!("{e:#}"), "detector: pass not written");
                            }
                            false
                        }
                    }
                }
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "detector: evaluation failed; retrying");
                    detector.retry();
                    false
                }
            };
            if stop.is_cancelled() {
                return;
            }
            if !busy {
                round_started = None;
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(pause_after(started.elapsed(), interval)) => {}
                }
            }
        }
    })
}

/// `vigil rescan`: every session evaluated again with `rules`.
pub async fn rescan(data_dir: PathBuf, rule_files: Vec<PathBuf>) -> anyhow::Result<()> {
    use collector::CollectorConfig;
    if !schemas::layout::tables_dir(&data_dir).is_dir() {
        anyhow::bail!("no Vigil data directory at {}", data_dir.display());
    }
    let rules = load_rules(&rule_files)?;
    let config = CollectorConfig::new(data_dir.clone());
    let (collector, _) = tokio::task::spawn_blocking(move || {
        Collector::open(config, Arc::new(schemas::SystemClock))
    })
    .await?
    .context("opening the data directory (is a server running on it?)")?;
    let engine = QueryEngine::new(collector.store(), query::QueryLimits::default()).await?;
    let mut detector = Detector::new(&engine, Arc::clone(&rules), true).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "evaluating {bar:30} {pos}/{len} sessions, {msg} findings ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut sessions, mut findings) = (0usize, 0usize);
    bar.set_message("0");
    while let Some(pass) = detector.next_pass(&engine).await? {
        sessions += pass.sessions;
        findings += pass.findings;
        bar.set_length((sessions + pass.remaining) as u64);
        bar.set_position(sessions as u64);
        bar.set_message(findings.to_string());
        let done = pass.remaining == 0;
        write_pass(&mut detector, &collector, pass).await?;
        if done {
            break;
        }
    }
    bar.finish_and_clear();
    collector.shutdown().await.context("final flush")?;
    println!(
        "evaluated {sessions} sessions with {} rules: {findings} findings",
        rules.rules().len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pause_after;
    use std::time::Duration;

    #[test]
    fn the_pause_grows_with_the_round_within_bounds() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        for (round, want) in [
            (ms(0), s(1)),
            (ms(300), s(1)),
            (ms(500), s(1)),
            (ms(800), ms(1600)),
            (s(5), s(10)),
            (s(45), s(60)),
        ] {
            assert_eq!(pause_after(round, s(1)), want, "after a {round:?} round");
        }
        assert_eq!(pause_after(ms(10), s(5)), s(5));
    }
}
