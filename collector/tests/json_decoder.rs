//! Our lenient OTLP/JSON decoder against `opentelemetry-proto`'s generated serde
//! (`with-serde`), on every recorded scenario and real capture: where both
//! decode, they agree field for field on traces and logs. (Metrics are left out:
//! `with-serde` drops metric `oneof` values; see `collector/src/otlp_json.rs`.)

use collector::{ExportRequest, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

#[test]
fn our_decoder_and_with_serde_agree_on_every_recorded_trace_and_log() {
    let mut dirs = fixtures::scenarios();
    dirs.extend(fixtures::captures());
    let mut compared = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        for m in fixtures::manifest(&dir).unwrap() {
            let body = std::fs::read(dir.join(&m.file)).unwrap();
            let what = format!("{}/{}", dir.display(), m.file);
            let (ours, theirs) = match m.path.as_str() {
                "/v1/traces" => (
                    ExportRequest::decode_json(Signal::Traces, &body).map_err(|e| e.to_string()),
                    serde_json::from_slice::<ExportTraceServiceRequest>(&body)
                        .map(ExportRequest::Traces)
                        .map_err(|e| e.to_string()),
                ),
                "/v1/logs" => (
                    ExportRequest::decode_json(Signal::Logs, &body).map_err(|e| e.to_string()),
                    serde_json::from_slice::<ExportLogsServiceRequest>(&body)
                        .map(ExportRequest::Logs)
                        .map_err(|e| e.to_string()),
                ),
                _ => continue,
            };
            match (ours, theirs) {
                (Ok(a), Ok(b)) if a == b => compared += 1,
                (Ok(_), Ok(_)) => failures.push(format!("{what}: the decoders disagree")),
                (Ok(_), Err(e)) => failures.push(format!("{what}: with-serde refuses it: {e}")),
                (Err(e), _) => failures.push(format!("{what}: ours refuses it: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 25, "only {compared} requests compared");
}
