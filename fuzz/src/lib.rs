//! The fuzz targets' bodies, one function per target. `fuzz_targets/*.rs` hand
//! libFuzzer's input to them; the workspace's `tests/fuzz_corpora.rs` includes
//! this file and runs every file of `fuzz/corpus/<target>/` through the same
//! function on the stable toolchain, so `cargo nextest run` (and CI) replays
//! the corpora and every crash found stays a regression test.
//!
//! Each function may reject its input however it likes (an `Err` is an
//! answer); it must not panic, hang or allocate without bound, and where a
//! property holds for every input it asserts it.

use std::sync::LazyLock;

use collector::internals::{
    Decoded, decode_record, read_wal, replayed_rows, retain_valid, segment_path,
};
use collector::{ExportRequest, Signal};
use schemas::redact::Redactor;

/// The size limit the receivers use by default.
const BODY_LIMIT: usize = collector::CollectorConfig::DEFAULT_MAX_BODY_BYTES;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::with_defaults);

/// The first byte picks the signal, the rest is the body.
fn signal_and_body(data: &[u8]) -> Option<(Signal, &[u8])> {
    let (&first, rest) = data.split_first()?;
    let signal = match first % 3 {
        0 => Signal::Traces,
        1 => Signal::Logs,
        _ => Signal::Metrics,
    };
    Some((signal, rest))
}

/// What intake does with a decoded request before the WAL: validate, redact,
/// make the raw and `agent_events` rows; then the re-encoded request (what the
/// WAL stores) must decode to the same request.
fn ingest(mut req: ExportRequest) {
    let _rejected = retain_valid(&mut req);
    req.redact(&REDACTOR);
    // a second pass finds nothing left to redact
    assert_eq!(req.redact(&REDACTOR), 0, "redaction is not idempotent");
    let _ = req.rows(1_795_481_016_000_000_000);
    let proto = req.encode_proto();
    let again =
        ExportRequest::decode_proto(req.signal(), &proto).expect("our own encoding decodes");
    // compared as bytes, not structs: a NaN bound or value round-trips bit for
    // bit but is not equal to itself
    assert_eq!(
        again.encode_proto(),
        proto,
        "the WAL's encoding does not round-trip"
    );
}

/// OTLP protobuf requests (traces, logs, metrics) through decode → validate →
/// redact → rows → normalize.
pub fn otlp_protobuf(data: &[u8]) {
    let Some((signal, body)) = signal_and_body(data) else {
        return;
    };
    if let Ok(req) = ExportRequest::decode_proto(signal, body) {
        ingest(req);
    }
}

/// The lenient OTLP/JSON decoder, and then the same path as protobuf.
pub fn otlp_json(data: &[u8]) {
    let Some((signal, body)) = signal_and_body(data) else {
        return;
    };
    if let Ok(req) = ExportRequest::decode_json(signal, body) {
        ingest(req);
    }
}

/// gzip bodies through the size-limited inflater: never more than the limit out.
pub fn gzip(data: &[u8]) {
    match collector::gunzip_file(data, BODY_LIMIT) {
        Ok(out) => assert!(out.len() <= BODY_LIMIT),
        Err(_) => {}
    }
    // and with a limit small enough that bombs hit it
    if let Ok(out) = collector::gunzip_file(data, 4096) {
        assert!(out.len() <= 4096);
    }
}

/// WAL replay over arbitrary segment bytes: the record decoder in memory, then
/// the real replay of a segment file holding the bytes (torn tails truncated,
/// every record's rows rebuilt as start-up does).
pub fn wal_replay(data: &[u8]) {
    let mut offset = 0;
    while offset < data.len() {
        match decode_record(&data[offset..]) {
            Decoded::Record { len, payload, .. } => {
                assert!(len >= payload.len());
                let _ = replayed_rows(payload);
                offset += len;
            }
            Decoded::Incomplete | Decoded::Corrupt(_) => break,
        }
    }
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("tempdir");
    }
    DIR.with(|dir| {
        for entry in std::fs::read_dir(dir.path()).expect("read_dir") {
            let path = entry.expect("entry").path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
        std::fs::write(segment_path(dir.path(), 1), data).expect("write segment");
        let _ = read_wal(dir.path(), dir.path(), 1, |rec| {
            replayed_rows(&rec.payload).map(|_| ())
        });
    });
}

/// The shell-command analyser (facts about a command line) and its helpers.
pub fn shell(data: &[u8]) {
    let Ok(cmd) = std::str::from_utf8(data) else {
        return;
    };
    let _facts = schemas::normalize::shell::analyze(cmd);
    let words = schemas::normalize::shell::simple_commands(cmd);
    for argv in &words {
        // joining and re-splitting a simple command gives its words back
        let joined = schemas::normalize::shell::shell_join(argv);
        let again = schemas::normalize::shell::simple_commands(&joined);
        if !argv.is_empty() && !argv.iter().any(|w| w.is_empty()) {
            assert_eq!(
                again.first(),
                Some(argv),
                "shell_join of {argv:?} is {joined:?}"
            );
        }
    }
}

/// The redactor over arbitrary text: what it returns holds no secret it would
/// redact again.
pub fn redact(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(out) = REDACTOR.redact_str(text) {
        assert_eq!(
            REDACTOR.redact_str(&out),
            None,
            "redacting {text:?} left a secret"
        );
    }
}

/// The rule file parsers (TOML and Sigma) and the permission policy parsers
/// (Claude Code settings.json, Codex .rules), the first byte picking which.
pub fn rules(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            let _ = query::detect::RuleSet::defaults().add_toml("fuzz.toml", text);
        }
        1 => {
            let _ = query::detect::RuleSet::defaults().add_sigma("fuzz.yml", text);
        }
        2 => {
            let _ = schemas::policy::Policy::parse("settings.json", text);
        }
        _ => {
            let _ = schemas::policy::Policy::parse("fuzz.rules", text);
        }
    }
}

/// The SQL guard: any text either plans read-only or is refused; nothing that
/// writes gets through, and the store is unchanged.
pub fn sql_guard(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    });
    static ENGINE: LazyLock<(tempfile::TempDir, query::QueryEngine)> = LazyLock::new(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(schemas::layout::tables_dir(dir.path())).expect("tables dir");
        let engine = RUNTIME
            .block_on(query::QueryEngine::offline(dir.path()))
            .expect("an engine over an empty store");
        (dir, engine)
    });
    let (dir, engine) = &*ENGINE;
    RUNTIME.block_on(async {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), engine.sql(sql)).await;
    });
    let tables = schemas::layout::tables_dir(dir.path());
    let entries = std::fs::read_dir(&tables)
        .map(|d| d.count())
        .unwrap_or(usize::MAX);
    let top = std::fs::read_dir(dir.path())
        .map(|d| d.count())
        .unwrap_or(usize::MAX);
    assert_eq!((entries, top), (0, 1), "{sql:?} wrote into the store");
}
