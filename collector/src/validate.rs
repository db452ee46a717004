//! Record-level validation: invalid records are removed and counted, the rest kept
//! (OTLP partial success).

use crate::request::ExportRequest;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub count: usize,
    /// The first reason, for the partial-success message.
    pub first_reason: Option<String>,
}

impl Rejected {
    fn add(&mut self, reason: impl FnOnce() -> String) {
        self.count += 1;
        if self.first_reason.is_none() {
            self.first_reason = Some(reason());
        }
    }
}

fn id_ok(id: &[u8], len: usize, required: bool) -> bool {
    if id.is_empty() {
        !required
    } else {
        id.len() == len && id.iter().any(|b| *b != 0)
    }
}

/// Removes records whose ids are malformed: a span needs a 16-byte trace id and an
/// 8-byte span id (non-zero); a log record may omit them but not send them malformed.
pub fn retain_valid(req: &mut ExportRequest) -> Rejected {
    let mut rejected = Rejected::default();
    match req {
        ExportRequest::Traces(r) => {
            for rs in &mut r.resource_spans {
                for ss in &mut rs.scope_spans {
                    ss.spans.retain(|s| {
                        let ok = id_ok(&s.trace_id, 16, true)
                            && id_ok(&s.span_id, 8, true)
                            && id_ok(&s.parent_span_id, 8, false);
                        if !ok {
                            rejected.add(|| {
                                format!(
                                    "span {:?}: invalid ids (trace_id {} bytes, span_id {} bytes, parent {} bytes)",
                                    s.name,
                                    s.trace_id.len(),
                                    s.span_id.len(),
                                    s.parent_span_id.len()
                                )
                            });
                        }
                        ok
                    });
                }
            }
        }
        ExportRequest::Logs(r) => {
            for rl in &mut r.resource_logs {
                for sl in &mut rl.scope_logs {
                    sl.log_records.retain(|l| {
                        // an all-zero id is how some SDKs say "none"
                        let trace_ok = l.trace_id.is_empty() || l.trace_id.len() == 16;
                        let span_ok = l.span_id.is_empty() || l.span_id.len() == 8;
                        if !(trace_ok && span_ok) {
                            rejected.add(|| {
                                format!(
                                    "log record: invalid ids (trace_id {} bytes, span_id {} bytes)",
                                    l.trace_id.len(),
                                    l.span_id.len()
                                )
                            });
                        }
                        trace_ok && span_ok
                    });
                }
            }
        }
        ExportRequest::Metrics(_) => {}
    }
    rejected
}
