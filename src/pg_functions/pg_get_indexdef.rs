//! `pg_get_indexdef(index oid [, column int4, pretty bool]) → text`: the
//! `CREATE INDEX` command of an index, or the definition of one of its key
//! columns. Augur has no indexes, so this is NULL for every oid — what
//! PostgreSQL 15 returns for an oid that is not an index's
//! (`SELECT pg_get_indexdef(0)` → NULL). pgjdbc's `getIndexInfo` (DBeaver's
//! index tab) and SQLAlchemy's `get_indexes` call it on `pg_index` rows,
//! of which there are none.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct PgGetIndexdef {
    signature: Signature,
}

impl ScalarUDFImpl for PgGetIndexdef {
    fn name(&self) -> &str {
        "pg_get_indexdef"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))
    }
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(PgGetIndexdef {
        signature: Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(3)],
            Volatility::Stable,
        ),
    })
}
