//! Mapping unit tests, one per vendor field or quirk (docs/vendors.md, "Real-client behaviour").

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

use super::*;

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v.into())),
    })
}
fn i(v: i64) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::IntValue(v)),
    })
}
fn kv(k: &str, v: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: v,
        ..Default::default()
    }
}

fn logs(service: &str, scope: &str, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s(service)), kv("host.name", s("vm"))],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn codex(attrs: Vec<KeyValue>) -> LogRecord {
    let mut a = vec![
        kv("conversation.id", s("conv-1")),
        kv("app.version", s("0.169.0")),
    ];
    a.extend(attrs);
    LogRecord {
        time_unix_nano: 0,
        observed_time_unix_nano: 1_795_480_994_052_980_481,
        attributes: a,
        ..Default::default()
    }
}

fn codex_events(records: Vec<LogRecord>) -> Vec<AgentEvent> {
    from_logs(&logs("codex_exec", "codex_otel.log_only", records), 7)
}

fn claude(seq: i64, name: &str, attrs: Vec<KeyValue>) -> LogRecord {
    let mut a = vec![
        kv("session.id", s("sess-1")),
        kv("prompt.id", s("prompt-1")),
        kv("event.name", s(name)),
        kv("event.sequence", i(seq)),
    ];
    a.extend(attrs);
    LogRecord {
        time_unix_nano: 1_795_481_016_460_000_000,
        observed_time_unix_nano: 1_795_481_016_460_000_000,
        body: s(&format!("claude_code.{name}")),
        attributes: a,
        ..Default::default()
    }
}

fn claude_events(records: Vec<LogRecord>) -> Vec<AgentEvent> {
    from_logs(
        &logs("claude-code", "com.anthropic.claude_code.events", records),
        7,
    )
}

#[test]
fn codex_zero_time_takes_observed_time_and_string_ints_parse() {
    let ev = codex_events(vec![codex(vec![
        kv("event.name", s("codex.tool_result")),
        kv("call_id", s("call_1")),
        kv("tool_name", s("exec_command")),
        kv("duration_ms", s("75")),
        kv("success", s("true")),
        kv("tool_result_seq", s("2")),
        kv(
            "arguments",
            s(r#"{"cmd": "cat README.md", "yield_time_ms": 10000}"#),
        ),
        kv(
            "output",
            s("Chunk ID: 1\nProcess exited with code 0\nOutput:\nhello\n"),
        ),
    ])]);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.ts, 1_795_480_994_052_980_481);
    assert_eq!(e.kind, "tool_result");
    assert_eq!(e.session_id.as_deref(), Some("conv-1"));
    assert_eq!(e.duration_ms, Some(75));
    assert_eq!(e.seq, Some(2));
    assert_eq!(e.command.as_deref(), Some("cat README.md"));
    assert_eq!(e.paths_read, vec!["README.md"]);
    assert_eq!(e.exit_code, Some(0));
    assert_eq!(e.output_bytes, Some(6));
    assert_eq!(e.outcome.as_deref(), Some("success"));
    assert_eq!(e.decision, None);
}

#[test]
fn codex_exec_policy_rejection_is_a_policy_deny() {
    let ev = codex_events(vec![codex(vec![
        kv("event.name", s("codex.tool_result")),
        kv("call_id", s("call_2")),
        kv("tool_name", s("exec_command")),
        kv("success", s("false")),
        kv("arguments", s(r#"{"cmd": "rm -rf /tmp/vigil-victim"}"#)),
        kv(
            "output",
            s(
                r#"exec_command failed: CreateProcess { message: "Rejected(\"`rm -rf` rejected: no\")" }"#,
            ),
        ),
    ])]);
    let e = &ev[0];
    assert_eq!(
        (e.decision, e.decision_source),
        (Some("deny"), Some("policy"))
    );
    assert_eq!(e.outcome.as_deref(), Some("rejected"));
    assert_eq!(e.output_bytes, None);
    assert_eq!(e.paths_written, vec!["/tmp/vigil-victim"]);
}

#[test]
fn codex_decisions_sandbox_and_reviewer_in_any_casing() {
    let ev = codex_events(vec![
        codex(vec![
            kv("event.name", s("codex.tool_decision")),
            kv("call_id", s("c")),
            kv("decision", s("Approved")),
            kv("source", s("Config")),
        ]),
        codex(vec![
            kv("event.name", s("codex.sandbox_outcome")),
            kv("call_id", s("c")),
            kv("outcome", s("denied")),
        ]),
        codex(vec![
            kv("event.name", s("codex.tool_decision")),
            kv("call_id", s("d")),
            kv("decision", s("denied")),
            kv("source", s("AutomatedReviewer")),
        ]),
        codex(vec![
            kv("event.name", s("codex.guardian_assessment")),
            kv("item.id", s("d")),
            kv("turn.id", s("t1")),
            kv("outcome", s("deny")),
            kv("rationale", s("too risky")),
        ]),
    ]);
    assert_eq!(
        (ev[0].kind, ev[0].decision, ev[0].decision_source),
        ("tool_decision", Some("allow"), Some("config"))
    );
    assert_eq!(
        (ev[1].kind, ev[1].decision, ev[1].decision_source),
        ("sandbox", Some("deny"), Some("sandbox"))
    );
    assert_eq!(
        (ev[2].decision, ev[2].decision_source),
        (Some("deny"), Some("reviewer"))
    );
    assert_eq!(
        (
            ev[3].kind,
            ev[3].tool_call_id.as_deref(),
            ev[3].turn_id.as_deref()
        ),
        ("review", Some("d"), Some("t1"))
    );
}

#[test]
fn codex_reviewer_prompt_links_to_the_reviewed_session() {
    let prompt = "The following is the Codex agent history whose request action you are assessing.\n...\nReviewed Codex session id: 01a20b01-c0f6-7de1-9b2e-e4873fe89a98\n";
    let ev = codex_events(vec![codex(vec![
        kv("event.name", s("codex.user_prompt")),
        kv("prompt", s(prompt)),
    ])]);
    assert_eq!(ev[0].agent.as_deref(), Some("codex-reviewer"));
    assert_eq!(
        ev[0].parent_session_id.as_deref(),
        Some("01a20b01-c0f6-7de1-9b2e-e4873fe89a98")
    );
}

#[test]
fn codex_plan_network_and_unknown_events() {
    let ev = codex_events(vec![
        codex(vec![
            kv("event.name", s("codex.tool_result")),
            kv("tool_name", s("update_plan")),
            kv("call_id", s("p")),
            kv("success", s("true")),
            kv(
                "arguments",
                s(
                    r#"{"explanation":"start","plan":[{"step":"read code","status":"in_progress"}]}"#,
                ),
            ),
            kv("output", s("Plan updated")),
        ]),
        codex(vec![
            kv("event.name", s("codex.network_proxy_decision")),
            kv("host", s("Evil.Example")),
            kv("decision", s("DENY")),
        ]),
        codex(vec![kv("event.name", s("codex.brand_new_event"))]),
        LogRecord {
            severity_text: "DEBUG".into(),
            body: s("flushing OTEL metrics"),
            ..Default::default()
        },
    ]);
    assert_eq!(ev.len(), 3, "the DEBUG record is not an agent event");
    assert_eq!(ev[0].kind, "plan_update");
    assert_eq!(
        ev[0].plan.as_deref(),
        Some(r#"[{"status":"in_progress","step":"read code"}]"#)
    );
    assert_eq!(
        (
            ev[1].kind,
            ev[1].network_host.as_deref(),
            ev[1].decision_source
        ),
        ("network", Some("evil.example"), Some("proxy"))
    );
    assert_eq!(ev[1].network_decision, Some("deny"));
    assert_eq!(
        (ev[2].kind, ev[2].event_name.as_deref()),
        ("other", Some("codex.brand_new_event"))
    );
}

#[test]
fn claude_decisions_results_and_sequence() {
    let ev = claude_events(vec![
        claude(
            6,
            "tool_decision",
            vec![
                kv("decision", s("reject")),
                kv("source", s("config")),
                kv("tool_name", s("Bash")),
                kv("tool_use_id", s("toolu_03")),
                kv(
                    "tool_parameters",
                    s(r#"{"bash_command":"rm","full_command":"rm -rf /tmp/x"}"#),
                ),
            ],
        ),
        claude(
            9,
            "tool_result",
            vec![
                kv("tool_name", s("Read")),
                kv("tool_use_id", s("toolu_02")),
                kv("success", s("true")),
                kv("duration_ms", s("25")),
                kv(
                    "tool_input",
                    s(r#"{"file_path":"/home/dev/.aws/credentials"}"#),
                ),
                kv("tool_result_size_bytes", s("125")),
            ],
        ),
        claude(
            10,
            "tool_decision",
            vec![
                kv("decision", s("accept")),
                kv("source", s("user_temporary")),
                kv("tool_use_id", s("t4")),
            ],
        ),
        claude(
            11,
            "tool_decision",
            vec![
                kv("decision", s("reject")),
                kv("source", s("user_abort")),
                kv("tool_use_id", s("t5")),
            ],
        ),
    ]);
    let e = &ev[0];
    assert_eq!(
        (e.kind, e.decision, e.decision_source),
        ("tool_decision", Some("deny"), Some("config"))
    );
    assert_eq!((e.seq, e.turn_id.as_deref()), (Some(6), Some("prompt-1")));
    assert_eq!(e.command.as_deref(), Some("rm -rf /tmp/x"));
    assert_eq!(e.event_name.as_deref(), Some("claude_code.tool_decision"));
    let r = &ev[1];
    assert_eq!(r.paths_read, vec!["/home/dev/.aws/credentials"]);
    assert_eq!((r.duration_ms, r.output_bytes), (Some(25), Some(125)));
    assert_eq!(
        (ev[2].decision, ev[2].decision_source),
        (Some("allow"), Some("user"))
    );
    assert_eq!(
        (ev[3].decision, ev[3].decision_source),
        (Some("abort"), Some("user"))
    );
}

#[test]
fn claude_missing_optional_attributes_still_map() {
    let ev = claude_events(vec![claude(
        1,
        "tool_result",
        vec![kv("tool_name", s("Bash"))],
    )]);
    assert_eq!(ev[0].kind, "tool_result");
    assert_eq!(ev[0].tool_call_id, None);
    assert_eq!(ev[0].command, None);
    assert_eq!(ev[0].outcome, None);
}

#[test]
fn event_ids_are_stable_and_distinct() {
    let rec = || {
        codex(vec![
            kv("event.name", s("codex.user_prompt")),
            kv("prompt", s("hi")),
        ])
    };
    let a = codex_events(vec![rec()]);
    let b = codex_events(vec![rec()]);
    assert_eq!(a[0].event_id, b[0].event_id);
    let c = codex_events(vec![codex(vec![
        kv("event.name", s("codex.user_prompt")),
        kv("prompt", s("hi!")),
    ])]);
    assert_ne!(a[0].event_id, c[0].event_id);
}

fn spans(service: &str, scope: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s(service))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn span_of(name: &str, id: u8, parent: Option<u8>, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 1_500_000_000,
        attributes: attrs,
        ..Default::default()
    }
}

#[test]
fn claude_spans_fold_decision_and_execution_into_the_tool_row() {
    let mut tool = span_of(
        "claude_code.tool",
        2,
        Some(1),
        vec![
            kv("gen_ai.tool.name", s("Read")),
            kv("gen_ai.tool.call.id", s("toolu_02")),
            kv("file_path", s("/home/dev/.aws/credentials")),
        ],
    );
    tool.events.push(span::Event {
        name: "tool.output".into(),
        attributes: vec![kv("content", s("[default]\n"))],
        ..Default::default()
    });
    let ev = from_spans(
        &spans(
            "claude-code",
            "com.anthropic.claude_code.tracing",
            vec![
                span_of("claude_code.interaction", 1, None, vec![]),
                tool,
                span_of(
                    "claude_code.tool.blocked_on_user",
                    3,
                    Some(2),
                    vec![kv("decision", s("accept")), kv("source", s("config"))],
                ),
                span_of(
                    "claude_code.tool.execution",
                    4,
                    Some(2),
                    vec![kv(
                        "success",
                        Some(AnyValue {
                            value: Some(Value::BoolValue(true)),
                        }),
                    )],
                ),
            ],
        ),
        0,
    );
    assert_eq!(ev.len(), 1, "{ev:#?}");
    let e = &ev[0];
    assert_eq!(
        (e.kind, e.tool_call_id.as_deref()),
        ("tool_call", Some("toolu_02"))
    );
    assert_eq!(e.paths_read, vec!["/home/dev/.aws/credentials"]);
    assert_eq!(
        (e.decision, e.decision_source),
        (Some("allow"), Some("config"))
    );
    assert_eq!(
        (e.outcome.as_deref(), e.output_bytes),
        (Some("success"), Some(10))
    );
    assert_eq!(e.duration_ms, Some(500));
}

#[test]
fn genai_current_and_deprecated_names() {
    let ev = from_spans(
        &spans(
            "acme-agent",
            "acme",
            vec![
                span_of(
                    "chat gpt-5",
                    1,
                    None,
                    vec![
                        kv("gen_ai.operation.name", s("chat")),
                        kv("gen_ai.conversation.id", s("conv-9")),
                        kv("gen_ai.request.model", s("gpt-5")),
                        kv("gen_ai.usage.input_tokens", i(10)),
                        kv("gen_ai.usage.output_tokens", s("3")),
                    ],
                ),
                span_of(
                    "chat old",
                    2,
                    None,
                    vec![
                        kv("gen_ai.operation.name", s("chat")),
                        kv("gen_ai.system", s("openai")),
                        kv("gen_ai.request.model", s("gpt-4")),
                        kv("gen_ai.usage.prompt_tokens", i(11)),
                        kv("gen_ai.usage.completion_tokens", i(4)),
                    ],
                ),
            ],
        ),
        0,
    );
    assert_eq!(
        (
            ev[0].kind,
            ev[0].model.as_deref(),
            ev[0].input_tokens,
            ev[0].output_tokens
        ),
        ("model_call", Some("gpt-5"), Some(10), Some(3))
    );
    assert_eq!(ev[0].session_id.as_deref(), Some("conv-9"));
    assert_eq!(
        (
            ev[1].input_tokens,
            ev[1].output_tokens,
            ev[1].text.as_deref()
        ),
        (Some(11), Some(4), Some("openai"))
    );
}

#[test]
fn genai_refused_tool_is_an_app_deny_and_mcp_has_a_server() {
    let mut refused = span_of(
        "execute_tool shell",
        1,
        None,
        vec![
            kv("gen_ai.operation.name", s("execute_tool")),
            kv("gen_ai.tool.name", s("shell")),
            kv("gen_ai.tool.call.id", s("call_9")),
            kv(
                "gen_ai.tool.call.arguments",
                s(r#"{"command":"terraform destroy -auto-approve"}"#),
            ),
            kv("gen_ai.tool.call.result", s("Command blocked by policy")),
            kv("error.type", s("tool_error")),
        ],
    );
    refused.status = Some(Status {
        code: 2,
        message: String::new(),
    });
    let mcp = span_of(
        "tools/call exec",
        2,
        None,
        vec![
            kv("mcp.method.name", s("tools/call")),
            kv("gen_ai.tool.name", s("exec")),
            kv("mcp.server.name", s("shady-tools")),
            kv("mcp.session.id", s("m-1")),
        ],
    );
    let ev = from_spans(&spans("acme-agent", "acme", vec![refused, mcp]), 0);
    assert_eq!(
        (
            ev[0].decision,
            ev[0].decision_source,
            ev[0].outcome.as_deref()
        ),
        (Some("deny"), Some("app"), Some("rejected"))
    );
    assert_eq!(
        ev[0].command.as_deref(),
        Some("terraform destroy -auto-approve")
    );
    assert_eq!(
        (ev[1].kind, ev[1].mcp_server.as_deref()),
        ("mcp_call", Some("shady-tools"))
    );
}

#[test]
fn genai_message_events_repeated_in_history_share_an_id() {
    let msg = |t: u64| LogRecord {
        time_unix_nano: t,
        event_name: "gen_ai.user.message".into(),
        body: Some(AnyValue {
            value: Some(Value::KvlistValue(
                opentelemetry_proto::tonic::common::v1::KeyValueList {
                    values: vec![kv("content", s("fix the bug"))],
                },
            )),
        }),
        attributes: vec![kv("gen_ai.conversation.id", s("c1"))],
        ..Default::default()
    };
    let ev = from_logs(
        &logs(
            "app",
            "opentelemetry.instrumentation.openai_v2",
            vec![msg(1), msg(2)],
        ),
        0,
    );
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].event_id, ev[1].event_id);
    assert_eq!(ev[0].text.as_deref(), Some("fix the bug"));
}

#[test]
fn rows_build_a_batch_in_the_table_schema() {
    let ev = claude_events(vec![claude(
        1,
        "user_prompt",
        vec![kv("prompt", s("hello"))],
    )]);
    let batch = to_batch(&ev).unwrap().unwrap();
    assert_eq!(batch.schema(), crate::events::AgentEventColumns::schema());
    assert_eq!(batch.num_rows(), 1);
    assert!(to_batch(&[]).unwrap().is_none());
}

#[test]
fn codex_span_event_twins_are_not_counted_twice() {
    // Codex repeats log events as span events, stripped; only the exec_command span itself maps
    let mut exec = span_of(
        "exec_command",
        5,
        Some(4),
        vec![
            kv("call_id", s("call_1")),
            kv("conversation.id", s("conv-1")),
            kv("turn.id", s("turn-1")),
            kv("thread.id", i(7)),
            kv("thread.id", s("conv-1")),
        ],
    );
    for name in [
        "codex.tool_decision",
        "codex.tool_result",
        "codex.tool_call_received",
    ] {
        exec.events.push(span::Event {
            name: name.into(),
            attributes: vec![kv("event.name", s(name)), kv("call_id", s("call_1"))],
            ..Default::default()
        });
    }
    let handle = span_of(
        "handle_responses",
        4,
        None,
        vec![kv("gen_ai.usage.input_tokens", i(5))],
    );
    let ev = from_spans(&spans("codex_exec", "codex_exec", vec![handle, exec]), 0);
    assert_eq!(ev.len(), 1, "{ev:#?}");
    assert_eq!(
        (
            ev[0].kind,
            ev[0].tool_call_id.as_deref(),
            ev[0].turn_id.as_deref()
        ),
        ("tool_call", Some("call_1"), Some("turn-1"))
    );
    assert_eq!(
        ev[0].session_id.as_deref(),
        Some("conv-1"),
        "the session never comes from thread.id"
    );
}

#[test]
fn empty_string_ids_are_absent() {
    let rec = LogRecord {
        trace_id: Vec::new(),
        span_id: Vec::new(),
        ..codex(vec![kv("event.name", s("codex.sse_event"))])
    };
    let ev = codex_events(vec![
        rec,
        codex(vec![
            kv("event.name", s("codex.user_prompt")),
            kv("prompt", s("x")),
        ]),
    ]);
    assert_eq!(ev.len(), 1, "sse_event without tokens is chatter");
    assert_eq!(
        (ev[0].trace_id.as_deref(), ev[0].span_id.as_deref()),
        (None, None)
    );
}

#[test]
fn event_timestamp_is_the_last_resort_for_time() {
    let rec = LogRecord {
        time_unix_nano: 0,
        observed_time_unix_nano: 0,
        attributes: vec![
            kv("event.name", s("codex.user_prompt")),
            kv("event.timestamp", s("2026-11-24T00:43:14.130Z")),
        ],
        ..Default::default()
    };
    let ev = codex_events(vec![rec]);
    assert_eq!(ev[0].ts, 1_795_480_994_130_000_000);
    let none = LogRecord {
        attributes: vec![kv("event.name", s("codex.user_prompt"))],
        ..Default::default()
    };
    assert_eq!(codex_events(vec![none])[0].ts, 7, "finally the ingest time");
}

#[test]
fn claude_event_name_from_the_body_when_the_attribute_is_missing() {
    let mut rec = claude(3, "user_prompt", vec![kv("prompt", s("hi"))]);
    rec.attributes.retain(|kv| kv.key != "event.name");
    let ev = claude_events(vec![rec]);
    assert_eq!((ev[0].kind, ev[0].text.as_deref()), ("prompt", Some("hi")));
}
