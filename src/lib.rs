//! Augur: customer insight in SQL.
//!
//! An embedded analytics engine on Apache DataFusion: tables from Parquet and
//! CSV files, model training, prediction, clustering and evaluation as SQL
//! functions, served over the PostgreSQL wire protocol or used in-process
//! through [`Engine`].

pub mod backends;
pub mod catalog;
mod checked_arithmetic;
pub mod demo;
pub mod engine;
pub mod errors;
pub mod fsutil;
mod int4_literals;
mod oid_array;
mod pg_casts;
pub mod pg_catalog;
pub mod pg_functions;
pub mod registry;
mod regtype_text;
pub mod server;
pub mod sql;
mod sum_numeric;
mod yield_points;

pub use engine::{Engine, EngineBuilder, Output};
pub use errors::SqlError;
pub use server::serve;
