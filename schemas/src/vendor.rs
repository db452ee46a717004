//! Which producer's conventions a record follows, decided once: the raw tables'
//! `vendor` column and the choice of normalizer both come from [`Vendor::detect`].

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::attrs::{claude, codex, openinference, traceloop};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// OpenAI Codex CLI.
    Codex,
    /// Anthropic Claude Code.
    ClaudeCode,
    /// OpenInference instrumentations (`openinference.span.kind`).
    OpenInference,
    /// Traceloop / OpenLLMetry (`traceloop.*`, with or without `gen_ai.*`).
    Traceloop,
    /// OpenTelemetry GenAI semantic conventions (`gen_ai.*`).
    GenAi,
    /// OpenTelemetry MCP conventions (`mcp.*`) without `gen_ai.*`.
    Mcp,
    /// Anything else.
    Otel,
}

impl Vendor {
    /// From the resource's `service.name`, the scope name and the record's attributes.
    pub fn detect(service_name: &str, scope_name: &str, attrs: &[KeyValue]) -> Vendor {
        if service_name.starts_with(codex::SERVICE_PREFIX)
            || scope_name.starts_with(codex::SERVICE_PREFIX)
        {
            return Vendor::Codex;
        }
        if service_name == claude::SERVICE_NAME || scope_name.starts_with(claude::SCOPE_PREFIX) {
            return Vendor::ClaudeCode;
        }
        let mut vendor = Vendor::Otel;
        let mut traceloop = false;
        for kv in attrs {
            if kv.key == openinference::SPAN_KIND {
                return Vendor::OpenInference;
            }
            if kv.key.starts_with(traceloop::KEY_PREFIX) {
                traceloop = true;
            } else if kv.key.starts_with("gen_ai.") {
                vendor = Vendor::GenAi;
            } else if kv.key.starts_with("mcp.") && vendor == Vendor::Otel {
                vendor = Vendor::Mcp;
            }
        }
        if traceloop { Vendor::Traceloop } else { vendor }
    }

    /// Whether the GenAI / MCP / OpenInference / Traceloop mapper reads this
    /// vendor's records (the vendor-neutral conventions, any app).
    pub const fn is_generic(self) -> bool {
        matches!(
            self,
            Vendor::GenAi | Vendor::Mcp | Vendor::OpenInference | Vendor::Traceloop | Vendor::Otel
        )
    }

    /// The label stored in the raw tables' `vendor` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Vendor::Codex => "codex",
            Vendor::ClaudeCode => "claude_code",
            Vendor::OpenInference => "openinference",
            Vendor::Traceloop => "traceloop",
            Vendor::GenAi => "genai",
            Vendor::Mcp => "mcp",
            Vendor::Otel => "otel",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn key(k: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue::default()),
            ..Default::default()
        }
    }

    #[test]
    fn detection_table() {
        let cases: [(&str, &str, Vec<KeyValue>, Vendor); 10] = [
            ("codex_exec", "", vec![], Vendor::Codex),
            ("", "codex_otel.log_only", vec![], Vendor::Codex),
            ("claude-code", "", vec![], Vendor::ClaudeCode),
            (
                "x",
                "com.anthropic.claude_code.events",
                vec![],
                Vendor::ClaudeCode,
            ),
            ("app", "", vec![key("gen_ai.operation.name")], Vendor::GenAi),
            (
                "app",
                "",
                vec![key("mcp.method.name"), key("gen_ai.tool.name")],
                Vendor::GenAi,
            ),
            ("app", "", vec![key("mcp.method.name")], Vendor::Mcp),
            (
                "app",
                "",
                vec![key("gen_ai.x"), key("openinference.span.kind")],
                Vendor::OpenInference,
            ),
            (
                "app",
                "",
                vec![key("gen_ai.system"), key("traceloop.workflow.name")],
                Vendor::Traceloop,
            ),
            (
                "app",
                "",
                vec![key("traceloop.span.kind")],
                Vendor::Traceloop,
            ),
        ];
        for (svc, scope, attrs, want) in cases {
            assert_eq!(Vendor::detect(svc, scope, &attrs), want, "{svc} {scope}");
        }
        assert_eq!(Vendor::detect("app", "", &[]), Vendor::Otel);
        assert_eq!(Vendor::Otel.as_str(), "otel");
    }
}
