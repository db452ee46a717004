//! OTLP receivers. Both protocols decode, then call [`crate::Collector::export`].
//!
//! Each request passes two separate gates before its body is read: the bearer
//! token ([`schemas::auth::Tokens::check`], the one check every Vigil surface
//! uses) and admission (the in-flight limit, [`crate::Collector::admit`]).

pub(crate) mod body;
pub mod grpc;
pub mod http;
pub(crate) mod response;
