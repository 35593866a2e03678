//! `mstation cuts` on movies made here by ffmpeg: its hard cuts and its dissolve on their
//! frames, said as JSON, and as an EDL and an OTIO timeline that read back (through M-Station's
//! own readers) to one event a shot on those very frames; a file that is no movie is refused
//! in words.

use std::path::Path;
use std::process::Command;

use mstation_core::tracking::timecode::{Rate, Timecode};
use mstation_core::tracking::{edl, otio};
use serde_json::Value;

mod common;
use common::*;

/// Three shots of 24 frames (cuts at 24 and 48), the third dissolving over 12 frames from frame
/// 60 into a fourth (its middle: 66), 96 frames from the timecode 01:00:00:00 at 24 fps.
fn movie(path: &Path) {
    let shot = |src: &str| {
        format!(
            "{src}=s=320x180:r=24,format=yuv420p,trim=end_frame=24,setpts=PTS-STARTPTS,settb=1/24"
        )
    };
    let graph = format!(
        "{};{};{};{};[a][b][c]concat=n=3:v=1:a=0,settb=1/24[abc];[abc][d]xfade=transition=fade:duration=0.5:offset=2.5[out]",
        shot("testsrc2") + "[a]",
        shot("smptebars") + "[b]",
        shot("testsrc") + "[c]",
        shot("mandelbrot").replace("trim=end_frame=24", "trim=end_frame=36") + "[d]",
    );
    let made = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-filter_complex",
            &graph,
            "-map",
            "[out]",
        ])
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-timecode",
            "01:00:00:00",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg is installed (scripts/test installs it)");
    assert!(made.success(), "ffmpeg made the movie");
}

/// A folder of its own, gone when the test ends.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new() -> Folder {
        let p =
            std::env::temp_dir().join(format!("mstation-cuts-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p).unwrap();
        Folder(p)
    }
    fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cuts(path: &Path, format: &str) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["cuts", "--format", format])
        .arg(path)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_movies_cuts_and_dissolve_are_found_and_exported_frame_exact() {
    let dir = Folder::new();
    let path = dir.join("REF_v001.mov");
    movie(&path);

    let (ok, out, err) = cuts(&path, "json");
    assert!(ok, "{err}");
    let found: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(found["frames"], 96);
    let changes: Vec<(i64, &str)> = found["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["frame"].as_i64().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, [(24, "cut"), (48, "cut"), (66, "dissolve")]);
    assert_eq!(found["transitions"][0]["timecode"], "01:00:01:00");

    // As an EDL and as OTIO: a shot from each change to the next, on the movie's timecode.
    let hour = Timecode::parse("01:00:00:00", Rate::FPS_24)
        .unwrap()
        .to_frames(Rate::FPS_24)
        .unwrap();
    let want = [(0, 24), (24, 48), (48, 66), (66, 96)];
    let (ok, text, err) = cuts(&path, "edl");
    assert!(ok, "{err}");
    let cut = edl::parse(&text, Rate::FPS_24).unwrap();
    let (ok, timeline, err) = cuts(&path, "otio");
    assert!(ok, "{err}");
    let timeline = otio::read(&timeline, Rate::FPS_24, false).unwrap();
    for read in [cut, timeline] {
        let events: Vec<(i64, i64)> = read
            .events
            .iter()
            .map(|e| (e.record_in_frames - hour, e.record_out_frames - hour))
            .collect();
        assert_eq!(events, want);
        assert!(read.events.iter().all(|e| e.reel == "REF_V001"));
        assert!(
            read.events
                .iter()
                .all(|e| e.source_in_frames == e.record_in_frames)
        );
    }

    let (ok, text, _) = cuts(&path, "text");
    assert!(ok);
    assert!(text.contains("96 frames at 24 fps, 3 changes"), "{text}");
}

#[test]
fn what_is_no_movie_is_refused_in_words() {
    let dir = Folder::new();
    let notes = dir.join("notes.mov");
    std::fs::write(&notes, "not a movie at all").unwrap();
    let (ok, _, err) = cuts(&notes, "text");
    assert!(!ok);
    assert!(
        err.contains("notes.mov is not a movie ffmpeg can read"),
        "{err}"
    );
    // Cut short: what is there is read, or the reason is said.
    let path = dir.join("REF_v001.mov");
    movie(&path);
    let bytes = std::fs::read(&path).unwrap();
    let short = dir.join("short.mov");
    std::fs::write(&short, &bytes[..bytes.len() / 3]).unwrap();
    let (ok, out, err) = cuts(&short, "json");
    assert!(!ok || serde_json::from_str::<Value>(&out).is_ok(), "{err}");
    if !ok {
        assert!(err.contains("short.mov"), "{err}");
    }
    let (ok, _, err) = cuts(&dir.join("missing.mov"), "text");
    assert!(!ok && err.contains("no such file"), "{err}");
    // A sound file has no picture.
    let sound = dir.join("mix.wav");
    let made = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=d=1"])
        .arg(&sound)
        .status()
        .unwrap();
    assert!(made.success());
    let (ok, _, err) = cuts(&sound, "text");
    assert!(!ok && err.contains("mix.wav has no picture"), "{err}");
}
