//! One frame model everywhere: a frame of a shot keeps its number and its source timecode
//! through every place the production meets it. Random cuts at every rate timecode counts
//! (drop-frame 29.97 among them) are read as an editor's EDL, conformed into shots, written
//! back as the exported EDL and OTIO timeline and read again, and written as the shot list; random frames of their shots,
//! and the editor's locators on them, are walked through all of it and through the review
//! player's numbering of a render that kept the plate's timecode.

use mstation_core::tracking::conform::{self, ConformOptions, PlannedShot};
use mstation_core::tracking::edl::{self, Edl, LOCATOR_COLOURS};
use mstation_core::tracking::export::{self, CutShot, Export, ExportLocator, ExportShot, ShotRow};
use mstation_core::tracking::frames::{ShotFrames, first_frame};
use mstation_core::tracking::otio;
use mstation_core::tracking::timecode::{Rate, Timecode};
use proptest::prelude::*;

const RATES: [(Rate, bool); 5] = [
    (Rate::FPS_24, false),
    (Rate::FPS_25, false),
    (Rate::FPS_23_976, false),
    (Rate::FPS_29_97, true),
    (Rate::FPS_30, false),
];

const OPTS: fn() -> ConformOptions = || ConformOptions {
    sequence_name: "SQ010".into(),
    start_frame: 1001,
    head_handles: 8,
    tail_handles: 8,
};

/// A shot of the generated cut: its length, its source's place in the day, its locators (as
/// fractions of the way into it), and a frame to walk (the same) with the head a render of it
/// starts before its cut in.
#[derive(Debug, Clone)]
struct Cut {
    len: i64,
    source: f64,
    marks: Vec<(f64, usize)>,
    walk: f64,
    head: i64,
}

fn cuts() -> impl Strategy<Value = Vec<Cut>> {
    prop::collection::vec(
        (
            1i64..400,
            0.0f64..0.9,
            prop::collection::vec((0.0f64..1.0, 0..LOCATOR_COLOURS.len()), 0..3),
            0.0f64..1.0,
            0i64..=8,
        )
            .prop_map(|(len, source, marks, walk, head)| Cut {
                len,
                source,
                marks,
                walk,
                head,
            }),
        1..6,
    )
}

/// The frame `fraction` of the way into `len` frames (from 0).
fn nth(len: i64, fraction: f64) -> i64 {
    ((len as f64 * fraction) as i64).min(len - 1)
}

/// The editor's EDL of `cuts`, from 01:00:00:00 on the record, each shot named as the conform
/// will name it.
fn editors_cut(cuts: &[Cut], rate: Rate, drop_frame: bool) -> Export {
    let hour = Timecode::parse(
        if drop_frame {
            "01:00:00;00"
        } else {
            "01:00:00:00"
        },
        rate,
    )
    .unwrap()
    .to_frames(rate)
    .unwrap();
    let day = rate.frames_per_day(drop_frame);
    let mut record = hour;
    let shots = cuts
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let source_in = (day as f64 * c.source) as i64;
            let mut locators: Vec<ExportLocator> = c
                .marks
                .iter()
                .map(|&(at, colour)| ExportLocator {
                    frame: record + nth(c.len, at),
                    colour: Some(LOCATOR_COLOURS[colour].to_string()),
                    text: format!("mark {n}"),
                })
                .collect();
            locators.sort_by_key(|l| l.frame);
            let shot = ExportShot {
                name: format!("SQ010_{:04}", (n + 1) * 10),
                clip_name: Some(format!("A001C{:03}_230514.MOV", n + 1)),
                reel: format!("A001C{:03}", n + 1),
                record_in: record,
                record_out: record + c.len,
                source_in,
                source_out: source_in + c.len,
                locators,
            };
            record += c.len;
            shot
        })
        .collect();
    Export {
        title: "SQ010 v1".into(),
        rate,
        drop_frame,
        shots,
    }
}

/// The shots a cut conforms to in an empty sequence, without the line each came from.
fn conformed(edl: &Edl) -> Vec<PlannedShot> {
    let plan = conform::plan(&[], edl, &OPTS());
    assert!(
        plan.skipped.is_empty() && plan.warnings.is_empty(),
        "{plan:?}"
    );
    plan.new
        .into_iter()
        .map(|mut s| {
            s.line = 0;
            s
        })
        .collect()
}

/// The shots as a sequence keeps them, laid for export.
fn exported(shots: &[PlannedShot], rate: Rate, drop_frame: bool) -> Export {
    Export {
        title: "SQ010".into(),
        rate,
        drop_frame,
        shots: export::lay(shots.iter().map(|s| {
            CutShot {
                name: s.name.clone(),
                clip_name: s.clip_name.clone(),
                reel: Some(s.reel.clone()),
                cut_in: s.cut_in,
                cut_out: s.cut_out,
                record_in: Some(s.record_in),
                record_out: Some(s.record_out),
                source_in: Some(s.source_in),
                source_out: Some(s.source_out),
                locators: s
                    .locators
                    .iter()
                    .map(|l| (l.frame, l.colour.clone(), l.text.clone()))
                    .collect(),
            }
        })),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_frame_keeps_its_number_and_timecode_everywhere(cuts in cuts(), rate in 0..RATES.len()) {
        let (rate, drop_frame) = RATES[rate];
        let opts = OPTS();
        let edit = editors_cut(&cuts, rate, drop_frame);
        let text = edl::write(&edit).unwrap();
        let shots = conformed(&edl::parse(&text, rate).unwrap());
        prop_assert_eq!(shots.len(), cuts.len());

        for ((shot, cut), event) in shots.iter().zip(&cuts).zip(&edit.shots) {
            // Conformed: numbered from the first frame after the head handles, in and out
            // included, as long as the edit.
            prop_assert_eq!(shot.cut_in, opts.start_frame + opts.head_handles);
            prop_assert_eq!(shot.cut_out - shot.cut_in + 1, cut.len);
            prop_assert_eq!(shot.source_in, event.source_in);
            // The editor's locators, on the shot's frames as far in as they were on the record.
            let mut want: Vec<i64> = event.locators.iter().map(|l| shot.cut_in + (l.frame - event.record_in)).collect();
            want.sort();
            prop_assert_eq!(shot.locators.iter().map(|l| l.frame).collect::<Vec<_>>(), want);
        }

        // Exported as an EDL and as OTIO and read back: the same shots, frame for frame.
        let cut = exported(&shots, rate, drop_frame);
        let edl_back = edl::parse(&edl::write(&cut).unwrap(), rate).unwrap();
        let otio_back = otio::read(&otio::write(&cut).unwrap(), rate, drop_frame).unwrap();
        prop_assert_eq!(&conformed(&edl_back), &shots, "through the EDL");
        prop_assert_eq!(&conformed(&otio_back), &shots, "through OTIO");

        // The shot list says the same frames: in, out, and out − in + 1 of them.
        let rows: Vec<ShotRow> = shots
            .iter()
            .map(|s| ShotRow {
                name: s.name.clone(),
                cut_order: s.cut_order,
                cut_in: s.cut_in,
                cut_out: s.cut_out,
                head_handles: s.head_handles,
                tail_handles: s.tail_handles,
                reel: Some(s.reel.clone()),
                clip_name: s.clip_name.clone(),
                source_in_tc: Some(s.source_in_tc.clone()),
                source_out_tc: Some(s.source_out_tc.clone()),
                description: String::new(),
            })
            .collect();
        let csv = export::shot_list_csv(&rows);
        let lines: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
        prop_assert_eq!(lines.len(), shots.len());
        for (line, (shot, cut)) in lines.iter().zip(shots.iter().zip(&cuts)) {
            let number = |i: usize| line[i].parse::<i64>().unwrap();
            prop_assert_eq!((number(2), number(3), number(4)), (shot.cut_in, shot.cut_out, cut.len));
            // Its source timecodes are the EDL's for the shot's first frame and the frame after its last.
            prop_assert_eq!(line[9], Timecode::from_frames(shot.source_in, rate, drop_frame).to_string());
            prop_assert_eq!(line[10], Timecode::from_frames(shot.source_out, rate, drop_frame).to_string());
        }

        for (shot, cut) in shots.iter().zip(&cuts) {
            let frame = shot.cut_in + nth(cut.len, cut.walk);
            // The review player, on a render of the shot that kept the plate's timecode and
            // starts `head` frames before the cut in: the frame shown as `frame` is that many
            // frames into the file, and its timecode is the plate's.
            let file_tc = shot.source_in - cut.head;
            let count = cut.len + cut.head + opts.tail_handles;
            let shot_frames = ShotFrames {
                cut_in: shot.cut_in,
                cut_out: shot.cut_out,
                head_handles: shot.head_handles,
                tail_handles: shot.tail_handles,
                source_in: Some(shot.source_in),
            };
            let first = first_frame(Some(shot_frames), Some(file_tc), count, opts.start_frame);
            let index = frame - first;
            prop_assert!((0..count).contains(&index), "frame {frame} is in the file");
            let in_player = Timecode::from_frames(file_tc + index, rate, drop_frame);
            // Each export's source timecode of that frame.
            for (what, back) in [("EDL", &edl_back), ("OTIO", &otio_back)] {
                let e = back
                    .events
                    .iter()
                    .find(|e| e.reel == shot.reel)
                    .expect("the shot's event");
                prop_assert_eq!(e.record_out_frames - e.record_in_frames, shot.cut_out - shot.cut_in + 1, "{} duration", what);
                let source = e.source_in_frames + (frame - shot.cut_in);
                prop_assert_eq!(Timecode::from_frames(source, rate, drop_frame), in_player, "{} at frame {}", what, frame);
            }
        }
    }
}
