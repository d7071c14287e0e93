//! The built-in demo dataset, compiled into the binary (see `src/demo/SOURCES.md`):
//! `telco_customers` (IBM telco churn, 7,043 customers, with `customer_id`
//! added) and `cdnow_orders` (CDNOW, 69,659 orders of 23,570 customers).

use std::path::Path;

use crate::fsutil::write_atomic;

/// The demo tables: file name and Parquet bytes.
pub const TABLES: &[(&str, &[u8])] = &[
    (
        "telco_customers.parquet",
        include_bytes!("demo/telco_customers.parquet"),
    ),
    (
        "cdnow_orders.parquet",
        include_bytes!("demo/cdnow_orders.parquet"),
    ),
];

/// The marker that says the demo tables were installed in a data directory.
const INSTALLED: &str = ".demo-installed";

/// Installs the demo tables unless they were installed in `dir` before.
pub fn install_once(dir: &Path) -> std::io::Result<()> {
    let marker = dir.join(INSTALLED);
    if marker.exists() {
        return Ok(());
    }
    install(dir)?;
    write_atomic(&marker, |_| Ok(()))
}

/// Writes the demo tables into `dir` (atomically, skipping files that exist).
pub fn install(dir: &Path) -> std::io::Result<()> {
    for (name, bytes) in TABLES {
        let path = dir.join(name);
        if !path.exists() {
            write_atomic(&path, |f| std::io::Write::write_all(f, bytes))?;
        }
    }
    Ok(())
}
