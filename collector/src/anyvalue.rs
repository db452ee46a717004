//! Attribute-value rendering, shared with the normalizer (see [`schemas::otlp`]).

pub use schemas::otlp::*;
