#!/usr/bin/env python3
"""Build the demo Parquet files shipped in src/demo/ from the shared CSVs.

Writes (pyarrow, snappy compression, no pandas index / metadata):
  telco_customers.parquet  <- telco_churn_ibm.csv   (7043 rows)
      customer_id int64 = 1..7043 in CSV row order, then every CSV column in order:
      churn string; female, senior_citizen, partner, dependents, tenure,
      phone_service, paperless_billing int64; monthly_charges, total_charges
      float64 (11 NULLs in total_charges kept as NULL); all other columns string.
  cdnow_orders.parquet     <- cdnow_transactions.csv (69659 rows)
      customer_id int64, order_date date32, number_of_cds int64, dollar_value float64

Usage (from the repo root):
  $HOME/.cache/augur-venv/bin/python tests/reference/make_demo_data.py <csv_dir> src/demo/
where <csv_dir> holds telco_churn_ibm.csv and cdnow_transactions.csv
(see src/demo/SOURCES.md for where those come from).
"""
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TELCO_INT = ["female", "senior_citizen", "partner", "dependents", "tenure",
             "phone_service", "paperless_billing"]
TELCO_FLOAT = ["monthly_charges", "total_charges"]


def read_header(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n").split(",")


def make_telco(src, dst):
    cols = read_header(src)
    types = {}
    for c in cols:
        if c in TELCO_INT:
            types[c] = pa.int64()
        elif c in TELCO_FLOAT:
            types[c] = pa.float64()
        else:
            types[c] = pa.string()
    opts = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                null_values=[""], quoted_strings_can_be_null=False)
    t = pacsv.read_csv(src, convert_options=opts)
    assert t.column_names == cols, t.column_names
    n = t.num_rows
    ids = pa.array(range(1, n + 1), type=pa.int64())
    t = t.add_column(0, "customer_id", ids)
    # Only total_charges may hold NULLs.
    for c in t.column_names:
        if c != "total_charges":
            assert t.column(c).null_count == 0, c
    t = t.replace_schema_metadata(None)
    pq.write_table(t, dst, compression="snappy")
    return t


def make_cdnow(src, dst):
    types = {"customer_id": pa.int64(), "order_date": pa.date32(),
             "number_of_cds": pa.int64(), "dollar_value": pa.float64()}
    t = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(column_types=types))
    assert t.column_names == list(types), t.column_names
    for c in t.column_names:
        assert t.column(c).null_count == 0, c
    t = t.replace_schema_metadata(None)
    pq.write_table(t, dst, compression="snappy")
    return t


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    telco = make_telco(os.path.join(src_dir, "telco_churn_ibm.csv"),
                       os.path.join(out_dir, "telco_customers.parquet"))
    cdnow = make_cdnow(os.path.join(src_dir, "cdnow_transactions.csv"),
                       os.path.join(out_dir, "cdnow_orders.parquet"))
    print("telco_customers.parquet:", telco.num_rows, "rows,",
          "total_charges nulls =", telco.column("total_charges").null_count,
          ", sum monthly_charges =", round(pc.sum(telco.column("monthly_charges")).as_py(), 2))
    print("cdnow_orders.parquet:", cdnow.num_rows, "rows,",
          "customers =", len(pc.unique(cdnow.column("customer_id"))),
          ", total dollar_value =", round(pc.sum(cdnow.column("dollar_value")).as_py(), 2),
          ", dates", pc.min(cdnow.column("order_date")).as_py(), "..",
          pc.max(cdnow.column("order_date")).as_py())


if __name__ == "__main__":
    main()
