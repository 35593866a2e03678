//! `mstation mhl create|verify|info PATH`: an ASC MHL v2 history of any folder (a camera card,
//! a day's offload), kept in its `ascmhl/` folder beside the files. The history's format and its
//! directory hashes are `mstation_core::media::mhl`'s; walking and hashing the files is here.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mstation_core::media::mhl::{self, DirHash, FileHash, Generation};

/// What a folder holds now: files (relative path → size, modification time) and folders.
struct Walk {
    files: BTreeMap<String, (u64, String)>,
    dirs: BTreeMap<String, String>,
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
            if name == "ascmhl" && meta.is_dir() && !rel.is_empty() {
                bail!(
                    "{rel}/ascmhl: a nested ASC MHL history; nested histories are not read yet, so this folder is left as it is"
                );
            }
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
                todo.push((e.path(), path));
            } else if meta.is_file() {
                w.files.insert(path, (meta.len(), modified));
            }
        }
    }
    Ok(w)
}

/// The hashes of a file in `formats` (xxh64, xxh3, xxh128), read once in pieces.
fn hash_file(path: &Path, formats: &BTreeSet<&str>) -> anyhow::Result<BTreeMap<String, String>> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut x64 = xxhash_rust::xxh64::Xxh64::new(0);
    let mut x3 = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        x64.update(&buf[..n]);
        if formats.contains("xxh3") || formats.contains("xxh128") {
            x3.update(&buf[..n]);
        }
    }
    let mut out = BTreeMap::new();
    for fmt in formats {
        let v = match *fmt {
            "xxh64" => format!("{:016x}", x64.digest()),
            "xxh3" => format!("{:016x}", x3.digest()),
            "xxh128" => format!("{:032x}", x3.digest128()),
            _ => continue,
        };
        out.insert(fmt.to_string(), v);
    }
    Ok(out)
}

/// The formats this build can check.
const CHECKED: [&str; 3] = ["xxh64", "xxh3", "xxh128"];

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
enum Check {
    New,
    Verified,
    Mismatch,
    /// Recorded only in formats this build cannot compute.
    Unchecked(String),
}

/// Hashes `path` in xxh64 and in the checkable formats its history recorded, and compares.
fn check(
    path: &Path,
    recorded: Option<&BTreeMap<String, String>>,
) -> anyhow::Result<(Check, BTreeMap<String, String>)> {
    let mut formats: BTreeSet<&str> = BTreeSet::from(["xxh64"]);
    if let Some(r) = recorded {
        formats.extend(r.keys().map(String::as_str).filter(|f| CHECKED.contains(f)));
    }
    let now = hash_file(path, &formats)?;
    let Some(r) = recorded else {
        return Ok((Check::New, now));
    };
    let comparable: Vec<(&String, &String)> =
        r.iter().filter(|(f, _)| now.contains_key(*f)).collect();
    if comparable.is_empty() {
        let formats: Vec<&str> = r.keys().map(String::as_str).collect();
        return Ok((Check::Unchecked(formats.join(", ")), now));
    }
    let same = comparable.iter().all(|(f, hex)| now.get(*f) == Some(*hex));
    Ok((
        if same {
            Check::Verified
        } else {
            Check::Mismatch
        },
        now,
    ))
}

/// Writes a new generation of `root`'s history; answers how many files failed (mismatching or
/// missing). A failed generation is written all the same, as the reference tool does.
pub fn create(root: &Path, format: &str) -> anyhow::Result<usize> {
    if format != "xxh64" {
        bail!(
            "this build writes xxh64 histories; {format} is read in histories but not written yet"
        );
    }
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
    let started = std::time::Instant::now();
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut files = Vec::new();
    let mut failed = 0;
    for (i, (path, (size, modified))) in w.files.iter().enumerate() {
        let (checked, hashes) = check(&root.join(path), before.get(path))?;
        let action = match checked {
            Check::New => "original",
            Check::Verified => "verified",
            Check::Mismatch => {
                failed += 1;
                eprintln!("mismatch: {path}");
                "failed"
            }
            Check::Unchecked(formats) => {
                failed += 1;
                eprintln!(
                    "not checked: {path} (its history records {formats}, which this build cannot compute)"
                );
                "failed"
            }
        };
        if progress {
            eprint!("\r{}/{} files hashed", i + 1, w.files.len());
        }
        files.push(FileHash {
            path: path.clone(),
            size: *size,
            modified: modified.clone(),
            hashes,
            action: action.into(),
        });
    }
    if progress {
        eprintln!();
    }
    for gone in before.keys().filter(|p| !w.files.contains_key(*p)) {
        failed += 1;
        eprintln!("missing: {gone}");
    }
    let pairs: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.path.clone(), f.hashes["xxh64"].clone()))
        .collect();
    let dir_list: Vec<String> = w.dirs.keys().cloned().collect();
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
        files,
        ignore: patterns,
        dirs: w
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
        warnings: Vec::new(),
    };
    let xml = mhl::write_generation(&g, &now.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string());
    // After every generation the chain or the folder holds (one a crash left unchained too).
    let n = past
        .iter()
        .map(|(n, _, _)| *n)
        .chain(generation_files(&root.join("ascmhl")))
        .max()
        .map_or(1, |n| n + 1);
    let folder = root
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into());
    let name = format!("{n:04}_{folder}_{}.mhl", now.strftime("%Y-%m-%d_%H%M%SZ"));
    let dir = root.join("ascmhl");
    std::fs::create_dir_all(&dir)?;
    write_durably(&dir.join(&name), xml.as_bytes())?;
    let mut chain: Vec<(u32, String, String)> = past
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
    println!(
        "{}: generation {n} ({name}), {} files in {:.1} s{}",
        root.display(),
        pairs.len(),
        started.elapsed().as_secs_f64(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    Ok(failed)
}

/// Checks the folder against its history: names every missing, new and mismatching file;
/// answers how many there are.
pub fn verify(root: &Path) -> anyhow::Result<usize> {
    let past = history(root)?;
    if past.is_empty() {
        bail!(
            "{} has no ASC MHL history (no ascmhl/ascmhl_chain.xml)",
            root.display()
        );
    }
    let before = known(&past);
    let patterns: Vec<String> = past
        .last()
        .map(|(_, _, g)| g.ignore.clone())
        .unwrap_or_default();
    let w = walk(root, &patterns)?;
    let mut problems = 0;
    let on_disk: BTreeSet<&String> = w.files.keys().collect();
    for (path, recorded) in &before {
        if !on_disk.contains(path) {
            problems += 1;
            println!("missing: {path}");
            continue;
        }
        match check(&root.join(path), Some(recorded))?.0 {
            Check::Verified | Check::New => {}
            Check::Mismatch => {
                problems += 1;
                println!("mismatch: {path}");
            }
            Check::Unchecked(formats) => {
                problems += 1;
                println!(
                    "not checked: {path} (its history records {formats}, which this build cannot compute)"
                );
            }
        }
    }
    for path in on_disk.iter().filter(|p| !before.contains_key(**p)) {
        problems += 1;
        println!("new: {path}");
    }
    if problems == 0 {
        println!(
            "{}: {} files verified against the history",
            root.display(),
            before.len()
        );
    }
    Ok(problems)
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
