//! Editorial tracking: the pure rules behind shots and cuts, starting with SMPTE timecode and
//! CMX 3600 edit decision lists. Nothing here reads files; callers hand in text.

pub mod conform;
pub mod edl;
pub mod export;
pub mod timecode;
