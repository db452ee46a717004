//! The names real producers use: attribute keys, event names and span names, one
//! module per vendor or convention. The normalizer reads telemetry only through
//! these constants, and `docs/vendors.md` documents each of them (a test checks
//! that every key listed here appears there).

/// Declares a module of attribute-key constants plus `ALL`, the list of them.
macro_rules! keys {
    (
        $(#[$m:meta])*
        pub mod $vendor:ident {
            $( $(#[$km:meta])* $name:ident = $key:literal, )*
        }
        $( names { $( $(#[$nm:meta])* $nname:ident = $nval:literal, )* } )?
    ) => {
        $(#[$m])*
        pub mod $vendor {
            $( $(#[$km])* pub const $name: &str = $key; )*
            /// Every attribute key above.
            pub const ALL: &[&str] = &[ $( $name ),* ];
            $( $( $(#[$nm])* pub const $nname: &str = $nval; )* )?
        }
    };
}

keys! {
    /// OpenTelemetry resource and log conventions every producer shares.
    pub mod otel {
        SERVICE_NAME = "service.name",
        SERVICE_VERSION = "service.version",
        HOST_NAME = "host.name",
        HOST_ID = "host.id",
        /// The event name of a log record sent as an attribute (older SDKs, Codex, Claude).
        EVENT_NAME = "event.name",
        /// RFC 3339 time some producers add to log records.
        EVENT_TIMESTAMP = "event.timestamp",
        ERROR_TYPE = "error.type",
        ERROR_MESSAGE = "error.message",
        HTTP_STATUS_CODE = "http.response.status_code",
        SERVER_ADDRESS = "server.address",
        USER_ID = "user.id",
        ENDUSER_ID = "enduser.id",
        SESSION_ID = "session.id",
    }
}

keys! {
    /// OpenAI Codex CLI (log events of scope `codex_otel.log_only`, spans of `codex_exec`).
    pub mod codex {
        CONVERSATION_ID = "conversation.id",
        APP_VERSION = "app.version",
        USER_ACCOUNT_ID = "user.account_id",
        USER_EMAIL = "user.email",
        MODEL = "model",
        CALL_ID = "call_id",
        ITEM_ID = "item.id",
        TOOL_NAME = "tool_name",
        TURN_ID_DOTTED = "turn.id",
        TURN_ID = "turn_id",
        MCP_SERVERS = "mcp_servers",
        MCP_SERVER = "mcp_server",
        APPROVAL_POLICY = "approval_policy",
        SANDBOX_POLICY = "sandbox_policy",
        PROVIDER_NAME = "provider_name",
        PROMPT = "prompt",
        DURATION_MS = "duration_ms",
        INPUT_TOKEN_COUNT = "input_token_count",
        OUTPUT_TOKEN_COUNT = "output_token_count",
        DECISION = "decision",
        SOURCE = "source",
        OUTCOME = "outcome",
        INITIAL_DURATION_MS = "initial_duration_ms",
        TOOL_RESULT_SEQ = "tool_result_seq",
        ARGUMENTS = "arguments",
        OUTPUT = "output",
        SUCCESS = "success",
        STATUS = "status",
        RISK_LEVEL = "risk_level",
        RATIONALE = "rationale",
        /// Network-proxy verdicts (the event has been renamed between releases).
        HOST = "host",
        DOMAIN = "domain",
        REASON = "reason",
    }
    names {
        /// Prefix of every Codex event name.
        EVENT_PREFIX = "codex.",
        /// Service names and scopes start with this.
        SERVICE_PREFIX = "codex",
        EVENT_CONVERSATION_STARTS = "conversation_starts",
        EVENT_USER_PROMPT = "user_prompt",
        EVENT_API_REQUEST = "api_request",
        EVENT_WEBSOCKET_REQUEST = "websocket_request",
        EVENT_SSE_EVENT = "sse_event",
        EVENT_WEBSOCKET_EVENT = "websocket_event",
        EVENT_TOOL_DECISION = "tool_decision",
        EVENT_SANDBOX_OUTCOME = "sandbox_outcome",
        EVENT_TOOL_RESULT = "tool_result",
        EVENT_GUARDIAN_ASSESSMENT = "guardian_assessment",
        EVENT_STARTUP_PHASE = "startup_phase",
        EVENT_TURN_TTFT = "turn_ttft",
        /// The tool span; the only span that gives a row.
        SPAN_EXEC_COMMAND = "exec_command",
    }
}

keys! {
    /// Anthropic Claude Code (log events of `com.anthropic.claude_code.events`,
    /// beta spans of `com.anthropic.claude_code.tracing`).
    pub mod claude {
        SESSION_ID = "session.id",
        PROMPT_ID = "prompt.id",
        EVENT_SEQUENCE = "event.sequence",
        APP_VERSION = "app.version",
        USER_EMAIL = "user.email",
        USER_ACCOUNT_UUID = "user.account_uuid",
        USER_ID = "user.id",
        TOOL_NAME = "tool_name",
        TOOL_USE_ID = "tool_use_id",
        MODEL = "model",
        PROMPT = "prompt",
        PROMPT_TEXT = "prompt_text",
        INPUT_TOKENS = "input_tokens",
        OUTPUT_TOKENS = "output_tokens",
        DURATION_MS = "duration_ms",
        ERROR = "error",
        STATUS_CODE = "status_code",
        RESPONSE = "response",
        DECISION = "decision",
        SOURCE = "source",
        TOOL_PARAMETERS = "tool_parameters",
        TOOL_INPUT = "tool_input",
        SUCCESS = "success",
        TOOL_RESULT_SIZE_BYTES = "tool_result_size_bytes",
        /// `default`, `acceptEdits`, `plan`, `bypassPermissions` (on tool decisions).
        PERMISSION_MODE = "permission_mode",
        /// Span attributes of `claude_code.tool`.
        FULL_COMMAND = "full_command",
        FILE_PATH = "file_path",
        URL = "url",
        /// Inside `tool_parameters`.
        MCP_SERVER_NAME = "mcp_server_name",
        /// Attributes of the `tool.output` span event.
        OUTPUT = "output",
        CONTENT = "content",
    }
    names {
        /// Prefix of event names in the body, and of span names.
        EVENT_PREFIX = "claude_code.",
        SERVICE_NAME = "claude-code",
        SCOPE_PREFIX = "com.anthropic.claude_code",
        EVENT_USER_PROMPT = "user_prompt",
        EVENT_API_REQUEST = "api_request",
        EVENT_API_ERROR = "api_error",
        EVENT_ASSISTANT_RESPONSE = "assistant_response",
        EVENT_TOOL_DECISION = "tool_decision",
        EVENT_TOOL_RESULT = "tool_result",
        SPAN_TOOL = "claude_code.tool",
        SPAN_BLOCKED_ON_USER = "claude_code.tool.blocked_on_user",
        SPAN_EXECUTION = "claude_code.tool.execution",
        SPAN_EVENT_TOOL_OUTPUT = "tool.output",
        /// `source` words that carry the decision themselves.
        SOURCE_USER_ABORT = "user_abort",
        SOURCE_USER_REJECT = "user_reject",
    }
}

keys! {
    /// OpenTelemetry GenAI semantic conventions (current and deprecated names).
    pub mod genai {
        OPERATION_NAME = "gen_ai.operation.name",
        CONVERSATION_ID = "gen_ai.conversation.id",
        AGENT_NAME = "gen_ai.agent.name",
        AGENT_ID = "gen_ai.agent.id",
        PROVIDER_NAME = "gen_ai.provider.name",
        /// Deprecated for `gen_ai.provider.name`.
        SYSTEM = "gen_ai.system",
        REQUEST_MODEL = "gen_ai.request.model",
        RESPONSE_MODEL = "gen_ai.response.model",
        USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens",
        USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens",
        /// Deprecated for `gen_ai.usage.input_tokens`.
        USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens",
        /// Deprecated for `gen_ai.usage.output_tokens`.
        USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens",
        INPUT_MESSAGES = "gen_ai.input.messages",
        OUTPUT_MESSAGES = "gen_ai.output.messages",
        TOOL_NAME = "gen_ai.tool.name",
        TOOL_CALL_ID = "gen_ai.tool.call.id",
        TOOL_TYPE = "gen_ai.tool.type",
        TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments",
        TOOL_CALL_RESULT = "gen_ai.tool.call.result",
        /// Not in the conventions; some MCP instrumentations send it.
        TOOL_SERVER = "gen_ai.tool.server",
        EVENT_CONTENT = "gen_ai.event.content",
    }
    names {
        /// Fields of the messages in `gen_ai.input.messages` / `gen_ai.output.messages`
        /// and in the bodies of the per-message events.
        MSG_ROLE = "role",
        MSG_PARTS = "parts",
        MSG_CONTENT = "content",
        MSG_MESSAGE = "message",
        MSG_TOOL_CALLS = "tool_calls",
        MSG_FUNCTION = "function",
        MSG_ID = "id",
        MSG_NAME = "name",
        MSG_ARGUMENTS = "arguments",
        PART_TYPE = "type",
        PART_TYPE_TOOL_CALL = "tool_call",
        ROLE_USER = "user",
        OP_CHAT = "chat",
        OP_TEXT_COMPLETION = "text_completion",
        OP_GENERATE_CONTENT = "generate_content",
        OP_EMBEDDINGS = "embeddings",
        OP_INVOKE_AGENT = "invoke_agent",
        OP_EXECUTE_TOOL = "execute_tool",
        TOOL_TYPE_MCP = "mcp",
        EVENT_USER_MESSAGE = "gen_ai.user.message",
        EVENT_ASSISTANT_MESSAGE = "gen_ai.assistant.message",
        EVENT_CHOICE = "gen_ai.choice",
        EVENT_TOOL_MESSAGE = "gen_ai.tool.message",
        EVENT_OPERATION_DETAILS = "gen_ai.client.inference.operation.details",
        EVENT_SYSTEM_MESSAGE = "gen_ai.system.message",
    }
}

keys! {
    /// OpenTelemetry MCP semantic conventions.
    pub mod mcp {
        METHOD_NAME = "mcp.method.name",
        SESSION_ID = "mcp.session.id",
        /// Not in the conventions; several instrumentations send it.
        SERVER_NAME = "mcp.server.name",
        /// JSON-RPC conventions: the request id, the only id of a call on the `mcp`
        /// SDK's server spans.
        JSONRPC_REQUEST_ID = "jsonrpc.request.id",
    }
    names {
        METHOD_TOOLS_CALL = "tools/call",
        /// Prefix of MCP tool names (`mcp__server__tool`, Claude Code and Codex).
        TOOL_PREFIX = "mcp__",
    }
}

keys! {
    /// OpenInference (Arize Phoenix and its instrumentations).
    pub mod openinference {
        SPAN_KIND = "openinference.span.kind",
        LLM_MODEL_NAME = "llm.model_name",
        LLM_PROVIDER = "llm.provider",
        LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt",
        LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion",
        INPUT_VALUE = "input.value",
        OUTPUT_VALUE = "output.value",
        TOOL_NAME = "tool.name",
        /// The tool's JSON **schema**, not the call's arguments: never read as arguments.
        TOOL_PARAMETERS = "tool.parameters",
        TOOL_CALL_ID = "tool_call.id",
    }
    names {
        KIND_LLM = "LLM",
        KIND_AGENT = "AGENT",
        KIND_TOOL = "TOOL",
        /// Flattened messages: `llm.output_messages.N.message.tool_calls.M.tool_call.id`, …
        OUTPUT_MESSAGES_PREFIX = "llm.output_messages.",
        INPUT_MESSAGES_PREFIX = "llm.input_messages.",
        MESSAGE_TOOL_CALLS = "message.tool_calls.",
        TOOL_CALL_ID_FIELD = "tool_call.id",
        TOOL_CALL_NAME_FIELD = "tool_call.function.name",
        TOOL_CALL_ARGUMENTS_FIELD = "tool_call.function.arguments",
    }
}

keys! {
    /// Traceloop / OpenLLMetry (`traceloop-sdk` and its `opentelemetry-instrumentation-*`).
    pub mod traceloop {
        SPAN_KIND = "traceloop.span.kind",
        ENTITY_NAME = "traceloop.entity.name",
        /// JSON `{"args": [...], "kwargs": {...}}` of the decorated function.
        ENTITY_INPUT = "traceloop.entity.input",
        ENTITY_OUTPUT = "traceloop.entity.output",
        /// `Traceloop.set_association_properties({"session_id": …})`.
        SESSION_ID = "traceloop.association.properties.session_id",
        /// OpenLLMetry model-call spans: `chat`, `completion`, `embedding`.
        LLM_REQUEST_TYPE = "llm.request.type",
    }
    names {
        /// Every Traceloop attribute starts with this.
        KEY_PREFIX = "traceloop.",
        KIND_TOOL = "tool",
        KIND_WORKFLOW = "workflow",
        KIND_AGENT = "agent",
        REQUEST_TYPE_CHAT = "chat",
        REQUEST_TYPE_COMPLETION = "completion",
        INPUT_ARGS = "args",
        INPUT_KWARGS = "kwargs",
        /// Flattened messages: `gen_ai.completion.N.tool_calls.M.id` / `.name` / `.arguments`.
        COMPLETION_PREFIX = "gen_ai.completion.",
        PROMPT_PREFIX = "gen_ai.prompt.",
        TOOL_CALLS = "tool_calls.",
        TOOL_CALL_ID_FIELD = "id",
        TOOL_CALL_NAME_FIELD = "name",
        TOOL_CALL_ARGUMENTS_FIELD = "arguments",
    }
}

#[cfg(test)]
mod tests {
    /// `docs/vendors.md` is the user's reference for every key: each constant must appear there.
    #[test]
    fn every_key_is_documented_in_vendors_md() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vendors.md"),
        )
        .expect("docs/vendors.md");
        let mut missing = Vec::new();
        for (vendor, keys) in [
            ("otel", super::otel::ALL),
            ("codex", super::codex::ALL),
            ("claude", super::claude::ALL),
            ("genai", super::genai::ALL),
            ("mcp", super::mcp::ALL),
            ("openinference", super::openinference::ALL),
            ("traceloop", super::traceloop::ALL),
        ] {
            for k in keys {
                // `key`, or `key = value` inside one code span
                let documented = [format!("`{k}`"), format!("`{k} ")]
                    .iter()
                    .any(|form| doc.contains(form.as_str()));
                if !documented {
                    missing.push(format!("{vendor}: {k}"));
                }
            }
        }
        assert!(missing.is_empty(), "not in docs/vendors.md: {missing:?}");
    }
}
