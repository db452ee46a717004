//! Rendering query results: text table, CSV, JSON lines, and the API shape.

use arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};

use crate::QueryResult;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "csv" => Ok(OutputFormat::Csv),
            "json" => Ok(OutputFormat::Json),
            other => Err(format!("unknown format {other:?}: use table, csv or json")),
        }
    }
}

pub fn render(result: &QueryResult, format: OutputFormat) -> Result<String, Error> {
    match format {
        OutputFormat::Table => {
            Ok(arrow::util::pretty::pretty_format_batches(&result.batches)?.to_string())
        }
        OutputFormat::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut buf);
                if result.batches.is_empty() {
                    w.write(&RecordBatch::new_empty(std::sync::Arc::clone(
                        &result.schema,
                    )))?;
                }
                for b in &result.batches {
                    w.write(b)?;
                }
            }
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        OutputFormat::Json => {
            let mut out = String::new();
            for row in rows_as_objects(result)? {
                out.push_str(&Value::Object(row).to_string());
                out.push('\n');
            }
            Ok(out)
        }
    }
}

/// Each row as a JSON object keyed by column name (nulls included).
pub fn rows_as_objects(result: &QueryResult) -> Result<Vec<Map<String, Value>>, Error> {
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow::json::writer::JsonArray>(&mut buf);
        for b in &result.batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    let v: Value =
        serde_json::from_slice(&buf).map_err(|e| Error::Sql(format!("rendering JSON: {e}")))?;
    Ok(match v {
        Value::Array(rows) => rows
            .into_iter()
            .filter_map(|r| match r {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// `{"columns": [...], "rows": [[...], ...]}`.
pub fn api_json(result: &QueryResult) -> Result<Value, Error> {
    let columns: Vec<String> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let rows: Vec<Value> = rows_as_objects(result)?
        .into_iter()
        .map(|mut m| {
            Value::Array(
                columns
                    .iter()
                    .map(|c| m.remove(c).unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    Ok(serde_json::json!({"columns": columns, "rows": rows}))
}
