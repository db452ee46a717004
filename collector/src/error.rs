//! The collector's one error type and its mapping to a [`Status`].

use std::sync::Arc;

use schemas::Status;

use crate::otlp_json::JsonError;
use crate::wal::WalError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid OTLP/JSON: {0}")]
    Json(#[from] JsonError),
    #[error("invalid OTLP protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("unsupported Content-Type {0:?}: send application/x-protobuf or application/json")]
    UnsupportedMediaType(String),
    #[error("unsupported Content-Encoding {0:?}: send gzip or no encoding")]
    UnsupportedEncoding(String),
    #[error("invalid gzip body: {0}")]
    BadGzip(std::io::Error),
    #[error("request body is over the limit of {limit} bytes (after decompression)")]
    TooLarge { limit: usize },
    #[error(
        "request holds too many records, attributes or values: it would take more than {limit} bytes decoded; send smaller batches"
    )]
    TooManyElements { limit: usize },
    #[error("request nests messages or values deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("no such endpoint: {0}")]
    NotFound(String),
    #[error(transparent)]
    Auth(#[from] schemas::auth::AuthError),
    #[error("intake is at its memory limit ({what}: {bytes} of {limit} bytes); retry later")]
    Overloaded {
        what: &'static str,
        bytes: usize,
        limit: usize,
    },
    #[error(
        "the request would take about {price} bytes in memory once decoded, more than the {limit} bytes requests may hold (--memory-limit); send smaller batches"
    )]
    OverMemoryLimit { price: usize, limit: usize },
    #[error("more than {limit} requests are being received at once; retry later")]
    TooManyRequests { limit: usize },
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Wal(Arc<WalError>),
    #[error("another Vigil process is writing to {0} (data/LOCK is held)")]
    Locked(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("no stored table {0}")]
    UnknownTable(String),
}

impl From<Arc<WalError>> for Error {
    fn from(e: Arc<WalError>) -> Self {
        Error::Wal(e)
    }
}

impl From<WalError> for Error {
    fn from(e: WalError) -> Self {
        Error::Wal(Arc::new(e))
    }
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::Json(_) | Error::Protobuf(_) | Error::BadGzip(_) | Error::BodyRead(_) => {
                Status::InvalidArgument
            }
            Error::UnsupportedMediaType(_) | Error::UnsupportedEncoding(_) => {
                Status::UnsupportedMediaType
            }
            Error::TooLarge { .. }
            | Error::TooManyElements { .. }
            | Error::OverMemoryLimit { .. } => Status::PayloadTooLarge,
            Error::TooDeep { .. } => Status::InvalidArgument,
            Error::NotFound(_) => Status::NotFound,
            Error::Auth(e) => e.status(),
            Error::Overloaded { .. } | Error::TooManyRequests { .. } => Status::Overloaded,
            Error::ShuttingDown => Status::Unavailable,
            Error::Wal(e) => match e.as_ref() {
                WalError::Full => Status::Overloaded,
                WalError::Closed | WalError::Unwritable(_) => Status::Unavailable,
                WalError::Io(_)
                | WalError::WrongTag { .. }
                | WalError::Corrupt { .. }
                | WalError::SequenceGap { .. }
                | WalError::BadPayload(_)
                | WalError::Unreplayable { .. }
                | WalError::SegmentNotEmpty { .. } => Status::Internal,
            },
            Error::Locked(_)
            | Error::Io(_)
            | Error::Arrow(_)
            | Error::Parquet(_)
            | Error::UnknownTable(_) => Status::Internal,
        }
    }
}
