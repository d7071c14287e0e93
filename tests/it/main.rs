//! Integration tests, one binary (linking is the slow part of a build):
//! the `.slt` files in-process and over the wire, protocol and error
//! behaviour with tokio-postgres, restarts, and the scikit-learn references.

mod binary;
mod cancel;
mod catalog;
mod common;
mod embed;
mod parameter_types;
mod portals;
mod raw;
mod reference;
mod replays;
mod restart;
mod slt;
mod wire;
