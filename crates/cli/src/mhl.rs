//! `mstation mhl create|verify|info PATH`: an ASC MHL v2 history of any folder (a camera card,
//! a day's offload), kept in its `ascmhl/` folder beside the files. The history's format and its
//! directory hashes are `mstation_core::media::mhl`'s; walking and hashing the files is here.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mstation_core::media::mhl::{self, DirHash, FileHash, Generation, Reference};

/// What a folder holds now: files (relative path → size, modification time) and folders.
struct Walk {
    files: BTreeMap<String, (u64, String)>,
    dirs: BTreeMap<String, String>,
    /// Folders with a history of their own (a card in a day's folder): their files are that
    /// history's, and not walked here.
    nested: Vec<String>,
}

/// An instant as MHL writes it: `2026-12-06T04:39:45+00:00`.
fn mhl_time(t: std::time::SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn walk(root: &Path, patterns: &[String]) -> anyhow::Result<Walk> {
    let mut w = Walk {
        files: BTreeMap::new(),
        dirs: BTreeMap::new(),
        nested: Vec::new(),
    };
    let left_out = |name: &str, dir: bool| {
        mhl::IGNORED.contains(&name) || patterns.iter().any(|p| mhl::ignored_by(p, name, dir))
    };
    let mut todo = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading the folder {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().into_string().map_err(|raw| {
                anyhow::anyhow!(
                    "{}: a name that is not UTF-8 ({raw:?}) cannot be kept in a history",
                    dir.display()
                )
            })?;
            // Symbolic links are followed, as the reference tool does.
            let meta = std::fs::metadata(e.path())
                .with_context(|| format!("reading {}", e.path().display()))?;
            if left_out(&name, meta.is_dir()) {
                continue;
            }
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let modified = mhl_time(meta.modified()?);
            if meta.is_dir() {
                w.dirs.insert(path.clone(), modified);
                if e.path().join("ascmhl").is_dir() {
                    w.nested.push(path);
                } else {
                    todo.push((e.path(), path));
                }
            } else if meta.is_file() {
                w.files.insert(path, (meta.len(), modified));
            }
        }
    }
    Ok(w)
}

/// The hashes of a file in `formats`, read once in pieces.
fn hash_file(path: &Path, formats: &BTreeSet<&str>) -> anyhow::Result<BTreeMap<String, String>> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = mhl::Hasher::new(formats.iter().copied());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish())
}

/// The history in `root/ascmhl`: its chain, and each generation read (with its file name).
fn history(root: &Path) -> anyhow::Result<Vec<(u32, String, Generation)>> {
    let dir = root.join("ascmhl");
    let chain = dir.join("ascmhl_chain.xml");
    if !chain.exists() {
        if generation_files(&dir).next().is_some() {
            bail!(
                "{} holds generations but no ascmhl_chain.xml: the history is broken; it is left as it is",
                dir.display()
            );
        }
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&chain)?;
    let mut out = Vec::new();
    for (n, name, c4) in
        mhl::parse_chain(&text).with_context(|| format!("reading {}", chain.display()))?
    {
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            bail!("the chain names {name:?}, which is not a file of the history");
        }
        let bytes = std::fs::read(dir.join(&name)).with_context(|| format!("reading {name}"))?;
        match c4 {
            Some(c4) if c4 != mhl::c4_id(&bytes) => {
                bail!("{name} is not the file the chain recorded (its C4 ID differs)")
            }
            None => {
                eprintln!("warning: the chain gives no C4 ID for {name}; read without checking it")
            }
            _ => {}
        }
        let g = mhl::parse_generation(&String::from_utf8_lossy(&bytes))
            .with_context(|| format!("reading {name}"))?;
        for w in &g.warnings {
            eprintln!("warning: {name}: {w}");
        }
        out.push((n, name, g));
    }
    Ok(out)
}

/// The generation files in a history folder (`NNNN_….mhl`), with their numbers.
fn generation_files(dir: &Path) -> impl Iterator<Item = u32> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n = name.strip_suffix(".mhl")?.get(..4)?.parse().ok()?;
            Some(n)
        })
}

/// Every file the history knows, with the hashes first recorded for it (as the reference tool
/// checks against: a later failed generation never makes a damaged file good).
fn known(h: &[(u32, String, Generation)]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (_, _, g) in h {
        for f in &g.files {
            let seen = out.entry(f.path.clone()).or_default();
            for (fmt, hex) in &f.hashes {
                seen.entry(fmt.clone()).or_insert_with(|| hex.clone());
            }
        }
    }
    out
}

/// How a file on disk compares with what the history first recorded of it.
pub enum Check {
    New,
    Verified,
    Mismatch,
    /// Recorded only in formats this build does not know.
    Unchecked(String),
}

/// The formats a file is read in: xxh64 (the directory hashes are made of it), those asked for,
/// and those its history recorded.
pub fn formats_for<'a>(
    asked: &'a [String],
    recorded: Option<&'a BTreeMap<String, String>>,
) -> BTreeSet<&'a str> {
    let mut formats: BTreeSet<&str> = BTreeSet::from(["xxh64"]);
    formats.extend(asked.iter().map(String::as_str));
    if let Some(r) = recorded {
        formats.extend(
            r.keys()
                .map(String::as_str)
                .filter(|f| mhl::FORMATS.contains(f)),
        );
    }
    formats
}

/// Compares the hashes just read of a file with those its history first recorded.
pub fn compare(
    now: &BTreeMap<String, String>,
    recorded: Option<&BTreeMap<String, String>>,
) -> Check {
    let Some(r) = recorded else {
        return Check::New;
    };
    let comparable: Vec<(&String, &String)> =
        r.iter().filter(|(f, _)| now.contains_key(*f)).collect();
    if comparable.is_empty() {
        let formats: Vec<&str> = r.keys().map(String::as_str).collect();
        return Check::Unchecked(formats.join(", "));
    }
    if comparable.iter().all(|(f, hex)| now.get(*f) == Some(*hex)) {
        Check::Verified
    } else {
        Check::Mismatch
    }
}

/// The hash formats asked for on the command line (`xxh64,md5`), checked.
pub fn asked_formats(list: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for f in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !mhl::FORMATS.contains(&f) {
            bail!(
                "{f} is not a hash format of ASC MHL; choose from {}",
                mhl::FORMATS.join(", ")
            );
        }
        out.push(f.to_string());
    }
    Ok(out)
}

/// What a file read for a generation is: where it is, what the history first recorded of it.
pub struct ToRead<'a> {
    pub path: &'a str,
    pub full: PathBuf,
    pub size: u64,
    pub modified: &'a str,
    pub formats: BTreeSet<&'a str>,
}

/// A generation written: its number and file name, and what failed (each with its path from
/// the folder the generation was asked of, nested histories' files included).
pub struct Written {
    pub n: u32,
    pub name: String,
    pub xml: String,
    pub files: usize,
    pub problems: Vec<(&'static str, String)>,
    /// The generations written at the same time in nested histories: each folder's path from
    /// this one, and the generation's XML.
    pub nested: Vec<(String, String)>,
    /// Every file's path and xxh64 and every folder, nested histories' included: what the
    /// directory hashes of a history around this one are made of.
    pairs: Vec<(String, String)>,
    dir_list: Vec<String>,
}

/// The files of one history read for its next generation, and those of its nested histories.
struct Reading {
    files: Vec<FileHash>,
    problems: Vec<(&'static str, String)>,
    nested: Vec<Reading>,
}

impl Written {
    pub fn failed(&self) -> usize {
        self.problems.len()
    }
}

/// The folder as it is now, against its history: the files to read (with what the history
/// recorded of each), and the history itself. `walk` follows the history's ignore patterns.
pub struct Card {
    pub root: PathBuf,
    past: Vec<(u32, String, Generation)>,
    pub before: BTreeMap<String, BTreeMap<String, String>>,
    patterns: Vec<String>,
    w: Walk,
    /// The nested histories inside, each with its folder's path from this one.
    nested: Vec<(String, Card)>,
}

impl Card {
    pub fn open(root: &Path) -> anyhow::Result<Card> {
        let root = root
            .canonicalize()
            .with_context(|| format!("no folder at {}", root.display()))?;
        let past = history(&root)?;
        let before = known(&past);
        let patterns: Vec<String> = past
            .last()
            .map(|(_, _, g)| g.ignore.clone())
            .unwrap_or_default();
        let w = walk(&root, &patterns)?;
        let nested = w
            .nested
            .iter()
            .map(|rel| Ok((rel.clone(), Card::open(&root.join(rel))?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Card {
            root,
            past,
            before,
            patterns,
            w,
            nested,
        })
    }

    /// Each file on the card, nested histories' included: its path, size and modification time
    /// (as MHL writes it).
    pub fn files(&self) -> Vec<(String, u64, String)> {
        let mut out: Vec<(String, u64, String)> = self
            .w
            .files
            .iter()
            .map(|(p, (size, m))| (p.clone(), *size, m.clone()))
            .collect();
        for (rel, card) in &self.nested {
            out.extend(
                card.files()
                    .into_iter()
                    .map(|(p, size, m)| (format!("{rel}/{p}"), size, m)),
            );
        }
        out
    }

    /// Every file to hash for a generation, nested histories' included: its path from this
    /// folder, where it is, and the formats to read it in.
    pub fn to_hash<'a>(&'a self, asked: &'a [String]) -> Vec<(String, PathBuf, BTreeSet<&'a str>)> {
        let mut out: Vec<(String, PathBuf, BTreeSet<&'a str>)> = self
            .w
            .files
            .keys()
            .map(|p| {
                (
                    p.clone(),
                    self.root.join(p),
                    formats_for(asked, self.before.get(p)),
                )
            })
            .collect();
        for (rel, card) in &self.nested {
            out.extend(
                card.to_hash(asked)
                    .into_iter()
                    .map(|(p, full, f)| (format!("{rel}/{p}"), full, f)),
            );
        }
        out
    }

    /// The card's name: its folder's.
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into())
    }

    /// Reads every file with `read` (which answers its hashes in the formats asked), compares
    /// each with its history and writes the new generation (failed ones too, as the reference
    /// tool does), once `ready` agrees. Nested histories get a generation of their own, written
    /// first, to which this one refers; `read` is given each file's path from this folder.
    pub fn write_generation(
        &self,
        asked: &[String],
        read: &mut dyn FnMut(ToRead<'_>) -> anyhow::Result<BTreeMap<String, String>>,
        ready: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<Written> {
        let reading = self.read_files("", asked, read)?;
        ready()?;
        self.write(reading)
    }

    /// Reads the files of this history and of those nested in it; `prefix` is this folder's
    /// path from the one the generation was asked of.
    fn read_files(
        &self,
        prefix: &str,
        asked: &[String],
        read: &mut dyn FnMut(ToRead<'_>) -> anyhow::Result<BTreeMap<String, String>>,
    ) -> anyhow::Result<Reading> {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        let mut new = Vec::new();
        for (path, (size, modified)) in &self.w.files {
            let recorded = self.before.get(path);
            let from_top = format!("{prefix}{path}");
            let hashes = read(ToRead {
                path: &from_top,
                full: self.root.join(path),
                size: *size,
                modified,
                formats: formats_for(asked, recorded),
            })?;
            let action = match compare(&hashes, recorded) {
                Check::New => {
                    new.push(files.len());
                    "original"
                }
                Check::Verified => "verified",
                Check::Mismatch => {
                    problems.push(("mismatch", from_top.clone()));
                    "failed"
                }
                Check::Unchecked(formats) => {
                    problems.push((
                        "not checked",
                        format!("{from_top} (its history records {formats}, which this build cannot compute)"),
                    ));
                    "failed"
                }
            };
            files.push(FileHash {
                path: path.clone(),
                size: *size,
                modified: modified.clone(),
                hashes,
                action: action.into(),
            });
        }
        // A file the history knew that is gone: renamed when a new file has its size and hash.
        for gone in self
            .before
            .keys()
            .filter(|p| !self.w.files.contains_key(*p))
        {
            let recorded = &self.before[gone];
            // Only a file with bytes, and only one new file with the same: an empty sidecar or a
            // report copied twice is not taken for a rename.
            let same: Vec<usize> = (0..new.len())
                .filter(|&at| {
                    let f: &FileHash = &files[new[at]];
                    f.size > 0
                        && recorded
                            .get("xxh64")
                            .is_some_and(|h| f.hashes.get("xxh64") == Some(h))
                        && size_in(&self.past, gone) == Some(f.size)
                })
                .collect();
            match same[..] {
                [at] => {
                    let to = &files[new.remove(at)].path;
                    problems.push(("renamed", format!("{prefix}{gone} → {prefix}{to}")));
                }
                _ => problems.push(("missing", format!("{prefix}{gone}"))),
            }
        }
        let mut nested = Vec::new();
        for (rel, card) in &self.nested {
            let r = card.read_files(&format!("{prefix}{rel}/"), asked, read)?;
            problems.extend(r.problems.iter().cloned());
            nested.push(r);
        }
        Ok(Reading {
            files,
            problems,
            nested,
        })
    }

    /// Writes the generations of what was read: the nested histories' first, then this one's,
    /// referring to theirs.
    fn write(&self, reading: Reading) -> anyhow::Result<Written> {
        let root = &self.root;
        let mut pairs: Vec<(String, String)> = reading
            .files
            .iter()
            .map(|f| (f.path.clone(), f.hashes["xxh64"].clone()))
            .collect();
        let mut dir_list: Vec<String> = self.w.dirs.keys().cloned().collect();
        let mut references = Vec::new();
        let mut nested_xml = Vec::new();
        let mut count = pairs.len();
        for ((rel, card), r) in self.nested.iter().zip(reading.nested) {
            let w = card.write(r)?;
            references.push(Reference {
                path: format!("{rel}/ascmhl/{}", w.name),
                c4: mhl::c4_id(w.xml.as_bytes()),
            });
            pairs.extend(
                w.pairs
                    .iter()
                    .map(|(p, h)| (format!("{rel}/{p}"), h.clone())),
            );
            dir_list.extend(w.dir_list.iter().map(|d| format!("{rel}/{d}")));
            count += w.files;
            nested_xml.push((rel.clone(), w.xml));
            nested_xml.extend(w.nested.into_iter().map(|(p, x)| (format!("{rel}/{p}"), x)));
        }
        let hashes = mhl::directory_hashes(&pairs, &dir_list);
        let now = jiff::Timestamp::now();
        let g = Generation {
            created: now.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
            hostname: std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into()),
            tool: "mstation".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            root: hashes.get("").cloned(),
            files: reading.files,
            ignore: self.patterns.clone(),
            dirs: self
                .w
                .dirs
                .iter()
                .filter_map(|(p, m)| {
                    hashes.get(p).map(|h| DirHash {
                        path: p.clone(),
                        modified: m.clone(),
                        hashes: h.clone(),
                    })
                })
                .collect(),
            references,
            warnings: Vec::new(),
        };
        let xml =
            mhl::write_generation(&g, &now.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string());
        // After every generation the chain or the folder holds (one a crash left unchained too).
        let n = self
            .past
            .iter()
            .map(|(n, _, _)| *n)
            .chain(generation_files(&root.join("ascmhl")))
            .max()
            .map_or(1, |n| n + 1);
        let name = format!(
            "{n:04}_{}_{}.mhl",
            self.name(),
            now.strftime("%Y-%m-%d_%H%M%SZ")
        );
        let dir = root.join("ascmhl");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_durably(&dir.join(&name), xml.as_bytes())?;
        let mut chain: Vec<(u32, String, String)> = self
            .past
            .iter()
            .map(|(n, file, _)| {
                let c4 = std::fs::read(dir.join(file))
                    .map(|b| mhl::c4_id(&b))
                    .unwrap_or_default();
                (*n, file.clone(), c4)
            })
            .collect();
        chain.push((n, name.clone(), mhl::c4_id(xml.as_bytes())));
        write_durably(
            &dir.join("ascmhl_chain.xml"),
            mhl::write_chain(&chain).as_bytes(),
        )?;
        Ok(Written {
            n,
            name,
            xml,
            files: count,
            problems: reading.problems,
            nested: nested_xml,
            pairs,
            dir_list,
        })
    }
}

/// Writes a new generation of `root`'s history, reading each file in xxh64, in the formats
/// `asked` and in those its history recorded; answers how many files failed (mismatching or
/// missing). A failed generation is written all the same, as the reference tool does.
pub fn create(root: &Path, asked: &[String]) -> anyhow::Result<usize> {
    let card = Card::open(root)?;
    let started = std::time::Instant::now();
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The files are read on as many threads as the machine has cores, each file whole on one;
    // the generation then takes their hashes in order.
    let files: Vec<(String, std::path::PathBuf, BTreeSet<&str>)> = card.to_hash(asked);
    let total = files.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    let hashed: std::sync::Mutex<BTreeMap<String, anyhow::Result<BTreeMap<String, String>>>> =
        std::sync::Mutex::default();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((path, full, formats)) = files.get(i) else {
                        return;
                    };
                    let h = hash_file(full, formats);
                    if let Ok(mut m) = hashed.lock() {
                        m.insert(path.clone(), h);
                    }
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    if progress {
                        eprint!("\r{n}/{total} files hashed");
                    }
                }
            });
        }
    });
    let mut hashed = hashed
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a hashing thread failed"))?;
    let written = card.write_generation(
        asked,
        &mut |f| {
            hashed
                .remove(f.path)
                .unwrap_or_else(|| Err(anyhow::anyhow!("{} was not read", f.path)))
        },
        &mut || Ok(()),
    )?;
    if progress {
        eprintln!();
    }
    for (what, path) in &written.problems {
        eprintln!("{what}: {path}");
    }
    println!(
        "{}: generation {} ({}), {} files in {:.1} s{}",
        card.root.display(),
        written.n,
        written.name,
        written.files,
        started.elapsed().as_secs_f64(),
        if written.failed() > 0 {
            format!(", {} failed", written.failed())
        } else {
            String::new()
        }
    );
    Ok(written.failed())
}

/// Checks the folder against its history, and each nested history against its own: names every
/// missing, new, renamed and mismatching file; answers how many there are.
pub fn verify(root: &Path) -> anyhow::Result<usize> {
    let (problems, verified) = verify_in(root, "")?;
    if problems == 0 {
        println!(
            "{}: {verified} files verified against the history",
            root.display()
        );
    }
    Ok(problems)
}

/// Verifies the history of `root` (`prefix` is its path from the folder asked of) and those
/// nested in it: (problems, files verified).
fn verify_in(root: &Path, prefix: &str) -> anyhow::Result<(usize, usize)> {
    let past = history(root)?;
    if past.is_empty() {
        bail!(
            "{} has no ASC MHL history (no ascmhl/ascmhl_chain.xml)",
            root.display()
        );
    }
    let before = known(&past);
    let last = past.last().map(|(_, _, g)| g);
    let patterns: Vec<String> = last.map(|g| g.ignore.clone()).unwrap_or_default();
    let w = walk(root, &patterns)?;
    let mut problems = 0;
    let mut verified = 0;
    let mut missing = Vec::new();
    for (path, recorded) in &before {
        if !w.files.contains_key(path) {
            missing.push((path, recorded));
            continue;
        }
        let now = hash_file(&root.join(path), &formats_for(&[], Some(recorded)))?;
        match compare(&now, Some(recorded)) {
            Check::Verified | Check::New => verified += 1,
            Check::Mismatch => {
                problems += 1;
                println!("mismatch: {prefix}{path}");
            }
            Check::Unchecked(formats) => {
                problems += 1;
                println!(
                    "not checked: {prefix}{path} (its history records {formats}, which this build cannot compute)"
                );
            }
        }
    }
    let mut new: Vec<&String> = w
        .files
        .keys()
        .filter(|p| !before.contains_key(*p))
        .collect();
    // A missing file whose bytes are a new file's was renamed (or moved).
    let xxh64 = BTreeSet::from(["xxh64"]);
    let mut new_hashes: BTreeMap<&String, String> = BTreeMap::new();
    if !missing.is_empty() {
        for p in &new {
            if let Some(h) = hash_file(&root.join(p), &xxh64)?.remove("xxh64") {
                new_hashes.insert(p, h);
            }
        }
    }
    for (gone, recorded) in missing {
        problems += 1;
        // Only a file with bytes, and only one new file with the same, is taken for a rename.
        let same: Vec<usize> = (0..new.len())
            .filter(|&i| {
                let p = new[i];
                w.files[p].0 > 0
                    && recorded
                        .get("xxh64")
                        .is_some_and(|h| new_hashes.get(p) == Some(h))
                    && Some(w.files[p].0) == size_in(&past, gone)
            })
            .collect();
        match same[..] {
            [i] => println!("renamed: {prefix}{gone} → {prefix}{}", new.remove(i)),
            _ => println!("missing: {prefix}{gone}"),
        }
    }
    for path in new {
        problems += 1;
        println!("new: {prefix}{path}");
    }
    for rel in &w.nested {
        // The generation this history last referred to is still the nested history's own.
        if let Some(r) = last.into_iter().flat_map(|g| &g.references).find(|r| {
            r.path
                .strip_prefix(rel.as_str())
                .is_some_and(|p| p.starts_with("/ascmhl/"))
        }) {
            let same = std::fs::read(root.join(&r.path)).is_ok_and(|b| mhl::c4_id(&b) == r.c4);
            if !same {
                problems += 1;
                println!(
                    "mismatch: {prefix}{} (not the nested generation this history refers to)",
                    r.path
                );
            }
        }
        let (p, v) = verify_in(&root.join(rel), &format!("{prefix}{rel}/"))?;
        problems += p;
        verified += v;
    }
    Ok((problems, verified))
}

/// The size the history last recorded for `path`.
fn size_in(past: &[(u32, String, Generation)], path: &str) -> Option<u64> {
    past.iter()
        .rev()
        .find_map(|(_, _, g)| g.files.iter().find(|f| f.path == path).map(|f| f.size))
}

/// Says what the history holds, generation by generation.
pub fn info(root: &Path) -> anyhow::Result<()> {
    let past = history(root)?;
    if past.is_empty() {
        bail!("{} has no ASC MHL history", root.display());
    }
    for (n, name, g) in past {
        println!(
            "generation {n}: {name}, {} by {} {} on {}, {} files",
            g.created,
            g.tool,
            g.tool_version,
            g.hostname,
            g.files.len()
        );
    }
    Ok(())
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never half.
fn write_durably(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(d) = path.parent() {
        std::fs::File::open(d)?.sync_all()?;
    }
    Ok(())
}
