//! What the media jobs do to a file on this machine, whoever runs them: a server's own workers
//! (`workers`) or a remote agent (`mstation agent`). Reading the file with ffprobe, and making
//! its browser proxy and poster with ffmpeg; keeping and recording the results is the caller's.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mstation_core::media::probe::Probe;

use crate::tools::{self, ToolError};

/// What ffprobe says of the file at `path`: `Ok(Ok(probe))`, or `Ok(Err(reason))` in ffprobe's
/// words for a file it cannot read (corrupt, truncated, not media). `Err` when ffprobe itself
/// failed (missing, hung), to try again, unless this is the `last` attempt: the file then says
/// why.
pub async fn probe_file(path: &Path, last: bool) -> Result<Result<Probe, String>, String> {
    match tools::ffprobe(path).await {
        Ok(json) => Ok(
            mstation_core::media::probe::parse(&String::from_utf8_lossy(&json))
                .map_err(|e| e.to_string()),
        ),
        Err(ToolError::Failed { stderr, .. }) => {
            Ok(Err(mstation_core::media::probe::reason(&stderr)))
        }
        // Killed from outside, missing or hung: not the file's fault, tried again.
        Err(e @ ToolError::Killed { .. }) => Err(e.to_string()),
        Err(e) if !last => Err(e.to_string()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// What a proxy job is told of its file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySettings {
    /// In seconds.
    pub duration: f64,
    /// The start timecode as ffprobe wrote it (digits and separators only).
    pub timecode: Option<String>,
    /// Whether it has sound (a waveform is made).
    pub sound: bool,
    /// Its picture's size as ffprobe read it, when it said.
    pub size: Option<(i64, i64)>,
}

/// The largest picture a proxy is made of: wider than any camera's (17,520 by 8,040 is the
/// largest shot today), and no more pixels than 160 million; a file claiming more is taken at
/// its word and not handed to ffmpeg, which would spend memory in proportion.
pub const MAX_SIDE: i64 = 20_000;
pub const MAX_PIXELS: i64 = 160_000_000;

impl ProxySettings {
    /// Why no proxy is made of this file, when its picture's size forbids it.
    pub fn refused(&self) -> Option<String> {
        let (w, h) = self.size?;
        if w <= 0 || h <= 0 {
            return Some(format!("the picture is {w}×{h}: it has no size to show"));
        }
        (w > MAX_SIDE || h > MAX_SIDE || w.saturating_mul(h) > MAX_PIXELS).then(|| {
            format!(
                "the picture is {w}×{h}: larger than M-Station makes proxies of ({MAX_SIDE} pixels a side, {} million in all)",
                MAX_PIXELS / 1_000_000
            )
        })
    }
}

/// A proxy job's settings from its payload.
pub fn proxy_settings(payload: &serde_json::Value) -> ProxySettings {
    ProxySettings {
        duration: payload["duration"].as_f64().unwrap_or(0.0).max(0.0),
        timecode: payload["timecode"]
            .as_str()
            .filter(|t| {
                t.len() <= 16 && t.bytes().all(|b| b.is_ascii_digit() || b":;.".contains(&b))
            })
            .map(str::to_string),
        sound: payload["sound"].as_bool().unwrap_or(false),
        size: payload["width"].as_i64().zip(payload["height"].as_i64()),
    }
}

/// The files a proxy job makes, in its folder.
#[derive(Debug)]
pub struct ProxyFiles {
    pub proxy: PathBuf,
    pub poster: PathBuf,
    /// None when ffmpeg could not make it (the proxy stands without it).
    pub sprite: Option<PathBuf>,
    /// For a file with sound, when ffmpeg could make it.
    pub waveform: Option<PathBuf>,
}

/// Makes, in the folder `dir` (made afresh), the browser proxy of the file at `src` (H.264 in
/// MP4, faststart, at most 1080 lines, stereo AAC, the source timecode kept), its poster (a JPEG
/// 480 wide, a second in), its scrub sprite (100 frames evenly spread, 10 by 10, each 160 wide)
/// and, with sound, its waveform (a PNG 1600 by 120).
pub async fn make_proxy(
    src: &Path,
    dir: &Path,
    settings: &ProxySettings,
) -> Result<ProxyFiles, ToolError> {
    let duration = settings.duration;
    let timecode = settings.timecode.as_deref();
    let _ = tokio::fs::remove_dir_all(dir).await;
    tokio::fs::create_dir_all(dir).await?;
    let (out, poster) = (dir.join("proxy.mp4"), dir.join("poster.jpg"));
    // Encoding takes a fraction of real time on a small machine; ten times over is a hang.
    let limit = Duration::from_secs((duration * 10.0) as u64 + 120);
    let mut args: Vec<&OsStr> = ["-v", "error", "-y", "-protocol_whitelist", "file", "-i"]
        .iter()
        .map(OsStr::new)
        .collect();
    args.push(src.as_os_str());
    args.extend(
        [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=-2:'min(1080,ih)'",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-ac",
            "2",
            "-movflags",
            "+faststart",
        ]
        .iter()
        .map(OsStr::new),
    );
    if let Some(tc) = timecode {
        args.extend([OsStr::new("-timecode"), OsStr::new(tc)]);
    }
    args.push(out.as_os_str());
    tools::ffmpeg(&args, limit).await?;
    let seek = format!("{:.3}", (duration / 2.0).min(1.0));
    let head = [
        "-v",
        "error",
        "-y",
        "-protocol_whitelist",
        "file",
        "-ss",
        seek.as_str(),
        "-i",
    ];
    let mut args: Vec<&OsStr> = head.iter().map(OsStr::new).collect();
    args.push(src.as_os_str());
    args.extend(
        ["-frames:v", "1", "-vf", "scale=480:-2", "-q:v", "3"]
            .iter()
            .map(OsStr::new),
    );
    args.push(poster.as_os_str());
    tools::ffmpeg(&args, Duration::from_secs(120)).await?;

    // A hundred frames, evenly spread: a frame every hundredth of the duration.
    let sprite = dir.join("sprite.jpg");
    let every = if duration > 0.0 {
        100.0 / duration
    } else {
        1.0
    };
    let filter = format!("fps={every:.6},scale=160:-2,tile=10x10");
    let mut args: Vec<&OsStr> = ["-v", "error", "-y", "-protocol_whitelist", "file", "-i"]
        .iter()
        .map(OsStr::new)
        .collect();
    args.push(src.as_os_str());
    let tail = [
        "-map",
        "0:v:0",
        "-an",
        "-vf",
        filter.as_str(),
        "-frames:v",
        "1",
        "-q:v",
        "4",
    ];
    args.extend(tail.iter().map(OsStr::new));
    args.push(sprite.as_os_str());
    // The sprite and waveform are extras: a file whose proxy was made keeps it without them.
    let sprite = match tools::ffmpeg(&args, limit).await {
        Ok(()) => Some(sprite),
        Err(e) => {
            tracing::warn!(error = %e, "no scrub sprite for this file");
            None
        }
    };

    let waveform = if settings.sound {
        let wave = dir.join("waveform.png");
        let mut args: Vec<&OsStr> = ["-v", "error", "-y", "-protocol_whitelist", "file", "-i"]
            .iter()
            .map(OsStr::new)
            .collect();
        args.push(src.as_os_str());
        args.extend(
            [
                "-filter_complex",
                "aformat=channel_layouts=mono,showwavespic=s=1600x120:colors=0x5b8def",
                "-frames:v",
                "1",
            ]
            .iter()
            .map(OsStr::new),
        );
        args.push(wave.as_os_str());
        match tools::ffmpeg(&args, limit).await {
            Ok(()) => Some(wave),
            Err(e) => {
                tracing::warn!(error = %e, "no waveform for this file");
                None
            }
        }
    } else {
        None
    };
    Ok(ProxyFiles {
        proxy: out,
        poster,
        sprite,
        waveform,
    })
}

/// Finds where the shots of the file at `path` change (`core::media::cuts`), from its pictures
/// decoded small and compared on a thread of their own, off the runtime that answers requests:
/// `Ok(Ok(cutting))`, or `Ok(Err(reason))` for a file that cannot be read or decoded (which fails
/// the job for good). `Err` when a tool itself failed, to try again, unless this is the `last`
/// attempt.
pub async fn find_cuts(
    path: &Path,
    last: bool,
) -> Result<Result<mstation_core::media::cuts::Cutting, String>, String> {
    use mstation_core::media::cuts::{self, Cutting, Detector, Settings};
    let probe = match probe_file(path, last).await? {
        Ok(p) => p,
        Err(why) => return Ok(Err(format!("ffprobe could not read the file: {why}"))),
    };
    let Some(fps) = probe
        .video
        .as_ref()
        .and_then(|v| v.fps)
        .filter(|f| f[0] > 0 && f[1] > 0)
    else {
        return Ok(Err("the file has no picture at a known frame rate".into()));
    };
    // Decoding runs many times faster than real time: ten times its length is a hang (a day at
    // most; six hours when the file does not say how long it is).
    let limit = probe
        .duration
        .filter(|d| d.is_finite() && *d > 0.0)
        .map_or(6 * 3600, |d| (d * 10.0).min(86_400.0) as u64)
        .saturating_add(120);
    let (frames_tx, frames_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(256);
    let detecting = tokio::task::spawn_blocking(move || {
        let mut detector = Detector::new(Settings::default());
        for f in frames_rx {
            detector.push(&f);
        }
        detector.finish()
    });
    let decoded = tools::frames(
        path,
        cuts::WIDTH,
        cuts::HEIGHT,
        Duration::from_secs(limit),
        |f| {
            let _ = frames_tx.send(f.to_vec());
        },
    )
    .await;
    drop(frames_tx);
    let transitions = detecting
        .await
        .map_err(|e| format!("cut detection stopped: {e}"))?;
    let frames = match decoded {
        Ok(n) => n,
        Err(ToolError::Failed { stderr, .. }) => {
            return Ok(Err(format!(
                "ffmpeg could not decode the file: {}",
                mstation_core::media::probe::reason(&stderr)
            )));
        }
        Err(e @ ToolError::Killed { .. }) => return Err(e.to_string()),
        Err(e) if !last => return Err(e.to_string()),
        Err(e) => return Ok(Err(e.to_string())),
    };
    if frames == 0 {
        return Ok(Err("the file has no frames to look at".into()));
    }
    Ok(Ok(Cutting {
        frames,
        fps,
        start_timecode: probe.timecode,
        transitions,
    }))
}

/// The font a watermark of `text` is drawn in: one that has CJK glyphs for a name written in
/// Chinese (Noto Sans CJK, Debian's `fonts-noto-cjk`), else DejaVu Sans.
fn watermark_font(text: &str) -> &'static str {
    let cjk = |c: char| matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF);
    if text.chars().any(cjk) {
        "Noto Sans CJK SC"
    } else {
        "DejaVu Sans"
    }
}

/// Makes, in the folder `dir` (made afresh), a copy of the proxy at `src` with `text` (whom it
/// is for) burnt into every frame: large and faint across the middle, small and plain in the
/// top left corner (clear of a player's controls), where cropping cannot take both away. The
/// text is handed to ffmpeg in a file and drawn as it is (`expansion=none`: no `%{…}` is run),
/// so no name needs escaping. Nothing of the source's metadata (titles, authors, paths) is kept.
/// With `lines` (a market preview, made from an original), a picture taller than that is
/// scaled down to it first, the sound, which no mark can carry, is left out, and the picture is
/// sampled in the same decoding for its likeness to other listings: the second path, 72 grey
/// bytes a frame (`mstation_core::market::signature` reads them).
pub async fn make_watermarked(
    src: &Path,
    dir: &Path,
    text: &str,
    duration: f64,
    lines: Option<u32>,
) -> Result<(PathBuf, Option<PathBuf>), ToolError> {
    let _ = tokio::fs::remove_dir_all(dir).await;
    tokio::fs::create_dir_all(dir).await?;
    let words = dir.join("watermark.txt");
    tokio::fs::write(&words, text).await?;
    let out = dir.join("watermarked.mp4");
    let font = watermark_font(text);
    let file = words.display().to_string();
    // The filter names the file in quotes; a data folder whose path holds one is refused.
    if file.contains(['\'', '\\']) {
        return Err(ToolError::Folder(std::io::Error::other(format!(
            "the data folder's path ({}) holds a quote or a backslash, which ffmpeg's filters cannot be given",
            dir.display()
        ))));
    }
    let file = file.replace(':', "\\:");
    // An even number of lines, which H.264 in 4:2:0 needs.
    let scale = lines
        .map(|l| format!("scale=-2:'2*trunc(min({l},ih)/2)',"))
        .unwrap_or_default();
    let filter = format!(
        "{scale}drawtext=font='{font}':textfile='{file}':expansion=none:fontsize=h/12:fontcolor=white@0.4:borderw=2:bordercolor=black@0.4:x=(w-text_w)/2:y=(h-text_h)/2,\
         drawtext=font='{font}':textfile='{file}':expansion=none:fontsize=h/28:fontcolor=white@0.85:box=1:boxcolor=black@0.5:boxborderw=6:x=h/40:y=h/40"
    );
    let limit = Duration::from_secs((duration * 10.0) as u64 + 120);
    let mut args: Vec<&OsStr> = ["-v", "error", "-y", "-protocol_whitelist", "file", "-i"]
        .iter()
        .map(OsStr::new)
        .collect();
    args.push(src.as_os_str());
    let signature = lines.map(|_| dir.join("signature.gray"));
    // Frames spread evenly over the picture, shrunk to 9 × 8 grey pixels.
    let rate = (mstation_core::market::SIGNATURE_FRAMES as f64 / duration.max(0.04)).min(120.0);
    let sampled = format!(
        "[0:v:0]split=2[m][s];[m]{filter}[out];[s]fps={rate:.6},scale=9:8:flags=area,format=gray[sig]"
    );
    let picture: [&str; 4] = if signature.is_some() {
        ["-filter_complex", sampled.as_str(), "-map", "[out]"]
    } else {
        ["-map", "0:v:0", "-vf", filter.as_str()]
    };
    args.extend(picture.iter().map(OsStr::new));
    let sound: &[&str] = if lines.is_some() {
        &["-an"]
    } else {
        &["-map", "0:a:0?", "-c:a", "copy"]
    };
    args.extend(sound.iter().map(OsStr::new));
    let tail = [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-map_metadata",
        "-1",
        "-map_metadata:s:v",
        "-1",
        "-map_metadata:s:a",
        "-1",
        "-map_chapters",
        "-1",
        "-fflags",
        "+bitexact",
        "-movflags",
        "+faststart",
    ];
    args.extend(tail.iter().map(OsStr::new));
    args.push(out.as_os_str());
    if let Some(sig) = &signature {
        let rest = [
            "-map",
            "[sig]",
            "-frames:v",
            "64",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
        ];
        args.extend(rest.into_iter().map(OsStr::new));
        args.push(sig.as_os_str());
    }
    tools::ffmpeg(&args, limit).await?;
    Ok((out, signature))
}
