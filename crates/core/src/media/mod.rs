//! Media: what the media context decides without I/O: the tus upload protocol's headers and safe
//! file names.

pub mod names;
pub mod tus;
