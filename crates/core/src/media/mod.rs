//! Media: what the media context decides without I/O: the tus upload protocol's headers, safe
//! file names, and what ffprobe says of a file.

pub mod mhl;
pub mod names;
pub mod probe;
pub mod tus;
