//! The readers of what arrives from outside, each behind one entry point that takes any bytes:
//! ASC MHL histories, ffprobe's JSON and stderr, tus headers, file names and card paths, EDLs
//! and OpenTimelineIO. Each must answer (an error is an answer) and never panic; where a reader
//! has a promise beyond that, the entry point checks it too (a card path it accepts never leads
//! out of the card; metadata it accepts reads back the same once written).
//!
//! The coverage-guided fuzzers in `fuzz/` (cargo fuzz, `scripts/fuzz`) call these; the tests
//! below feed each one seeds and thousands of mutations of them on every test run.

use crate::media::{mhl, names, probe, tus};
use crate::tracking::{edl, otio, timecode::Rate};

/// Reads `data` as an ASC MHL chain file and as a generation; a generation it reads writes out
/// again and reads back with the same files.
pub fn mhl(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = mhl::parse_chain(&text);
    if let Ok(g) = mhl::parse_generation(&text) {
        let again = mhl::write_generation(&g, "2026-01-01T00:00:00+00:00");
        let back = mhl::parse_generation(&again).expect("a generation we wrote reads back");
        assert_eq!(back.files, g.files, "files survive a round trip");
        assert_eq!(
            back.references, g.references,
            "references survive a round trip"
        );
    }
}

/// Reads `data` as ffprobe's JSON, and as its stderr (the reason a file could not be read).
pub fn probe(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = probe::parse(&text);
    let _ = probe::reason(&text);
}

/// Reads `data` as each tus header. Metadata that reads writes back as a header that reads the
/// same.
pub fn tus(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = tus::resumable(Some(&text));
    let _ = tus::length(&text);
    let _ = tus::offset(&text);
    let _ = tus::parse_checksum(&text);
    let _ = tus::parse_concat(&text);
    if let Ok(m) = tus::parse_metadata(&text) {
        let back = tus::parse_metadata(&m.to_header()).expect("metadata we wrote reads back");
        assert_eq!(back, m, "metadata survives a round trip");
        for (k, _) in &m.0 {
            let _ = m.get_str(k);
        }
    }
}

/// Reads `data` as a file name and as a path inside a card: what is accepted stays inside the
/// card (no root, no drive, no `.` or `..`, no empty folder) and is kept as it reads again.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(name) = names::file_name(&text) {
        assert!(!name.contains(['/', '\\']), "a name is one component");
        assert!(name != "." && name != "..");
        assert_eq!(names::file_name(&name).as_deref(), Ok(name.as_str()));
    }
    if let Ok(path) = names::relative_path(&text) {
        assert!(!path.starts_with('/') && !path.contains('\\'));
        assert!(
            path.split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".."),
            "{path:?} stays inside the card"
        );
        assert!(names::is_card_path(&path), "{path:?} is kept as it reads");
    }
}

/// Reads `data` as a CMX 3600 EDL and as an OpenTimelineIO timeline.
pub fn edit(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = edl::parse(&text, Rate::FPS_24);
    let _ = edl::parse(&text, Rate::FPS_29_97);
    let _ = otio::read(&text, Rate::FPS_24, false);
    let _ = otio::read(&text, Rate::FPS_29_97, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small, repeatable source of numbers (xorshift): the same mutations on every run, so a
    /// failure is found again by running the test again.
    struct Dice(u64);

    impl Dice {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
    }

    /// Pieces that tend to matter to these readers, spliced in by the mutations.
    const TOKENS: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "\"",
        "&amp;",
        "&#0;",
        "&#xFFFFFFFF;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "null",
        "-1",
        "0",
        "1e309",
        "99999999999999999999",
        "\u{202e}",
        "\u{0}",
        "..",
        "/",
        "\\",
        "C:",
        " ",
        "\t",
        "\n",
        "final;",
        "partial",
        "sha1 ",
        "md5 ",
        "=",
        "==",
        "FCM: DROP FRAME",
        "001  ",
        " V     C        ",
        "23:59:59:23",
        "24000/1001",
        "0/0",
        "\u{fffd}",
        "<hash>",
        "<path size=\"-1\">",
        "<xxh64>",
    ];

    fn mutate(seed: &[u8], dice: &mut Dice) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=dice.below(4) {
            let at = dice.below(v.len() + 1);
            match dice.below(6) {
                0 if !v.is_empty() => {
                    let i = dice.below(v.len());
                    v[i] ^= 1 << dice.below(8);
                }
                1 if !v.is_empty() => {
                    let end = (at + 1 + dice.below(64)).min(v.len());
                    v.drain(at.min(end)..end);
                }
                2 => {
                    let t = TOKENS[dice.below(TOKENS.len())].as_bytes();
                    v.splice(at..at, t.iter().copied());
                }
                3 if !v.is_empty() => {
                    let end = (at + 1 + dice.below(256)).min(v.len());
                    let piece: Vec<u8> = v[at.min(end)..end].to_vec();
                    v.splice(end..end, piece);
                }
                4 => v.truncate(at),
                _ => {
                    let i = dice.below(v.len() + 1);
                    v.insert(i, dice.next() as u8);
                }
            }
        }
        v
    }

    /// Feeds `reader` each seed and `rounds` mutations of each.
    fn shake(reader: fn(&[u8]), seeds: &[&[u8]], rounds: usize) {
        let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
        for seed in seeds {
            reader(seed);
            for _ in 0..rounds {
                reader(&mutate(seed, &mut dice));
            }
        }
        reader(b"");
    }

    fn generation() -> String {
        let mut g = mhl::Generation {
            created: "2026-12-06T04:39:45+00:00".into(),
            hostname: "card-station".into(),
            tool: "mstation".into(),
            tool_version: "0.1.0".into(),
            root: Some(mhl::DirHashes {
                content: "04ec855b79f14b5b".into(),
                structure: "0b05e937827fb23a".into(),
            }),
            ignore: vec![".DS_Store".into()],
            ..Default::default()
        };
        g.files.push(mhl::FileHash {
            path: "A001/Tom & Jerry <1>.mov".into(),
            size: 6,
            modified: "2026-12-06T04:39:45+00:00".into(),
            hashes: [("xxh64".to_string(), "e4c191d091bd8853".to_string())].into(),
            action: "original".into(),
        });
        mhl::write_generation(&g, "2026-12-06T04:39:45.000001+00:00")
    }

    #[test]
    fn mhl_readers_answer_whatever_they_read() {
        let generation = generation();
        let chain = mhl::write_chain(&[(1, "0001_card.mhl".into(), mhl::c4_id(b"x"))]);
        let nested = r#"<hashlist version="2.0"><hashes><directoryhash><path lastmodificationdate="x">A001</path><content><xxh64>f406100cbeaf0866</xxh64></content></directoryhash></hashes><references><hashlistreference><path>A001/ascmhl/0002_A001.mhl</path><c4>c43NS3QDveXZT1LE81PGLZ6FJG2MbGq3YcN2F985Ps98TMMLS4aw8th5CzV4HgabQzjY59J17UJ4JT9EyRV17XCTAU</c4></hashlistreference></references></hashlist>"#;
        let odd = r#"<?xml version="1.0"?><hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><hashes><hash><path size="3" lastmodificationdate="x">a.mov</path><sha256 action="original" hashdate="x">AB</sha256><xxhash64be>00</xxhash64be></hash></hashes></hashlist>"#;
        shake(
            mhl,
            &[
                generation.as_bytes(),
                chain.as_bytes(),
                odd.as_bytes(),
                nested.as_bytes(),
            ],
            4000,
        );
    }

    #[test]
    fn ffprobe_readers_answer_whatever_they_read() {
        shake(
            probe,
            &[
                include_bytes!("media/fixtures/prores_hq_2398_tc.json"),
                include_bytes!("media/fixtures/h264_25.json"),
                include_bytes!("media/fixtures/wav_6ch.json"),
                b"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\nclip.mov: Invalid data found when processing input\n",
            ],
            2000,
        );
    }

    #[test]
    fn tus_headers_answer_whatever_they_read() {
        shake(
            tus,
            &[
                b"filename dGFrZS5tb3Y=,project MDFhMjRhNTctYWQ3MS03MzY0LTk5NWMtNDFjM2QwOWVlMDIy,empty",
                b"sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
                b"final;/files/01a24a57-f047-7262-8e37-125f742d6a9f https://x.example/files/01a24a57-f0a9-7685-b2ac-669b1f1c749e",
                b"1.0.0",
                b"18446744073709551615",
            ],
            3000,
        );
    }

    #[test]
    fn names_and_card_paths_never_lead_out_of_the_card() {
        shake(
            names,
            &[
                b"A001/CLIP/A001C001_261206_R1AB.mov",
                b"..\\..\\etc/passwd",
                b"C:/Users/dit/card",
                "镜头/第一天/A001C001.mov".as_bytes(),
                b" ./a/./b/ ",
            ],
            3000,
        );
    }

    #[test]
    fn edit_readers_answer_whatever_they_read() {
        let cmx = b"TITLE: REEL 1\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:00:00 01:00:04:00 00:59:58:00 00:59:59:00\n* FROM CLIP NAME: SQ010_0010\n002  A001C002 V     D    012 01:00:10:00 01:00:12:00 00:59:59:00 01:00:01:00\n";
        shake(
            edit,
            &[cmx, include_bytes!("tracking/fixtures/lock_v3.otio")],
            300,
        );
    }
}
