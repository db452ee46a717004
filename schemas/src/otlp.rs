//! Rendering OTLP `AnyValue`s as text (attribute maps) and as JSON (nested values),
//! and typed look-ups that accept what real exporters send (ints as strings, …).

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics, metric};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use serde_json::Value as Json;

/// One level of the shape every OTLP request shares: a resource with its scopes,
/// or a scope with its records (spans, log records or metrics). Walking requests
/// through this trait keeps the three signals on one code path wherever they are
/// treated alike.
pub trait Level {
    /// `Resource` or `InstrumentationScope`.
    type Head;
    /// The scopes of a resource, or the records of a scope.
    type Item;
    fn head(&self) -> Option<&Self::Head>;
    fn head_mut(&mut self) -> Option<&mut Self::Head>;
    fn schema_url(&self) -> &str;
    fn items(&self) -> &[Self::Item];
    fn items_mut(&mut self) -> &mut [Self::Item];
}

/// A request's resources: their scopes hold the records.
pub trait ResourceLevel: Level<Head = Resource, Item = Self::Scope> {
    type Scope: Level<Head = InstrumentationScope>;
}

/// The records of the resources `R`.
pub type RecordOf<R> = <<R as ResourceLevel>::Scope as Level>::Item;

macro_rules! level {
    ($($ty:ty: $head_field:ident: $head:ty, $items:ident: $item:ty;)*) => {$(
        impl Level for $ty {
            type Head = $head;
            type Item = $item;
            fn head(&self) -> Option<&$head> {
                self.$head_field.as_ref()
            }
            fn head_mut(&mut self) -> Option<&mut $head> {
                self.$head_field.as_mut()
            }
            fn schema_url(&self) -> &str {
                &self.schema_url
            }
            fn items(&self) -> &[$item] {
                &self.$items
            }
            fn items_mut(&mut self) -> &mut [$item] {
                &mut self.$items
            }
        }
    )*};
}

level! {
    ResourceSpans: resource: Resource, scope_spans: ScopeSpans;
    ScopeSpans: scope: InstrumentationScope, spans: Span;
    ResourceLogs: resource: Resource, scope_logs: ScopeLogs;
    ScopeLogs: scope: InstrumentationScope, log_records: LogRecord;
    ResourceMetrics: resource: Resource, scope_metrics: ScopeMetrics;
    ScopeMetrics: scope: InstrumentationScope, metrics: Metric;
}

impl ResourceLevel for ResourceSpans {
    type Scope = ScopeSpans;
}
impl ResourceLevel for ResourceLogs {
    type Scope = ScopeLogs;
}
impl ResourceLevel for ResourceMetrics {
    type Scope = ScopeMetrics;
}

/// The resource and scope of records being visited.
#[derive(Debug, Clone, Copy)]
pub struct RecordOrigin<'a> {
    pub resource: Option<&'a Resource>,
    pub resource_schema_url: &'a str,
    pub scope: Option<&'a InstrumentationScope>,
    pub scope_schema_url: &'a str,
}

impl<'a> RecordOrigin<'a> {
    pub fn resource_attributes(&self) -> &'a [KeyValue] {
        self.resource.map_or(&[], |r| &r.attributes)
    }
    pub fn scope_name(&self) -> &'a str {
        self.scope.map_or("", |s| s.name.as_str())
    }
}

/// Every scope of a request with its origin, in the order sent.
pub fn scopes<R: ResourceLevel>(
    resources: &[R],
) -> impl Iterator<Item = (RecordOrigin<'_>, &[RecordOf<R>])> {
    resources.iter().flat_map(|r| {
        r.items().iter().map(move |s| {
            (
                RecordOrigin {
                    resource: r.head(),
                    resource_schema_url: r.schema_url(),
                    scope: s.head(),
                    scope_schema_url: s.schema_url(),
                },
                s.items(),
            )
        })
    })
}

/// How many records (spans, log records, metrics) a request holds.
pub fn record_count<R: ResourceLevel>(resources: &[R]) -> usize {
    scopes(resources).map(|(_, records)| records.len()).sum()
}

/// The attributes of every data point of a metric, mutably (redaction).
pub fn data_point_attributes_mut(m: &mut Metric) -> Vec<&mut Vec<KeyValue>> {
    macro_rules! attributes_of {
        ($points:expr) => {
            $points.iter_mut().map(|p| &mut p.attributes).collect()
        };
    }
    match &mut m.data {
        None => Vec::new(),
        Some(metric::Data::Gauge(g)) => attributes_of!(g.data_points),
        Some(metric::Data::Sum(s)) => attributes_of!(s.data_points),
        Some(metric::Data::Histogram(h)) => attributes_of!(h.data_points),
        Some(metric::Data::ExponentialHistogram(h)) => attributes_of!(h.data_points),
        Some(metric::Data::Summary(s)) => attributes_of!(s.data_points),
    }
}

/// How many data points a metric holds.
pub fn data_point_count(m: &Metric) -> usize {
    match &m.data {
        None => 0,
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
    }
}

/// Appends the text form of `v` to `out`: strings as sent, numbers in decimal,
/// booleans as `true`/`false`, bytes as hex, arrays and kv-lists as compact JSON.
pub fn render_text(v: &AnyValue, out: &mut String) {
    use std::fmt::Write as _;
    match &v.value {
        None => {}
        Some(Value::StringValue(s)) => out.push_str(s),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        // a profiles dictionary index; rendered as the number
        Some(Value::StringValueStrindex(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) => {
            let _ = write!(out, "{d}");
        }
        Some(Value::BytesValue(b)) => out.push_str(&hex_lower(b)),
        Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => out.push_str(&to_json(v).to_string()),
    }
}

/// Lowercase hex, table-driven (`hex::encode` goes through a char iterator and
/// showed up in intake profiles: every record has two or three ids).
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 0xf) as usize]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// The text form of `v` as a new string.
pub fn text(v: &AnyValue) -> String {
    let mut s = String::new();
    render_text(v, &mut s);
    s
}

/// `v` as a JSON value (kv-lists become objects; a repeated key keeps its last value).
pub fn to_json(v: &AnyValue) -> Json {
    match &v.value {
        None => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(i)) => Json::from(*i),
        Some(Value::StringValueStrindex(i)) => Json::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map_or_else(|| Json::String(d.to_string()), Json::Number),
        Some(Value::BytesValue(b)) => Json::String(hex_lower(b)),
        Some(Value::ArrayValue(a)) => Json::Array(a.values.iter().map(to_json).collect()),
        Some(Value::KvlistValue(kv)) => attrs_json(&kv.values),
    }
}

/// A list of key-values as a JSON object.
pub fn attrs_json(kvs: &[KeyValue]) -> Json {
    Json::Object(
        kvs.iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    kv.value.as_ref().map_or(Json::Null, to_json),
                )
            })
            .collect(),
    )
}

/// The first string-ish value of `key`, as text. Used for well-known attributes.
pub fn find<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    kvs.iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

pub fn find_str<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match find(kvs, key)?.value.as_ref()? {
        Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Attribute look-up with the rules real clients need: for a repeated key the
/// *last* value wins (Codex repeats `thread.id`); `""` counts as absent; numbers
/// and booleans sent as strings are parsed.
#[derive(Debug, Clone, Copy)]
pub struct Attrs<'a>(pub &'a [KeyValue]);

impl<'a> Attrs<'a> {
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.0
            .iter()
            .rev()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// A non-empty string form of `key` (numbers and booleans rendered).
    pub fn str(&self, key: &str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        match self.value(key)? {
            Value::StringValue(s) if s.is_empty() => None,
            Value::StringValue(s) => Some(Cow::Borrowed(s.as_str())),
            Value::IntValue(i) => Some(Cow::Owned(i.to_string())),
            Value::StringValueStrindex(i) => Some(Cow::Owned(i.to_string())),
            Value::DoubleValue(d) => Some(Cow::Owned(d.to_string())),
            Value::BoolValue(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::ArrayValue(_) | Value::KvlistValue(_) | Value::BytesValue(_) => {
                let v = AnyValue {
                    value: self.value(key).cloned(),
                };
                Some(Cow::Owned(text(&v)))
            }
        }
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.str(key).map(|s| s.into_owned())
    }

    /// First present key among `keys`.
    pub fn first_of(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.string(k))
    }

    pub fn i64(&self, key: &str) -> Option<i64> {
        match self.value(key)? {
            Value::IntValue(i) => Some(*i),
            Value::DoubleValue(d) if d.is_finite() => Some(*d as i64),
            Value::StringValue(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(|f| f as i64)
                })
            }
            _ => None,
        }
    }

    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.value(key)? {
            Value::IntValue(i) => Some(*i as f64),
            Value::DoubleValue(d) => Some(*d),
            Value::StringValue(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            Value::BoolValue(b) => Some(*b),
            Value::IntValue(i) => Some(*i != 0),
            Value::StringValue(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    /// A JSON value: a string attribute that holds JSON is parsed, a structured
    /// attribute converted.
    pub fn json(&self, key: &str) -> Option<serde_json::Value> {
        match self.value(key)? {
            Value::StringValue(s) => serde_json::from_str(s).ok(),
            other => Some(to_json(&AnyValue {
                value: Some(other.clone()),
            })),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn last_duplicate_wins_and_strings_parse() {
        let kvs = vec![
            kv("thread.id", Value::IntValue(7)),
            kv("thread.id", Value::StringValue("01a2-uuid".into())),
            kv("n", Value::StringValue("75".into())),
            kv("ok", Value::StringValue("true".into())),
            kv("empty", Value::StringValue(String::new())),
            kv("d", Value::DoubleValue(2.5)),
        ];
        let a = Attrs(&kvs);
        assert_eq!(a.string("thread.id").as_deref(), Some("01a2-uuid"));
        assert_eq!(a.i64("n"), Some(75));
        assert_eq!(a.bool("ok"), Some(true));
        assert_eq!(a.string("empty"), None);
        assert_eq!(a.string("d").as_deref(), Some("2.5"));
        assert_eq!(a.i64("d"), Some(2));
        assert_eq!(a.first_of(&["missing", "n"]).as_deref(), Some("75"));
    }

    #[test]
    fn hex_matches_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_lower(&bytes), hex::encode(&bytes));
        assert_eq!(hex_lower(&[]), "");
    }

    #[test]
    fn text_rendering() {
        let arr = AnyValue {
            value: Some(Value::ArrayValue(
                opentelemetry_proto::tonic::common::v1::ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(Value::StringValue("x".into())),
                        },
                        AnyValue {
                            value: Some(Value::IntValue(1)),
                        },
                    ],
                },
            )),
        };
        assert_eq!(text(&arr), r#"["x",1]"#);
        assert_eq!(
            text(&AnyValue {
                value: Some(Value::BytesValue(vec![1, 2]))
            }),
            "0102"
        );
        assert_eq!(text(&AnyValue { value: None }), "");
    }
}
