//! M-Station's domain types and rules, shared by every layer.
//! Nothing here does I/O: no database, no network, no clock, no file system.

pub mod events;
pub mod fuzz;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod market;
pub mod media;
pub mod net;
pub mod page;
pub mod talent;
pub mod tracking;
pub mod validate;
pub mod webhooks;

pub use identity::{OrgKind, Permission, Role, TenantScope, TokenScope};
