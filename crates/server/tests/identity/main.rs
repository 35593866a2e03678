//! The identity context's integration tests: who may do what, across servers.

#[path = "../common/mod.rs"]
mod common;

mod identity;
mod privacy;
