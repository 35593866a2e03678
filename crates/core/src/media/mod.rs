//! Media: what the media context decides without I/O: the tus upload protocol's headers, safe
//! file names, what ffprobe says of a file, ASC MHL histories, and which camera file holds a
//! shot's source.

pub mod cuts;
pub mod mhl;
pub mod names;
pub mod probe;
pub mod relink;
pub mod tus;
