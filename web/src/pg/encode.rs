//! Arrow results as Postgres rows.
//!
//! Types map through `arrow-pg`: integers → `int2`/`int4`/`int8`, floats →
//! `float4`/`float8`, `Utf8` → `text`, booleans → `bool`, UTC timestamps →
//! `timestamptz` (zone-less ones → `timestamp`), lists → arrays (`text[]`, …).
//! A column `arrow-pg` cannot type (maps such as `attributes`, lists of maps) is
//! sent as `text` in Arrow's display form (`{key: value, …}`), so `SELECT *`
//! works on every table.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions as ArrowFormat};
use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch, field_into_pg_type};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse};
use pgwire::error::PgWireResult;
use pgwire::types::format::FormatOptions;
use query::QueryResult;

/// Whether `arrow-pg` sends this field as is.
fn native(field: &Arc<Field>) -> bool {
    field_into_pg_type(field).is_ok()
}

/// The schema as sent: fields `arrow-pg` cannot type become nullable `Utf8`.
pub(crate) fn wire_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                if native(f) {
                    Arc::clone(f)
                } else {
                    Arc::new(Field::new(f.name(), DataType::Utf8, true))
                }
            })
            .collect::<Vec<_>>(),
    ))
}

/// Column descriptions for `schema` in `format`.
pub(crate) fn fields(
    schema: &Schema,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<Vec<FieldInfo>> {
    arrow_schema_to_pg_fields(&wire_schema(schema), format, Some(options))
}

fn as_text(column: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
    let options = ArrowFormat::default();
    let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
    let mut out = StringBuilder::with_capacity(column.len(), column.len() * 16);
    for i in 0..column.len() {
        if column.is_null(i) {
            out.append_null();
        } else {
            out.append_value(formatter.value(i).to_string());
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `batch` with its columns converted to [`wire_schema`].
pub(crate) fn wire_batch(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let schema = batch.schema();
    let wire = wire_schema(&schema);
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            if native(f) {
                Ok(Arc::clone(c))
            } else {
                as_text(c)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(wire, columns)
}

/// The rows of `result` as a Postgres query response.
pub(crate) fn response(
    result: QueryResult,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<QueryResponse> {
    let fields = Arc::new(fields(&result.schema, format, options)?);
    let batches = result
        .batches
        .iter()
        .map(wire_batch)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pgwire::error::PgWireError::ApiError(Box::new(e)))?;
    let f = Arc::clone(&fields);
    let rows = batches
        .into_iter()
        .flat_map(move |b| encode_recordbatch(Arc::clone(&f), b))
        .collect::<Vec<_>>();
    Ok(QueryResponse::new(fields, futures::stream::iter(rows)))
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        BooleanArray, Float64Array, Int64Array, ListBuilder, MapBuilder, StringArray,
        TimestampNanosecondArray,
    };
    use pgwire::api::Type;

    use super::*;

    #[test]
    fn columns_map_to_sensible_postgres_types_and_maps_become_text() {
        let mut list = ListBuilder::new(arrow::array::StringBuilder::new());
        list.values().append_value("a.txt");
        list.append(true);
        let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        map.keys().append_value("k");
        map.values().append_value("v");
        map.append(true).unwrap();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampNanosecondArray::from(vec![1_000_000_000]).with_timezone("UTC")),
            Arc::new(StringArray::from(vec!["x"])),
            Arc::new(Int64Array::from(vec![7])),
            Arc::new(Float64Array::from(vec![1.5])),
            Arc::new(BooleanArray::from(vec![true])),
            Arc::new(list.finish()),
            Arc::new(map.finish()),
        ];
        let names = ["ts", "s", "i", "f", "b", "paths", "attributes"];
        let batch = RecordBatch::try_from_iter(names.iter().zip(columns)).unwrap();
        let fields = fields(
            &batch.schema(),
            &Format::UnifiedText,
            Arc::new(FormatOptions::default()),
        )
        .unwrap();
        let types: Vec<Type> = fields.iter().map(|f| f.datatype().clone()).collect();
        assert_eq!(
            types,
            [
                Type::TIMESTAMPTZ,
                Type::TEXT,
                Type::INT8,
                Type::FLOAT8,
                Type::BOOL,
                Type::TEXT_ARRAY,
                Type::TEXT
            ]
        );
        let wire = wire_batch(&batch).unwrap();
        let text = wire
            .column(6)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .value(0)
            .to_string();
        assert_eq!(text, "{k: v}");
        let result = QueryResult {
            schema: batch.schema(),
            batches: vec![batch],
        };
        assert!(
            response(
                result,
                &Format::UnifiedText,
                Arc::new(FormatOptions::default())
            )
            .is_ok()
        );
    }
}
