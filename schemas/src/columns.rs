//! Tables declared once. A [`columns!`](crate::columns) declaration lists each
//! column's name and type, in schema order; from it come the Arrow schema and a
//! struct holding one typed Arrow builder per column, named like the column.
//! Rows are filled by name (`b.session_id.append_option(..)`), so reordering or
//! swapping columns in a declaration can never write a value into the wrong one,
//! and a column left unfilled fails `finish` (lengths differ) instead of shifting
//! the others.
//!
//! A declaration may end with a column *group* (`then envelope: Envelope`): a
//! struct declared the same way whose columns follow (the raw tables share
//! their envelope and partition columns that way).

use std::marker::PhantomData;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, MapBuilder, StringBuilder, TimestampNanosecondBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

/// A column type: its Arrow type, nullability and builder.
pub trait ColumnType {
    type Builder: ArrayBuilder;
    const NULLABLE: bool = true;
    fn data_type() -> DataType;
    fn builder(capacity: usize) -> Self::Builder;
    fn finish(b: &mut Self::Builder) -> ArrayRef;
}

/// A group of columns (a table, or part of one).
pub trait Columns: Sized {
    fn with_capacity(rows: usize) -> Self;
    /// Appends this group's fields, in order.
    fn fields(out: &mut Vec<Field>);
    /// Appends this group's finished arrays, in the order of [`Columns::fields`].
    fn finish_into(&mut self, out: &mut Vec<ArrayRef>);
    /// The Arrow schema of this declaration (built once).
    fn schema() -> SchemaRef;

    fn field_list() -> Vec<Field> {
        let mut v = Vec::new();
        Self::fields(&mut v);
        v
    }

    /// The rows appended so far, as a batch of [`Columns::schema`].
    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let mut cols = Vec::new();
        self.finish_into(&mut cols);
        RecordBatch::try_new(Self::schema(), cols)
    }
}

macro_rules! primitive {
    ($(#[$m:meta])* $name:ident, $builder:ty, $dt:expr) => {
        primitive!($(#[$m])* $name, $builder, $dt, |capacity| <$builder>::with_capacity(capacity));
    };
    ($(#[$m:meta])* $name:ident, $builder:ty, $dt:expr, |$cap:ident| $new:expr) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name;
        impl ColumnType for $name {
            type Builder = $builder;
            fn data_type() -> DataType {
                $dt
            }
            fn builder($cap: usize) -> $builder {
                $new
            }
            fn finish(b: &mut $builder) -> ArrayRef {
                Arc::new(b.finish())
            }
        }
    };
}

// strings: room for the rows, the bytes grow as needed
primitive!(Utf8, StringBuilder, DataType::Utf8, |capacity| {
    StringBuilder::with_capacity(capacity, capacity * 8)
});
primitive!(Int32, Int32Builder, DataType::Int32);
primitive!(Int64, Int64Builder, DataType::Int64);
primitive!(UInt32, UInt32Builder, DataType::UInt32);
primitive!(UInt64, UInt64Builder, DataType::UInt64);
primitive!(Float64, Float64Builder, DataType::Float64);
primitive!(Boolean, BooleanBuilder, DataType::Boolean);

impl Utf8 {
    /// `None` for the empty string: OTLP's "absent" for ids and names.
    pub fn append_non_empty(b: &mut StringBuilder, s: &str) {
        if s.is_empty() {
            b.append_null()
        } else {
            b.append_value(s)
        }
    }
}

/// Nanoseconds since the epoch, UTC.
#[derive(Debug)]
pub struct Timestamp;
impl ColumnType for Timestamp {
    type Builder = TimestampNanosecondBuilder;
    fn data_type() -> DataType {
        crate::tables::ts_type()
    }
    fn builder(capacity: usize) -> Self::Builder {
        TimestampNanosecondBuilder::with_capacity(capacity)
    }
    fn finish(b: &mut Self::Builder) -> ArrayRef {
        Arc::new(b.finish().with_timezone("UTC"))
    }
}

/// `Map<Utf8, Utf8>`: attributes as text (see [`crate::tables`]).
#[derive(Debug)]
pub struct AttrMap;
pub type AttrMapBuilder = MapBuilder<StringBuilder, StringBuilder>;
impl ColumnType for AttrMap {
    type Builder = AttrMapBuilder;
    fn data_type() -> DataType {
        crate::tables::attr_map_type()
    }
    fn builder(capacity: usize) -> Self::Builder {
        MapBuilder::with_capacity(None, StringBuilder::new(), StringBuilder::new(), capacity)
    }
    fn finish(b: &mut Self::Builder) -> ArrayRef {
        Arc::new(b.finish())
    }
}

/// A list of `T` (items nullable, named `item`).
#[derive(Debug)]
pub struct List<T>(PhantomData<T>);
impl<T: ColumnType> ColumnType for List<T>
where
    T::Builder: 'static,
{
    type Builder = ListBuilder<T::Builder>;
    fn data_type() -> DataType {
        DataType::List(Arc::new(Field::new("item", T::data_type(), true)))
    }
    fn builder(capacity: usize) -> Self::Builder {
        ListBuilder::with_capacity(T::builder(capacity), capacity)
    }
    fn finish(b: &mut Self::Builder) -> ArrayRef {
        Arc::new(b.finish())
    }
}

/// `T`, never null.
#[derive(Debug)]
pub struct Required<T>(PhantomData<T>);
impl<T: ColumnType> ColumnType for Required<T> {
    type Builder = T::Builder;
    const NULLABLE: bool = false;
    fn data_type() -> DataType {
        T::data_type()
    }
    fn builder(capacity: usize) -> Self::Builder {
        T::builder(capacity)
    }
    fn finish(b: &mut Self::Builder) -> ArrayRef {
        T::finish(b)
    }
}

/// A value a column's builder takes (`None` appends NULL).
pub trait Fill<V> {
    fn fill(&mut self, v: V);
}

macro_rules! fill_primitive {
    ($($builder:ty: $native:ty),*) => {$(
        impl Fill<$native> for $builder {
            fn fill(&mut self, v: $native) {
                self.append_value(v)
            }
        }
        impl Fill<Option<$native>> for $builder {
            fn fill(&mut self, v: Option<$native>) {
                self.append_option(v)
            }
        }
        impl Fill<&$native> for $builder {
            fn fill(&mut self, v: &$native) {
                self.append_value(*v)
            }
        }
        impl Fill<&Option<$native>> for $builder {
            fn fill(&mut self, v: &Option<$native>) {
                self.append_option(*v)
            }
        }
    )*};
}
fill_primitive!(Int32Builder: i32, Int64Builder: i64, UInt64Builder: u64, TimestampNanosecondBuilder: i64);

/// Row fields by reference (`row_table!`).
impl Fill<&String> for StringBuilder {
    fn fill(&mut self, v: &String) {
        self.append_value(v)
    }
}
impl Fill<&Option<String>> for StringBuilder {
    fn fill(&mut self, v: &Option<String>) {
        self.append_option(v.as_deref())
    }
}
impl Fill<&&'static str> for StringBuilder {
    fn fill(&mut self, v: &&'static str) {
        self.append_value(v)
    }
}
impl Fill<&Option<&'static str>> for StringBuilder {
    fn fill(&mut self, v: &Option<&'static str>) {
        self.append_option(*v)
    }
}
/// A list of strings; an empty list is stored as NULL (never `[]`).
impl Fill<&Vec<String>> for ListBuilder<StringBuilder> {
    fn fill(&mut self, v: &Vec<String>) {
        if v.is_empty() {
            self.append_null();
        } else {
            for s in v {
                self.values().append_value(s);
            }
            self.append(true);
        }
    }
}

/// Declares a column group: a struct of one builder per column, in schema order.
///
/// ```
/// schemas::columns! {
///     /// Two columns.
///     pub struct Pair {
///         name: schemas::columns::Required<schemas::columns::Utf8>,
///         size: schemas::columns::Int64,
///     }
/// }
/// use schemas::columns::Columns as _;
/// let mut b = Pair::with_capacity(1);
/// b.name.append_value("a");
/// b.size.append_null();
/// let batch = b.finish().unwrap();
/// assert_eq!(batch.schema().field(1).name(), "size");
/// assert_eq!(batch.num_rows(), 1);
/// ```
#[macro_export]
macro_rules! columns {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$cmeta:meta])* $col:ident : $ty:ty ),* $(,)?
        }
        $( then $gfield:ident : $gty:ty )?
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$cmeta])* pub $col: <$ty as $crate::columns::ColumnType>::Builder, )*
            $( pub $gfield: $gty, )?
        }

        impl $crate::columns::Columns for $name {
            fn with_capacity(rows: usize) -> Self {
                $name {
                    $( $col: <$ty as $crate::columns::ColumnType>::builder(rows), )*
                    $( $gfield: <$gty as $crate::columns::Columns>::with_capacity(rows), )?
                }
            }
            fn fields(out: &mut Vec<::arrow::datatypes::Field>) {
                $( out.push(::arrow::datatypes::Field::new(
                    stringify!($col),
                    <$ty as $crate::columns::ColumnType>::data_type(),
                    <$ty as $crate::columns::ColumnType>::NULLABLE,
                )); )*
                $( <$gty as $crate::columns::Columns>::fields(out); )?
            }
            fn finish_into(&mut self, out: &mut Vec<::arrow::array::ArrayRef>) {
                $( out.push(<$ty as $crate::columns::ColumnType>::finish(&mut self.$col)); )*
                $( $crate::columns::Columns::finish_into(&mut self.$gfield, out); )?
            }
            fn schema() -> ::arrow::datatypes::SchemaRef {
                static SCHEMA: ::std::sync::LazyLock<::arrow::datatypes::SchemaRef> =
                    ::std::sync::LazyLock::new(|| {
                        ::std::sync::Arc::new(::arrow::datatypes::Schema::new(
                            <$name as $crate::columns::Columns>::field_list(),
                        ))
                    });
                ::std::sync::Arc::clone(&SCHEMA)
            }
        }
    };
}

/// A row struct and its table in one declaration: each field's name, Rust type
/// and column type (see [`columns!`]), plus a leading column with a fixed value
/// and a trailing group filled from one field. Generates the struct, the columns
/// and `append_row`, which fills every column from the field of its name.
#[macro_export]
macro_rules! row_table {
    (
        $(#[$rmeta:meta])*
        $vis:vis struct $row:ident in $cols:ident {
            $first:ident: $fty:ty = $fval:expr;
            $( $(#[$fmeta:meta])* $field:ident: $rty:ty => $cty:ty, )*
        }
        then $gfield:ident: $gty:ty = $gsrc:ident
    ) => {
        $(#[$rmeta])*
        $vis struct $row {
            $( $(#[$fmeta])* pub $field: $rty, )*
        }

        $crate::columns! {
            #[doc = concat!("The columns of [`", stringify!($row), "`] rows.")]
            $vis struct $cols {
                $first: $fty,
                $( $(#[$fmeta])* $field: $cty, )*
            }
            then $gfield: $gty
        }

        impl $cols {
            /// Appends one row.
            pub fn append_row(&mut self, row: &$row) {
                $crate::columns::Fill::fill(&mut self.$first, $fval);
                $( $crate::columns::Fill::fill(&mut self.$field, &row.$field); )*
                $crate::columns::Fill::fill(&mut self.$gfield, row.$gsrc);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::columns! {
        struct Inner {
            b: Int64,
        }
    }
    crate::columns! {
        struct Outer {
            a: Required<Utf8>,
            tags: List<Utf8>,
        }
        then inner: Inner
    }

    #[test]
    fn fields_follow_the_declaration_and_groups_come_last() {
        let schema = Outer::schema();
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["a", "tags", "b"]);
        assert!(!schema.field(0).is_nullable());
        assert!(schema.field(1).is_nullable());
    }

    #[test]
    fn a_column_left_unfilled_fails_instead_of_shifting_the_others() {
        let mut b = Outer::with_capacity(1);
        b.a.append_value("x");
        b.tags.append_null();
        assert!(b.finish().is_err(), "b was never filled");
        let mut b = Outer::with_capacity(1);
        b.a.append_value("x");
        b.tags.values().append_value("t");
        b.tags.append(true);
        b.inner.b.append_value(7);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), Outer::schema());
    }
}
