//! `mstation cuts FILE`: where the shots of an edit or a reference movie change (hard cuts,
//! fades through black and dissolves, found by `core::media::cuts` in the frames ffmpeg
//! decodes), said as a list, as JSON, or as a CMX 3600 EDL or an OpenTimelineIO timeline whose
//! events import frame-exact: one event a shot, its frames the movie's own (its timecode, its
//! first frame 0 when it has none).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mstation_core::media::cuts::{self, Cutting, Detector, Kind, Settings, Transition};
use mstation_core::media::probe;
use mstation_core::tracking::export::Export;
use mstation_core::tracking::timecode::{Rate, Timecode};
use mstation_core::tracking::{edl, otio};
use mstation_server::tools;

/// How the changes are said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for a person.
    Text,
    Json,
    /// A CMX 3600 EDL, one event a shot.
    Edl,
    /// An OpenTimelineIO timeline, one clip a shot.
    Otio,
}

/// The longest a file may take to read: a feature film's picture decodes in well under this.
const LIMIT: Duration = Duration::from_secs(6 * 3600);

/// What was found in a file.
struct Found {
    name: String,
    frames: i64,
    fps: [i64; 2],
    /// The file's rate as timecode counts it, its first frame's timecode (in frames), and
    /// whether that counts drop-frame; none when timecode does not know the rate.
    rate: Option<Rate>,
    start: i64,
    drop_frame: bool,
    changes: Vec<Transition>,
}

pub async fn run(path: &Path, format: Format) -> anyhow::Result<()> {
    let found = find(path).await?;
    let out = match format {
        Format::Text => text(&found),
        Format::Json => serde_json::to_string_pretty(&json(&found))? + "\n",
        Format::Edl => edl::write(&export(&found)?)?,
        Format::Otio => otio::write(&export(&found)?)?,
    };
    print!("{out}");
    Ok(())
}

async fn find(path: &Path) -> anyhow::Result<Found> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    // ffprobe's reading of the file and the decoding run side by side: a short clip is done in
    // the time it takes to start ffmpeg.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:32}] {pos}/{len} frames  {per_sec}  ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    bar.set_prefix(name.clone());
    let mut detector = Detector::new(Settings::default());
    let probing = async {
        let probed = tools::ffprobe(path).await;
        // Its frames, as the progress bar's length.
        if let Ok(p) = probed
            .as_ref()
            .map(|j| probe::parse(&String::from_utf8_lossy(j)))
            && let Ok(p) = p
            && let Some(v) = &p.video
        {
            let n = v.frames.or_else(|| {
                let fps = v.fps.filter(|f| f[0] > 0 && f[1] > 0)?;
                p.duration
                    .map(|d| (d * fps[0] as f64 / fps[1] as f64).round() as i64)
            });
            if let Some(n) = n.filter(|&n| n > 0) {
                bar.set_length(n as u64);
            }
        }
        probed
    };
    let decoding = tools::frames(path, cuts::WIDTH, cuts::HEIGHT, LIMIT, |f| {
        detector.push(f);
        bar.inc(1);
    });
    let (probed, decoded) = tokio::join!(probing, decoding);
    bar.finish_and_clear();
    let probed = match probed {
        Ok(json) => probe::parse(&String::from_utf8_lossy(&json))
            .with_context(|| format!("{name}: ffprobe's answer could not be read"))?,
        Err(tools::ToolError::Failed { stderr, .. }) => {
            bail!(
                "{name} is not a movie ffmpeg can read: {}",
                probe::reason(&stderr)
            )
        }
        Err(e) => return Err(e.into()),
    };
    let Some(video) = probed.video else {
        bail!("{name} has no picture");
    };
    let fps = video
        .fps
        .filter(|f| f[0] > 0 && f[1] > 0)
        .with_context(|| format!("{name}: its frame rate is unknown"))?;
    let rate = u32::try_from(fps[0])
        .ok()
        .zip(u32::try_from(fps[1]).ok())
        .and_then(|(n, d)| Rate::new(n, d).ok());
    let tc = probed
        .timecode
        .as_deref()
        .zip(rate)
        .and_then(|(t, r)| Timecode::parse(t, r).ok());
    let start = tc
        .zip(rate)
        .and_then(|(t, r)| t.to_frames(r).ok())
        .unwrap_or(0);
    let frames = decoded.map_err(|e| match e {
        tools::ToolError::Failed { stderr, .. } => {
            anyhow::anyhow!("{name} could not be decoded: {}", probe::reason(&stderr))
        }
        e => e.into(),
    })?;
    if frames == 0 {
        bail!("{name} has no frames to look at");
    }
    Ok(Found {
        name,
        frames,
        fps,
        rate,
        start,
        drop_frame: tc.is_some_and(|t| t.drop_frame),
        changes: detector.finish(),
    })
}

fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Cut => "cut",
        Kind::Fade => "fade",
        Kind::Dissolve => "dissolve",
    }
}

/// The timecode of the file's frame `n`, where timecode knows its rate.
fn timecode(f: &Found, n: i64) -> Option<String> {
    f.rate
        .map(|r| Timecode::from_frames(f.start + n, r, f.drop_frame).to_string())
}

fn text(f: &Found) -> String {
    let rate = f
        .rate
        .map_or(format!("{}/{}", f.fps[0], f.fps[1]), |r| r.to_string());
    let mut out = format!(
        "{}: {} frames at {} fps, {} {}\n",
        f.name,
        f.frames,
        rate,
        f.changes.len(),
        if f.changes.len() == 1 {
            "change"
        } else {
            "changes"
        }
    );
    if !f.changes.is_empty() {
        out.push_str("   frame  timecode     kind\n");
    }
    for c in &f.changes {
        let over = match c.kind {
            Kind::Cut => String::new(),
            _ => format!(" ({} frames)", c.frames),
        };
        out.push_str(&format!(
            "{:>8}  {:<11}  {}{over}\n",
            c.frame,
            timecode(f, c.frame).unwrap_or_else(|| "—".into()),
            kind(c.kind)
        ));
    }
    out
}

fn json(f: &Found) -> serde_json::Value {
    serde_json::json!({
        "file": f.name,
        "frames": f.frames,
        "fps": f.fps,
        "start_timecode": timecode(f, 0),
        "transitions": f.changes.iter().map(|c| serde_json::json!({
            "frame": c.frame,
            "timecode": timecode(f, c.frame),
            "kind": kind(c.kind),
            "frames": c.frames,
        })).collect::<Vec<_>>(),
    })
}

/// The movie as a cut: a shot from each change to the next, on the movie's own timecode.
fn export(f: &Found) -> anyhow::Result<Export> {
    let stem = Path::new(&f.name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cutting = Cutting {
        frames: f.frames,
        fps: f.fps,
        start_timecode: timecode(f, 0),
        transitions: f.changes.clone(),
    };
    match cutting.as_cut(&stem, &f.name) {
        Some(cut) => Ok(cut?),
        None => bail!(
            "{}: {}/{} fps has no timecode, so no EDL or OTIO: ask for text or json",
            f.name,
            f.fps[0],
            f.fps[1]
        ),
    }
}
