//! ASC MHL v2 (the Media Hash List of the American Society of Cinematographers): the history
//! of a card or folder's hashes kept in its `ascmhl/` folder, one generation file at a time and
//! a chain file naming each by its C4 ID. This module writes and reads those files and computes
//! the directory hashes the standard defines; walking and hashing the files is the caller's.
//!
//! Directory hashes, as the reference tool computes them: a folder's *content* hash is the hash
//! of its children's hashes (files' content hashes, folders' content hashes) in sorted order; its
//! *structure* hash is the hash of, for each child, the hash of its name followed by its hash
//! (a file's content hash, a folder's structure hash), in sorted order.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use sha2::Digest;

/// The hash formats a history may carry; this build writes `xxh64`.
pub const FORMATS: [&str; 6] = ["xxh64", "xxh3", "xxh128", "md5", "sha1", "c4"];

/// File names a history never lists.
pub const IGNORED: [&str; 3] = [".DS_Store", "ascmhl", "ascmhl/"];

/// The xxh64 of `data`, as MHL writes it (16 hex digits).
pub fn xxh64_hex(data: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh64::xxh64(data, 0))
}

/// The xxh3 (64-bit) of `data`, as MHL writes it.
pub fn xxh3_hex(data: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(data))
}

/// The xxh128 of `data`, as MHL writes it (32 hex digits).
pub fn xxh128_hex(data: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data))
}

/// Whether `name` (one file or folder name; `dir` when it is a folder) is left out by
/// `pattern`, `.gitignore`-style: `*` and `?` within a name, a trailing `/` for folders only.
pub fn ignored_by(pattern: &str, name: &str, dir: bool) -> bool {
    let (pattern, dirs_only) = match pattern.strip_suffix('/') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    if dirs_only && !dir {
        return false;
    }
    fn glob(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], n) || (!n.is_empty() && glob(p, &n[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p = pattern.trim_start_matches('/');
    !p.contains('/') && glob(p.as_bytes(), name.as_bytes())
}

/// The hex digits of a hash as bytes (the hashes of hashes are taken over bytes).
fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// The xxh64 of sorted hashes' bytes, one after another.
fn hash_of_hashes(mut hashes: Vec<String>) -> String {
    hashes.sort();
    let mut all = Vec::with_capacity(hashes.len() * 8);
    for h in &hashes {
        all.extend(hex_bytes(h));
    }
    xxh64_hex(&all)
}

/// A folder's content and structure hashes (xxh64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirHashes {
    pub content: String,
    pub structure: String,
}

/// The content and structure hashes of every folder under the root (`""` is the root itself),
/// from the xxh64 of every file (paths relative to the root, `/`-separated) and the list of
/// folders (so that an empty one is counted).
pub fn directory_hashes(
    files: &[(String, String)],
    dirs: &[String],
) -> BTreeMap<String, DirHashes> {
    // A path's folder and its name.
    fn split(p: &str) -> (&str, &str) {
        p.rsplit_once('/').unwrap_or(("", p))
    }
    // What each folder holds, gathered once: the work grows with the card, not its square.
    let mut files_in: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (path, hash) in files {
        let (dir, name) = split(path);
        files_in.entry(dir).or_default().push((name, hash));
    }
    let mut all: Vec<&str> = dirs.iter().map(String::as_str).collect();
    all.push("");
    all.sort_unstable();
    all.dedup();
    let mut subdirs_in: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in all.iter().filter(|d| !d.is_empty()) {
        subdirs_in.entry(split(d).0).or_default().push(d);
    }
    // Deepest folders first, so a folder's children are done before it.
    let depth = |d: &str| {
        if d.is_empty() {
            0
        } else {
            d.matches('/').count() + 1
        }
    };
    all.sort_by_key(|d| std::cmp::Reverse(depth(d)));
    let mut out: BTreeMap<String, DirHashes> = BTreeMap::new();
    for dir in all {
        let mut contents = Vec::new();
        let mut structures = Vec::new();
        for (name, hash) in files_in.get(dir).into_iter().flatten() {
            contents.push(hash.to_string());
            let mut bytes = name.as_bytes().to_vec();
            bytes.extend(hex_bytes(hash));
            structures.push(xxh64_hex(&bytes));
        }
        for sub in subdirs_in.get(dir).into_iter().flatten() {
            let Some(h) = out.get(*sub) else { continue };
            contents.push(h.content.clone());
            let mut bytes = split(sub).1.as_bytes().to_vec();
            bytes.extend(hex_bytes(&h.structure));
            structures.push(xxh64_hex(&bytes));
        }
        let h = DirHashes {
            content: hash_of_hashes(contents),
            structure: hash_of_hashes(structures),
        };
        out.insert(dir.to_string(), h);
    }
    out
}

/// The C4 ID of `data`: SHA-512 in base 58, padded to 90 characters with `c4` in front.
pub fn c4_id(data: &[u8]) -> String {
    c4_of(&sha2::Sha512::digest(data))
}

/// The C4 ID whose SHA-512 digest is `digest`.
fn c4_of(digest: &[u8]) -> String {
    const CHARSET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = digest.to_vec();
    let mut out = Vec::new();
    // Long division of the big-endian number by 58, digit by digit.
    while digits.iter().any(|&d| d != 0) {
        let mut rem = 0u32;
        for d in digits.iter_mut() {
            let v = (rem << 8) | u32::from(*d);
            *d = (v / 58) as u8;
            rem = v % 58;
        }
        out.push(CHARSET[rem as usize]);
    }
    while out.len() < 88 {
        out.push(b'1');
    }
    out.reverse();
    format!("c4{}", String::from_utf8(out).unwrap_or_default())
}

/// The hashes of one file in the formats asked for, fed its bytes in order as they are read.
pub struct Hasher {
    xxh64: Option<xxhash_rust::xxh64::Xxh64>,
    xxh3: Option<Box<xxhash_rust::xxh3::Xxh3>>,
    /// Whether xxh3 answers in 64 bits, 128 bits, or both.
    xxh3_64: bool,
    xxh128: bool,
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    c4: Option<sha2::Sha512>,
}

impl Hasher {
    /// A hasher for `formats` (names of [`FORMATS`]; others are left out).
    pub fn new<'a>(formats: impl IntoIterator<Item = &'a str>) -> Self {
        let mut h = Hasher {
            xxh64: None,
            xxh3: None,
            xxh3_64: false,
            xxh128: false,
            md5: None,
            sha1: None,
            c4: None,
        };
        for f in formats {
            match f {
                "xxh64" => h.xxh64 = Some(xxhash_rust::xxh64::Xxh64::new(0)),
                "xxh3" => h.xxh3_64 = true,
                "xxh128" => h.xxh128 = true,
                "md5" => h.md5 = Some(md5::Md5::new()),
                "sha1" => h.sha1 = Some(sha1::Sha1::new()),
                "c4" => h.c4 = Some(sha2::Sha512::new()),
                _ => {}
            }
        }
        if h.xxh3_64 || h.xxh128 {
            h.xxh3 = Some(Box::new(xxhash_rust::xxh3::Xxh3::new()));
        }
        h
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.xxh64 {
            h.update(data);
        }
        if let Some(h) = &mut self.xxh3 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.c4 {
            h.update(data);
        }
    }

    /// Each format's hash as MHL writes it.
    pub fn finish(self) -> BTreeMap<String, String> {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let mut out = BTreeMap::new();
        if let Some(h) = self.xxh64 {
            out.insert("xxh64".into(), format!("{:016x}", h.digest()));
        }
        if let Some(h) = self.xxh3 {
            if self.xxh3_64 {
                out.insert("xxh3".into(), format!("{:016x}", h.digest()));
            }
            if self.xxh128 {
                out.insert("xxh128".into(), format!("{:032x}", h.digest128()));
            }
        }
        if let Some(h) = self.md5 {
            out.insert("md5".into(), hex(&h.finalize()));
        }
        if let Some(h) = self.sha1 {
            out.insert("sha1".into(), hex(&h.finalize()));
        }
        if let Some(h) = self.c4 {
            out.insert("c4".into(), c4_of(&h.finalize()));
        }
        out
    }
}

/// One file of a generation: its path, size, modification time, xxh64 and what the generation
/// did with it (`original` the first time, `verified` after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    pub path: String,
    pub size: u64,
    pub modified: String,
    /// Hash format → hex digest; this build writes `xxh64`.
    pub hashes: BTreeMap<String, String>,
    pub action: String,
}

/// One folder of a generation with its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirHash {
    pub path: String,
    pub modified: String,
    pub hashes: DirHashes,
}

/// A nested history's generation that a generation refers to: its path from the folder of the
/// referring history (`A001/ascmhl/0002_A001_….mhl`) and the C4 ID of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reference {
    pub path: String,
    pub c4: String,
}

/// One generation file of a history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Generation {
    pub created: String,
    pub hostname: String,
    pub tool: String,
    pub tool_version: String,
    pub root: Option<DirHashes>,
    pub files: Vec<FileHash>,
    pub dirs: Vec<DirHash>,
    /// What the history leaves out (`.gitignore`-style patterns), beyond `IGNORED`.
    pub ignore: Vec<String>,
    /// The nested histories of folders inside this one (a card in a day's folder): the newest
    /// generation of each when this one was written.
    pub references: Vec<Reference>,
    /// Things the reader noticed that break the schema but did not stop it.
    pub warnings: Vec<String>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The XML of a generation written `now` (RFC 3339 with microseconds for hash dates).
pub fn write_generation(g: &Generation, hashdate: &str) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n",
    );
    x.push_str(&format!(
        "  <creatorinfo>\n    <creationdate>{}</creationdate>\n    <hostname>{}</hostname>\n    <tool version=\"{}\">{}</tool>\n  </creatorinfo>\n",
        esc(&g.created),
        esc(&g.hostname),
        esc(&g.tool_version),
        esc(&g.tool)
    ));
    x.push_str("  <processinfo>\n    <process>in-place</process>\n");
    if let Some(r) = &g.root {
        x.push_str(&format!(
            "    <roothash>\n      <content>\n        <xxh64 hashdate=\"{hashdate}\">{}</xxh64>\n      </content>\n      <structure>\n        <xxh64 hashdate=\"{hashdate}\">{}</xxh64>\n      </structure>\n    </roothash>\n",
            r.content, r.structure
        ));
    }
    x.push_str("    <ignore>\n");
    let mut patterns: Vec<&str> = IGNORED.to_vec();
    for p in &g.ignore {
        if !patterns.contains(&p.as_str()) {
            patterns.push(p);
        }
    }
    for p in patterns {
        x.push_str(&format!("      <pattern>{}</pattern>\n", esc(p)));
    }
    x.push_str("    </ignore>\n  </processinfo>\n  <hashes>\n");
    for f in &g.files {
        x.push_str(&format!(
            "    <hash>\n      <path size=\"{}\" lastmodificationdate=\"{}\">{}</path>\n",
            f.size,
            esc(&f.modified),
            esc(&f.path)
        ));
        for (format, hex) in &f.hashes {
            x.push_str(&format!(
                "      <{format} action=\"{}\" hashdate=\"{hashdate}\">{hex}</{format}>\n",
                esc(&f.action)
            ));
        }
        x.push_str("    </hash>\n");
    }
    for d in &g.dirs {
        x.push_str(&format!(
            "    <directoryhash>\n      <path lastmodificationdate=\"{}\">{}</path>\n      <content>\n        <xxh64 hashdate=\"{hashdate}\">{}</xxh64>\n      </content>\n      <structure>\n        <xxh64 hashdate=\"{hashdate}\">{}</xxh64>\n      </structure>\n    </directoryhash>\n",
            esc(&d.modified),
            esc(&d.path),
            d.hashes.content,
            d.hashes.structure
        ));
    }
    x.push_str("  </hashes>\n");
    if !g.references.is_empty() {
        x.push_str("  <references>\n");
        for r in &g.references {
            x.push_str(&format!(
                "    <hashlistreference>\n      <path>{}</path>\n      <c4>{}</c4>\n    </hashlistreference>\n",
                esc(&r.path),
                esc(&r.c4)
            ));
        }
        x.push_str("  </references>\n");
    }
    x.push_str("</hashlist>\n");
    x
}

/// The chain file naming each generation (sequence number, file name, C4 ID).
pub fn write_chain(entries: &[(u32, String, String)]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n",
    );
    for (n, path, c4) in entries {
        x.push_str(&format!(
            "  <hashlist sequencenr=\"{n}\">\n    <path>{}</path>\n    <c4>{}</c4>\n  </hashlist>\n",
            esc(path),
            esc(c4)
        ));
    }
    x.push_str("</ascmhldirectory>\n");
    x
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MhlError {
    #[error("the MHL file is not well-formed XML: {0}")]
    Xml(String),
    #[error("the MHL file is not an ASC MHL hash list (its root is <{0}>)")]
    NotMhl(String),
}

/// Reads a chain file: (sequence number, generation file name, C4 ID when given), in order.
pub fn parse_chain(xml: &str) -> Result<Vec<(u32, String, Option<String>)>, MhlError> {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut seq = 0;
    let (mut path, mut c4) = (String::new(), None);
    let mut rooted = false;
    loop {
        match r.read_event() {
            Err(e) => return Err(MhlError::Xml(e.to_string())),
            Ok(Event::Eof) if !stack.is_empty() => {
                return Err(MhlError::Xml(format!(
                    "the file ends inside <{}>",
                    stack.join("><")
                )));
            }
            Ok(Event::Eof) => break,
            Ok(Event::Empty(e)) if stack.is_empty() => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name != "ascmhldirectory" {
                    return Err(MhlError::NotMhl(name));
                }
                rooted = true;
            }
            Ok(Event::Start(e)) => {
                rooted = true;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() && name != "ascmhldirectory" {
                    return Err(MhlError::NotMhl(name));
                }
                if name == "hashlist" {
                    seq = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == b"sequencenr")
                        .and_then(|a| String::from_utf8_lossy(&a.value).parse().ok())
                        .unwrap_or(out.len() as u32 + 1);
                    path.clear();
                    c4 = None;
                }
                stack.push(name);
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map(|c| c.into_owned()).unwrap_or_default();
                match stack.last().map(String::as_str) {
                    Some("path") => path.push_str(&unescape(&text)),
                    Some("c4") => c4 = Some(text.trim().to_string()),
                    _ => {}
                }
            }
            Ok(Event::GeneralRef(g)) => {
                if stack.last().map(String::as_str) == Some("path") {
                    path.push_str(&entity(&String::from_utf8_lossy(&g))?);
                }
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == b"hashlist" {
                    out.push((seq, path.clone(), c4.clone()));
                }
                stack.pop();
            }
            Ok(_) => {}
        }
    }
    if !rooted {
        return Err(MhlError::NotMhl(String::new()));
    }
    Ok(out)
}

/// The text of an entity or character reference (`amp`, `#38`, `#x4E2D`); an unknown one is an
/// error.
fn entity(name: &str) -> Result<String, MhlError> {
    let known = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
            };
            return code
                .and_then(char::from_u32)
                .map(String::from)
                .ok_or_else(|| MhlError::Xml(format!("the reference &{name}; is not known")));
        }
    };
    Ok(known.to_string())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Reads a generation file. Hash elements of formats it does not know (a `<sha256>`, the legacy
/// `xxhash64be`) are kept under their own name with a warning, not refused.
pub fn parse_generation(xml: &str) -> Result<Generation, MhlError> {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut g = Generation::default();
    let mut stack: Vec<String> = Vec::new();
    let mut file: Option<FileHash> = None;
    let mut text = String::new();
    let mut rooted = false;
    loop {
        match r.read_event() {
            Err(e) => return Err(MhlError::Xml(e.to_string())),
            Ok(Event::Eof) if !stack.is_empty() => {
                return Err(MhlError::Xml(format!(
                    "the file ends inside <{}>",
                    stack.join("><")
                )));
            }
            Ok(Event::Eof) => break,
            Ok(Event::Empty(e)) if stack.is_empty() => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name != "hashlist" {
                    return Err(MhlError::NotMhl(name));
                }
                rooted = true;
            }
            Ok(Event::Start(e)) => {
                rooted = true;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() && name != "hashlist" {
                    return Err(MhlError::NotMhl(name));
                }
                let attr = |k: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == k)
                        // Escaped as text is (`&amp;`, `&#x4E2D;`); a value that does not
                        // unescape is kept as it reads.
                        .map(|a| match a.unescape_value() {
                            Ok(v) => v.into_owned(),
                            Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
                        })
                };
                let parent = stack.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (Some("hashes"), "hash") => {
                        file = Some(FileHash {
                            path: String::new(),
                            size: 0,
                            modified: String::new(),
                            hashes: BTreeMap::new(),
                            action: String::new(),
                        })
                    }
                    (Some("hash"), "path") => {
                        if let Some(f) = file.as_mut() {
                            f.size = attr(b"size").and_then(|s| s.parse().ok()).unwrap_or(0);
                            f.modified = attr(b"lastmodificationdate").unwrap_or_default();
                        }
                    }
                    (Some("hash"), "previousPath") => {}
                    (Some("references"), "hashlistreference") => {
                        g.references.push(Reference::default())
                    }
                    (Some("hash"), format) => {
                        if let Some(f) = file.as_mut() {
                            f.action = attr(b"action").unwrap_or_default();
                        }
                        if !FORMATS.contains(&format) {
                            g.warnings.push(format!(
                                "a hash of the unknown format <{format}> is kept as it is"
                            ));
                        }
                    }
                    (Some("tool"), _) | (_, "tool") => {
                        g.tool_version = attr(b"version").unwrap_or_default();
                    }
                    _ => {}
                }
                stack.push(name);
                text.clear();
            }
            Ok(Event::Text(t)) => {
                text.push_str(&unescape(
                    &t.decode().map(|c| c.into_owned()).unwrap_or_default(),
                ));
            }
            Ok(Event::GeneralRef(e)) => text.push_str(&entity(&String::from_utf8_lossy(&e))?),
            Ok(Event::End(_)) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().cloned().unwrap_or_default();
                let value = text.trim().to_string();
                match (parent.as_str(), name.as_str()) {
                    // A path is kept exactly, spaces and all.
                    ("hash", "path") => {
                        if let Some(f) = file.as_mut() {
                            f.path = text.clone();
                        }
                    }
                    // Where a renamed file was before: not a hash.
                    ("hash", "previousPath") => {}
                    ("hashlistreference", "path") => {
                        if let Some(r) = g.references.last_mut() {
                            r.path = value;
                        }
                    }
                    ("hashlistreference", "c4") => {
                        if let Some(r) = g.references.last_mut() {
                            r.c4 = value;
                        }
                    }
                    ("ignore", "pattern") => g.ignore.push(value),
                    ("creatorinfo", "creationdate") => g.created = value,
                    ("creatorinfo", "hostname") => g.hostname = value,
                    ("creatorinfo", "tool") => g.tool = value,
                    ("hash", format) => {
                        if let Some(f) = file.as_mut() {
                            // Hex digits in either case; a C4 ID is base 58, where case counts.
                            let value = if format == "c4" {
                                value
                            } else {
                                value.to_lowercase()
                            };
                            f.hashes.insert(format.to_string(), value);
                        }
                    }
                    ("hashes", "hash") => {
                        if let Some(f) = file.take() {
                            g.files.push(f);
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Ok(_) => {}
        }
    }
    if !rooted {
        return Err(MhlError::NotMhl(String::new()));
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes of a folder written by the reference tool (`ascmhl create -h xxh64`):
    /// `A001/CLIP/A001C001.mov` holding "hello\n" and `A001/notes.txt` holding "world\n".
    #[test]
    fn directory_hashes_match_the_reference_tool() {
        let files = vec![
            ("A001/CLIP/A001C001.mov".to_string(), xxh64_hex(b"hello\n")),
            ("A001/notes.txt".to_string(), xxh64_hex(b"world\n")),
        ];
        assert_eq!(files[0].1, "e4c191d091bd8853");
        assert_eq!(files[1].1, "71d2dfb69f566eaa");
        let dirs = directory_hashes(&files, &["A001".into(), "A001/CLIP".into()]);
        assert_eq!(dirs["A001/CLIP"].content, "583de9fcd1b3e338");
        assert_eq!(dirs["A001/CLIP"].structure, "e01acfb7373555b8");
        assert_eq!(dirs["A001"].content, "31db7079aacfc76c");
        assert_eq!(dirs["A001"].structure, "9775c09c3907986b");
        assert_eq!(dirs[""].content, "04ec855b79f14b5b");
        assert_eq!(dirs[""].structure, "0b05e937827fb23a");
    }

    #[test]
    fn a_file_read_in_pieces_hashes_as_read_at_once_in_every_format() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = Hasher::new(FORMATS);
        for piece in data.chunks(4093) {
            h.update(piece);
        }
        let got = h.finish();
        assert_eq!(got["xxh64"], xxh64_hex(&data));
        assert_eq!(got["xxh3"], xxh3_hex(&data));
        assert_eq!(got["xxh128"], xxh128_hex(&data));
        assert_eq!(got["c4"], c4_id(&data));
        let mut abc = Hasher::new(["md5", "sha1"]);
        abc.update(b"abc");
        let abc = abc.finish();
        // The test vectors of RFC 1321 and FIPS 180.
        assert_eq!(abc["md5"], "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(abc["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(abc.len(), 2, "only the formats asked for");
    }

    #[test]
    fn c4_ids_are_90_characters_of_base58() {
        let id = c4_id(b"");
        assert_eq!(id.len(), 90);
        assert!(id.starts_with("c4"));
        // The C4 ID of the empty string, as the C4 specification gives it.
        assert_eq!(
            id,
            "c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT"
        );
    }

    #[test]
    fn a_generation_reads_back_what_was_written() {
        let mut g = Generation {
            created: "2026-12-06T04:39:45+00:00".into(),
            hostname: "card-station".into(),
            tool: "mstation".into(),
            tool_version: "0.1.0".into(),
            root: Some(DirHashes {
                content: "04ec855b79f14b5b".into(),
                structure: "0b05e937827fb23a".into(),
            }),
            ..Default::default()
        };
        g.files.push(FileHash {
            path: "A001/Tom & Jerry <1>.mov".into(),
            size: 6,
            modified: "2026-12-06T04:39:45+00:00".into(),
            hashes: BTreeMap::from([("xxh64".into(), "e4c191d091bd8853".into())]),
            action: "original".into(),
        });
        let xml = write_generation(&g, "2026-12-06T04:39:45.000001+00:00");
        let back = parse_generation(&xml).unwrap();
        assert_eq!(back.files, g.files);
        assert_eq!(
            (back.tool.as_str(), back.tool_version.as_str()),
            ("mstation", "0.1.0")
        );
        assert!(back.warnings.is_empty());
        let chain = write_chain(&[(1, "0001_card.mhl".into(), c4_id(xml.as_bytes()))]);
        let read = parse_chain(&chain).unwrap();
        assert_eq!(read[0].0, 1);
        assert_eq!(read[0].1, "0001_card.mhl");
    }

    #[test]
    fn attributes_are_read_unescaped() {
        // Found by the fuzzer: a date written escaped read back with its escapes.
        let xml = r#"<hashlist version="2.0"><hashes><hash><path size="3" lastmodificationdate="a&amp;b&#x4E2D;&gt;">a.mov</path><xxh64 action="original">00</xxh64></hash></hashes></hashlist>"#;
        let g = parse_generation(xml).unwrap();
        assert_eq!(g.files[0].modified, "a&b中>");
        let again = parse_generation(&write_generation(&g, "x")).unwrap();
        assert_eq!(again.files, g.files);
    }

    #[test]
    fn what_breaks_the_schema_is_read_with_a_warning() {
        let xml = r#"<?xml version="1.0"?><hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><hashes><hash><path size="3" lastmodificationdate="x">a.mov</path><sha256 action="original" hashdate="x">AB</sha256></hash></hashes></hashlist>"#;
        let g = parse_generation(xml).unwrap();
        assert_eq!(g.files[0].hashes["sha256"], "ab");
        assert_eq!(g.warnings.len(), 1);
        assert!(matches!(
            parse_generation("<html/>"),
            Err(MhlError::NotMhl(_))
        ));
        assert!(matches!(parse_generation(""), Err(MhlError::NotMhl(_))));
        assert!(matches!(
            parse_chain("<x>"),
            Err(MhlError::NotMhl(_)) | Err(MhlError::Xml(_))
        ));
    }

    #[test]
    fn references_paths_and_truncation() {
        let xml = r#"<hashlist><hashes><hash><path size="1"> a &#38; &#x4E2D; </path><xxh64 action="original">ab</xxh64><previousPath>old</previousPath></hash></hashes><processinfo><ignore><pattern>*.tmp</pattern></ignore></processinfo></hashlist>"#;
        let g = parse_generation(xml).unwrap();
        assert_eq!(
            g.files[0].path, " a & 中 ",
            "kept exactly, references resolved"
        );
        assert!(
            g.warnings.is_empty(),
            "a previous path is not a hash: {:?}",
            g.warnings
        );
        assert_eq!(g.ignore, ["*.tmp"]);
        assert!(matches!(
            parse_generation("<hashlist><hashes><hash>"),
            Err(MhlError::Xml(_))
        ));
        assert!(matches!(
            parse_generation("<hashlist>&nope;</hashlist>"),
            Err(MhlError::Xml(_))
        ));
        assert_eq!(xxh128_hex(b"").len(), 32);
    }

    #[test]
    fn ignore_patterns_match_as_gitignore_does() {
        assert!(ignored_by("*.tmp", "a.tmp", false));
        assert!(!ignored_by("*.tmp", "a.tmpx", false));
        assert!(ignored_by("cache/", "cache", true));
        assert!(!ignored_by("cache/", "cache", false));
        assert!(ignored_by(".DS_Store", ".DS_Store", false));
        assert!(ignored_by("A00?", "A001", true));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panic(s in ".{0,400}") {
            let _ = parse_generation(&s);
            let _ = parse_chain(&s);
        }
    }
}
