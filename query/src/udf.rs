//! SQL functions of Vigil's own, registered in every context:
//! `plan_added(previous, plan)`, `plan_removed(previous, plan)` and
//! `plan_status_changed(previous, plan)` compare two stored plans
//! ([`schemas::plan::diff`]) and return the steps as a list of strings;
//! `is_variant(command, other)` is the detector's test for "the same intent,
//! another way" (the same program, most words in common).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use schemas::plan::{PlanDiff, diff};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Added,
    Removed,
    StatusChanged,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PlanDiffUdf {
    part: Part,
    name: &'static str,
    signature: Signature,
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

impl ScalarUDFImpl for PlanDiffUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(list_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let prev = cast(&arrays[0], &DataType::Utf8)?;
        let next = cast(&arrays[1], &DataType::Utf8)?;
        let (prev, next) = (prev.as_string::<i32>(), next.as_string::<i32>());
        let mut out = ListBuilder::new(StringBuilder::new());
        for i in 0..next.len() {
            if next.is_null(i) {
                out.append_null();
                continue;
            }
            let previous = prev.is_valid(i).then(|| prev.value(i));
            let PlanDiff {
                added,
                removed,
                status_changed,
            } = diff(previous, next.value(i));
            let steps = match self.part {
                Part::Added => added,
                Part::Removed => removed,
                Part::StatusChanged => status_changed,
            };
            for s in steps {
                out.values().append_value(s);
            }
            out.append(true);
        }
        let array: ArrayRef = Arc::new(out.finish());
        Ok(ColumnarValue::Array(array))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IsVariantUdf {
    signature: Signature,
}

impl ScalarUDFImpl for IsVariantUdf {
    fn name(&self) -> &str {
        "is_variant"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let a = cast(&arrays[0], &DataType::Utf8)?;
        let b = cast(&arrays[1], &DataType::Utf8)?;
        let (a, b) = (a.as_string::<i32>(), b.as_string::<i32>());
        let out: arrow::array::BooleanArray = (0..a.len())
            .map(|i| {
                (a.is_valid(i) && b.is_valid(i))
                    .then(|| crate::detect::commands_are_variants(a.value(i), b.value(i)))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Every function of this module.
pub(crate) fn all() -> Vec<ScalarUDF> {
    let mut all: Vec<ScalarUDF> = [
        (Part::Added, "plan_added"),
        (Part::Removed, "plan_removed"),
        (Part::StatusChanged, "plan_status_changed"),
    ]
    .into_iter()
    .map(|(part, name)| {
        ScalarUDF::new_from_impl(PlanDiffUdf {
            part,
            name,
            signature: Signature::string(2, Volatility::Immutable),
        })
    })
    .collect();
    all.push(ScalarUDF::new_from_impl(IsVariantUdf {
        signature: Signature::string(2, Volatility::Immutable),
    }));
    all
}
