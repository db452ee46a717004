//! One table from error category to HTTP status, gRPC code and SQLSTATE.
//!
//! Every crate's error type picks a [`Status`]; the receivers and the API turn
//! that into a wire status through [`Status::http`] / [`Status::grpc`] only, so a
//! category cannot answer differently on different protocols. The codes are plain
//! numbers to keep this crate free of `http` and `tonic`.

/// Category of an error, as the client should see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The request could not be decoded or violates the protocol.
    InvalidArgument,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The request's Content-Type is not one we decode.
    UnsupportedMediaType,
    /// No such endpoint or resource.
    NotFound,
    /// Missing or wrong bearer token (on the Postgres wire: wrong password,
    /// hence SQLSTATE `28P01` invalid_password).
    Unauthenticated,
    /// The request is valid but not allowed (e.g. SQL that writes).
    Forbidden,
    /// Intake is over its memory / WAL budget; the client should retry later.
    Overloaded,
    /// A query ran longer than the statement timeout.
    Timeout,
    /// A query needed more memory than the query memory limit allows.
    QueryTooLarge,
    /// A statement too complex to parse within the parser's work budget.
    StatementTooComplex,
    /// The server is shutting down or not ready; retry elsewhere or later.
    Unavailable,
    /// A bug or an I/O failure on our side.
    Internal,
}

/// The wire codes for one [`Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireStatus {
    pub http: u16,
    /// `tonic::Code` as its integer value.
    pub grpc: i32,
    pub sqlstate: &'static str,
    /// Whether OTLP clients may retry (they honour Retry-After / RetryInfo).
    pub retryable: bool,
    /// Whether the server should log the failure at error level (server faults).
    pub server_fault: bool,
}

impl Status {
    /// The one mapping table. No wildcard arm: a new category must be placed here.
    pub const fn wire(self) -> WireStatus {
        const fn w(
            http: u16,
            grpc: i32,
            sqlstate: &'static str,
            retryable: bool,
            server_fault: bool,
        ) -> WireStatus {
            WireStatus {
                http,
                grpc,
                sqlstate,
                retryable,
                server_fault,
            }
        }
        match self {
            Status::InvalidArgument => w(400, 3, "22023", false, false),
            Status::PayloadTooLarge => w(413, 3, "54000", false, false),
            Status::UnsupportedMediaType => w(415, 3, "22023", false, false),
            Status::NotFound => w(404, 5, "42P01", false, false),
            Status::Unauthenticated => w(401, 16, "28P01", false, false),
            Status::Forbidden => w(403, 7, "42501", false, false),
            Status::Overloaded => w(429, 8, "53000", true, false),
            Status::Timeout => w(504, 4, "57014", false, false),
            Status::QueryTooLarge => w(413, 8, "53200", false, false),
            Status::StatementTooComplex => w(400, 3, "54001", false, false),
            Status::Unavailable => w(503, 14, "57P03", true, false),
            Status::Internal => w(500, 13, "XX000", false, true),
        }
    }

    pub const fn http(self) -> u16 {
        self.wire().http
    }

    pub const fn grpc(self) -> i32 {
        self.wire().grpc
    }

    /// What the client is told about an error of this status: the error's own
    /// text for the client's mistakes, a generic one for server faults (whose
    /// details go to the log, never to the client).
    pub fn client_message(self, error: &dyn std::fmt::Display) -> String {
        if self.wire().server_fault {
            "internal error; see the server log".to_string()
        } else {
            error.to_string()
        }
    }

    /// A short stable label for metrics (`error_type`).
    pub const fn label(self) -> &'static str {
        match self {
            Status::InvalidArgument => "invalid_argument",
            Status::PayloadTooLarge => "payload_too_large",
            Status::UnsupportedMediaType => "unsupported_media_type",
            Status::NotFound => "not_found",
            Status::Unauthenticated => "unauthenticated",
            Status::Forbidden => "forbidden",
            Status::Overloaded => "overloaded",
            Status::Timeout => "timeout",
            Status::QueryTooLarge => "query_too_large",
            Status::StatementTooComplex => "statement_too_complex",
            Status::Unavailable => "unavailable",
            Status::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_match_the_otlp_spec() {
        // OTLP/HTTP: 429, 502, 503, 504 are retryable; gRPC: UNAVAILABLE(14), RESOURCE_EXHAUSTED(8).
        for s in [Status::Overloaded, Status::Unavailable] {
            let w = s.wire();
            assert!(w.retryable);
            assert!(matches!(w.http, 429 | 503));
            assert!(matches!(w.grpc, 8 | 14));
        }
        assert_eq!(Status::InvalidArgument.wire().http, 400);
        assert!(!Status::InvalidArgument.wire().retryable);
        assert_eq!(Status::PayloadTooLarge.http(), 413);
        assert_eq!(Status::UnsupportedMediaType.http(), 415);
        assert_eq!(Status::Unauthenticated.grpc(), 16);
        assert_eq!(Status::Forbidden.http(), 403);
        // what Postgres clients see: a wrong password, a refused write
        assert_eq!(Status::Unauthenticated.wire().sqlstate, "28P01");
        assert_eq!(Status::Forbidden.wire().sqlstate, "42501");
        assert_eq!(
            Status::Internal.client_message(&"disk /secret/path failed"),
            "internal error; see the server log"
        );
        assert_eq!(Status::InvalidArgument.client_message(&"bad id"), "bad id");
    }
}
