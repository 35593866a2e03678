//! The events context's integration tests: the live event stream, webhooks and the job queue.

#[path = "../common/mod.rs"]
mod common;

mod events_and_jobs;
