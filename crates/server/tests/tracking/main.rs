//! The tracking context's integration tests: projects to time logs, over HTTP.

#[path = "../common/mod.rs"]
mod common;

mod activity;
mod assets;
mod episodes;
mod fields;
mod locators;
mod notes;
mod playlists;
mod progress;
mod sessions;
mod tasks;
mod timelogs;
mod tracking;
mod versions;
