//! The query layer's one error type.

use schemas::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQL that parses but is not allowed: DDL, DML, `COPY`, `SET`, file access.
    #[error("only read-only queries are allowed; {0} is refused")]
    NotReadOnly(&'static str),
    /// The query is wrong (syntax, unknown table or column, type error).
    #[error("{0}")]
    Sql(String),
    #[error("no Vigil data directory at {0}")]
    NoDataDir(String),
    #[error("the statement ran longer than the query timeout ({0:?}) and was stopped")]
    Timeout(std::time::Duration),
    #[error("the statement needs more memory than the query memory limit allows: {0}")]
    TooLarge(String),
    /// The parser gave up on the statement (see `parse.rs`).
    #[error(
        "the statement is too complex to parse; simplify it (e.g. fewer chained subscripts or nested parentheses)"
    )]
    TooComplex,
    #[error("query engine: {0}")]
    Engine(#[source] datafusion::error::DataFusionError),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A detection rule file that cannot be used.
    #[error(transparent)]
    Rules(#[from] crate::detect::RuleError),
    /// A bug: the engine's own statement did not give what it expected.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        match e.find_root() {
            D::SQL(..) | D::Plan(_) | D::SchemaError(..) | D::NotImplemented(_) => {
                Error::Sql(e.strip_backtrace())
            }
            D::ResourcesExhausted(m) => Error::TooLarge(m.clone()),
            _ => Error::Engine(e),
        }
    }
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::NotReadOnly(_) => Status::Forbidden,
            Error::Sql(_) => Status::InvalidArgument,
            Error::NoDataDir(_) => Status::NotFound,
            Error::Timeout(_) => Status::Timeout,
            Error::TooLarge(_) => Status::QueryTooLarge,
            Error::TooComplex => Status::StatementTooComplex,
            Error::Rules(_) => Status::InvalidArgument,
            Error::Engine(_) | Error::Arrow(_) | Error::Io(_) | Error::Internal(_) => {
                Status::Internal
            }
        }
    }
}
