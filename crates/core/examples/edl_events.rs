//! Prints the video events M-Station reads from an EDL (or an `.otio` timeline) as one JSON
//! document, for comparing with other readers (`scripts/otio-compare`):
//!
//!     edl_events FILE RATE                  the events, normalised
//!     edl_events --write edl|otio FILE RATE the file's cut written again by our writers
//!
//! Frames are counted at RATE (`24`, `23.976`, `29.97`, …); outs are exclusive. Each event's
//! locators are `[record frame, colour, text]`.

use std::process::ExitCode;

use mstation_core::tracking::edl::{self, Edl, TrackKind, Transition};
use mstation_core::tracking::export::{Export, ExportLocator, ExportShot};
use mstation_core::tracking::otio;
use mstation_core::tracking::timecode::Rate;
use serde_json::{Value, json};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (write, file, rate) = match args.as_slice() {
        [file, rate] => (None, file, rate),
        [flag, format, file, rate] if flag == "--write" => (Some(format.as_str()), file, rate),
        _ => {
            eprintln!("usage: edl_events [--write edl|otio] FILE RATE");
            return ExitCode::from(2);
        }
    };
    let rate = match Rate::parse(rate) {
        Ok(rate) => rate,
        Err(e) => return fail(&e.to_string()),
    };
    let text = match std::fs::read(file) {
        // EDLs from older tools are not always UTF-8; their timecodes and reels are ASCII.
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let read = if file.to_ascii_lowercase().ends_with(".otio") {
        otio::read(&text, rate, false).map_err(|e| e.to_string())
    } else {
        edl::parse(&text, rate).map_err(|e| e.to_string())
    };
    let edl = match read {
        Ok(edl) => edl,
        Err(e) => return fail(&e),
    };
    match write {
        None => {
            println!("{}", events(&edl));
            ExitCode::SUCCESS
        }
        Some(format) => {
            let export = as_export(&edl, rate);
            let written = match format {
                "edl" => edl::write(&export),
                "otio" => otio::write(&export),
                _ => return fail(&format!("cannot write {format:?}: use edl or otio")),
            };
            match written {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    println!("{}", json!({ "error": message }));
    ExitCode::FAILURE
}

fn events(edl: &Edl) -> Value {
    let events: Vec<Value> = edl
        .events
        .iter()
        .filter(|e| e.track == TrackKind::Video)
        .map(|e| {
            let (transition, frames) = match e.transition {
                Transition::Cut => ("cut", 0),
                Transition::Dissolve { frames } => ("dissolve", frames),
                Transition::Wipe { frames, .. } => ("wipe", frames),
                Transition::Key { frames, .. } => ("key", frames),
            };
            json!({
                "number": e.number,
                "line": e.line,
                "track": e.track_field,
                "reel": e.reel,
                "clip_name": e.source_clip_name(),
                "record_in": e.record_in_frames,
                "record_out": e.record_out_frames,
                "source_in": e.source_in_frames,
                "source_out": e.source_out_frames,
                "transition": transition,
                "transition_frames": frames,
                "speed_tenths": e.speed.as_ref().map(|s| s.fps_tenths),
                "black": e.is_black(),
                "locators": e
                    .locators
                    .iter()
                    .map(|l| json!([l.frames, l.colour, l.text]))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "title": edl.title, "events": events })
}

/// The cut of the video events that can stand on one track: in record order, each starting
/// where or after the previous one ends; empty events and overlapping ones are left out.
fn as_export(edl: &Edl, rate: Rate) -> Export {
    let mut video: Vec<_> = edl
        .events
        .iter()
        .filter(|e| e.track == TrackKind::Video && e.record_frames() > 0)
        .filter(|e| e.source_out_frames > e.source_in_frames)
        .collect();
    video.sort_by_key(|e| e.record_in_frames);
    let mut shots: Vec<ExportShot> = Vec::new();
    for e in video {
        if shots
            .last()
            .is_some_and(|s| e.record_in_frames < s.record_out)
        {
            continue;
        }
        shots.push(ExportShot {
            name: format!("EV{:03}", e.number),
            clip_name: e.source_clip_name().map(str::to_string),
            reel: e.reel.clone(),
            record_in: e.record_in_frames,
            record_out: e.record_out_frames,
            source_in: e.source_in_frames,
            source_out: e.source_out_frames,
            locators: e
                .locators
                .iter()
                .map(|l| ExportLocator {
                    frame: l.frames,
                    colour: l.colour.clone(),
                    text: l.text.clone(),
                })
                .collect(),
        });
    }
    Export {
        title: edl.title.clone().unwrap_or_default(),
        rate,
        drop_frame: edl.events.first().is_some_and(|e| e.drop_frame),
        shots,
    }
}
