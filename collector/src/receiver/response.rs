//! The success answer of an export, built once for both protocols: an
//! `Export*ServiceResponse` that carries `partial_success` when validation
//! rejected records (gRPC sends the message, OTLP/HTTP encodes it in the
//! request's encoding).

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use serde_json::json;

use crate::collector::ExportOutcome;

/// An `Export*ServiceResponse`.
pub(crate) trait ExportResponse: prost::Message + Default {
    /// The OTLP/JSON name of the rejected-count field.
    const REJECTED_JSON_KEY: &'static str;
    fn with_partial_success(rejected: i64, error_message: String) -> Self;

    /// The answer to an export with this outcome.
    fn from_outcome(o: &ExportOutcome) -> Self {
        if o.rejected == 0 {
            return Self::default();
        }
        Self::with_partial_success(
            i64::try_from(o.rejected).unwrap_or(i64::MAX),
            o.message.clone().unwrap_or_default(),
        )
    }

    /// OTLP/JSON of [`Self::from_outcome`] (int64 as a string, as the spec writes it).
    fn json(o: &ExportOutcome) -> Vec<u8> {
        let body = if o.rejected == 0 {
            json!({})
        } else {
            json!({"partialSuccess": {
                Self::REJECTED_JSON_KEY: o.rejected.to_string(),
                "errorMessage": o.message.clone().unwrap_or_default(),
            }})
        };
        body.to_string().into_bytes()
    }
}

/// `ExportResponse` for one signal's response, partial-success type and field.
macro_rules! export_response {
    ($($response:ident, $partial:ident, $field:ident, $json:literal;)*) => {$(
        impl ExportResponse for $response {
            const REJECTED_JSON_KEY: &'static str = $json;
            fn with_partial_success(rejected: i64, error_message: String) -> Self {
                $response {
                    partial_success: Some($partial {
                        $field: rejected,
                        error_message,
                    }),
                }
            }
        }
    )*};
}

export_response! {
    ExportTraceServiceResponse, ExportTracePartialSuccess, rejected_spans, "rejectedSpans";
    ExportLogsServiceResponse, ExportLogsPartialSuccess, rejected_log_records, "rejectedLogRecords";
    ExportMetricsServiceResponse, ExportMetricsPartialSuccess, rejected_data_points, "rejectedDataPoints";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_only_when_something_was_rejected() {
        let ok = ExportOutcome {
            accepted: 3,
            rejected: 0,
            message: None,
            seq: Some(1),
        };
        assert_eq!(
            ExportLogsServiceResponse::from_outcome(&ok),
            ExportLogsServiceResponse::default()
        );
        assert_eq!(ExportLogsServiceResponse::json(&ok), b"{}");
        let partial = ExportOutcome {
            accepted: 1,
            rejected: 2,
            message: Some("bad id".into()),
            seq: Some(1),
        };
        let r = ExportTraceServiceResponse::from_outcome(&partial);
        assert_eq!(
            r.partial_success
                .as_ref()
                .map(|p| (p.rejected_spans, p.error_message.as_str())),
            Some((2, "bad id"))
        );
        let j: serde_json::Value =
            serde_json::from_slice(&ExportMetricsServiceResponse::json(&partial)).unwrap();
        assert_eq!(
            j,
            json!({"partialSuccess": {"rejectedDataPoints": "2", "errorMessage": "bad id"}})
        );
    }
}
