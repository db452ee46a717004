//! The query layer's one error type.

use schemas::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQL that parses but is not allowed: DDL, DML, `COPY`, `SET`, file access.
    #[error("only read-only queries are allowed: {0}")]
    NotReadOnly(String),
    /// The query is wrong (syntax, unknown table or column, type error).
    #[error("{0}")]
    Sql(String),
    #[error("no Vigil data directory at {0}")]
    NoDataDir(String),
    #[error("query engine: {0}")]
    Engine(#[source] datafusion::error::DataFusionError),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        let message = e.strip_backtrace();
        match e.find_root() {
            D::Plan(m)
                if [
                    "DDL not supported",
                    "DML not supported",
                    "Statement not supported",
                ]
                .iter()
                .any(|p| m.starts_with(p)) =>
            {
                Error::NotReadOnly(message)
            }
            D::SQL(..) | D::Plan(_) | D::SchemaError(..) | D::NotImplemented(_) => {
                Error::Sql(message)
            }
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
            Error::Engine(_) | Error::Arrow(_) | Error::Io(_) => Status::Internal,
        }
    }

    pub fn client_message(&self) -> String {
        if self.status().wire().server_fault {
            "internal error; see the server log".to_string()
        } else {
            self.to_string()
        }
    }
}
