//! What ffprobe says of a media file (`ffprobe -print_format json -show_format -show_streams`),
//! read into what a production asks: container, duration, the picture (codec and profile,
//! resolution, pixel format, colour tags, frame rate as a rational), the start timecode and reel,
//! and the sound (codec, channels and their layout, sample rate). Anything ffprobe leaves out
//! stays unknown rather than guessed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A media file as ffprobe read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Probe {
    /// ffprobe's name of the container, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// In seconds.
    pub duration: Option<f64>,
    pub video: Option<VideoStream>,
    pub audio: Vec<AudioStream>,
    /// The start timecode, from the picture's or the file's `timecode` tag.
    pub timecode: Option<String>,
    /// The camera reel, from a `reel_name` or `reel` tag.
    pub reel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VideoStream {
    pub codec: String,
    pub profile: Option<String>,
    pub width: i64,
    pub height: i64,
    pub pix_fmt: Option<String>,
    pub color_space: Option<String>,
    pub color_transfer: Option<String>,
    pub color_primaries: Option<String>,
    /// The frame rate as a rational, e.g. `[24000, 1001]`.
    pub fps: Option<[i64; 2]>,
    pub frames: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudioStream {
    pub codec: String,
    pub channels: i64,
    pub channel_layout: Option<String>,
    pub sample_rate: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("ffprobe's answer is not the JSON it writes: {0}")]
    NotJson(String),
    #[error("ffprobe found no audio or video stream in the file")]
    NoStreams,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Deserialize, Default)]
struct Tags {
    timecode: Option<String>,
    reel_name: Option<String>,
    reel: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    profile: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    pix_fmt: Option<String>,
    color_space: Option<String>,
    color_transfer: Option<String>,
    color_primaries: Option<String>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    nb_frames: Option<String>,
    channels: Option<i64>,
    channel_layout: Option<String>,
    sample_rate: Option<String>,
    #[serde(default)]
    tags: Tags,
    #[serde(default)]
    disposition: Disposition,
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    attached_pic: i64,
}

/// `24000/1001` as a rational; none for ffprobe's `0/0` (unknown).
fn rational(text: &str) -> Option<[i64; 2]> {
    let (n, d) = text.split_once('/')?;
    let (n, d): (i64, i64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (n > 0 && d > 0).then_some([n, d])
}

/// A known value: ffprobe writes `unknown` for tags it could not read.
fn known(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty() && s != "unknown")
}

/// Reads ffprobe's JSON.
pub fn parse(json: &str) -> Result<Probe, ProbeError> {
    let raw: Raw = serde_json::from_str(json).map_err(|e| ProbeError::NotJson(e.to_string()))?;
    let format = raw.format;
    let mut video = None;
    let mut audio = Vec::new();
    let mut timecode = None;
    let mut reel = None;
    for s in raw.streams {
        timecode = timecode.or(known(s.tags.timecode));
        reel = reel.or(known(s.tags.reel_name)).or(known(s.tags.reel));
        match s.codec_type.as_deref() {
            // The first picture that is not a cover image.
            Some("video") if video.is_none() && s.disposition.attached_pic == 0 => {
                video = Some(VideoStream {
                    codec: s.codec_name.unwrap_or_default(),
                    profile: known(s.profile),
                    width: s.width.unwrap_or(0),
                    height: s.height.unwrap_or(0),
                    pix_fmt: known(s.pix_fmt),
                    color_space: known(s.color_space),
                    color_transfer: known(s.color_transfer),
                    color_primaries: known(s.color_primaries),
                    fps: s
                        .r_frame_rate
                        .as_deref()
                        .and_then(rational)
                        .or_else(|| s.avg_frame_rate.as_deref().and_then(rational)),
                    frames: s.nb_frames.and_then(|n| n.parse().ok()),
                })
            }
            Some("audio") => audio.push(AudioStream {
                codec: s.codec_name.unwrap_or_default(),
                channels: s.channels.unwrap_or(0),
                channel_layout: known(s.channel_layout),
                sample_rate: s.sample_rate.and_then(|r| r.parse().ok()),
            }),
            _ => {}
        }
    }
    if video.is_none() && audio.is_empty() {
        return Err(ProbeError::NoStreams);
    }
    let (container, duration, tags) = match format {
        Some(f) => (
            f.format_name.unwrap_or_default(),
            f.duration.and_then(|d| d.parse::<f64>().ok()),
            f.tags,
        ),
        None => (String::new(), None, Tags::default()),
    };
    Ok(Probe {
        container,
        duration: duration.filter(|d| d.is_finite() && *d >= 0.0),
        video,
        audio,
        timecode: timecode.or(known(tags.timecode)),
        reel: reel.or(known(tags.reel_name)).or(known(tags.reel)),
    })
}

/// The last line ffprobe wrote to its error output: its reason, e.g. `Invalid data found when
/// processing input`, without the file's path before it.
pub fn reason(stderr: &str) -> String {
    let line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match line.rsplit_once(": ") {
        Some((_, why)) if !why.is_empty() => why.to_string(),
        _ => line.to_string(),
    }
    .chars()
    .take(300)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prores_take_with_its_timecode() {
        let p = parse(include_str!("fixtures/prores_hq_2398_tc.json")).unwrap();
        let v = p.video.as_ref().unwrap();
        assert_eq!(
            (v.codec.as_str(), v.profile.as_deref()),
            ("prores", Some("HQ"))
        );
        assert_eq!((v.width, v.height), (1920, 1080));
        assert_eq!(v.pix_fmt.as_deref(), Some("yuv422p10le"));
        assert_eq!(v.fps, Some([24000, 1001]), "23.976 as the rational it is");
        assert_eq!(v.frames, Some(48));
        assert_eq!(p.timecode.as_deref(), Some("01:00:00:00"));
        assert_eq!(p.audio.len(), 1);
        assert_eq!(p.audio[0].codec, "pcm_s24le");
        assert_eq!(
            (p.audio[0].channels, p.audio[0].sample_rate),
            (2, Some(48000))
        );
        assert!(p.container.starts_with("mov"));
        assert!((p.duration.unwrap() - 2.002).abs() < 1e-9);
    }

    #[test]
    fn an_h264_proxy_and_a_sound_file() {
        let p = parse(include_str!("fixtures/h264_25.json")).unwrap();
        let v = p.video.unwrap();
        assert_eq!(
            (v.codec.as_str(), v.width, v.height, v.fps),
            ("h264", 640, 360, Some([25, 1]))
        );
        assert!(p.audio.is_empty() && p.timecode.is_none());
        let p = parse(include_str!("fixtures/wav_6ch.json")).unwrap();
        assert!(p.video.is_none());
        assert_eq!(p.audio[0].channel_layout.as_deref(), Some("5.1"));
        assert_eq!(p.audio[0].channels, 6);
    }

    #[test]
    fn what_is_not_a_probe_is_said() {
        assert!(matches!(parse("{}"), Err(ProbeError::NoStreams)));
        assert!(matches!(parse("not json"), Err(ProbeError::NotJson(_))));
        assert_eq!(
            reason(
                "[mov,mp4 @ 0x55] moov atom not found\n/tmp/x/junk.mov: Invalid data found when processing input\n"
            ),
            "Invalid data found when processing input"
        );
        assert_eq!(rational("0/0"), None);
        assert_eq!(rational("30000/1001"), Some([30000, 1001]));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panic(s in ".{0,400}") {
            let _ = parse(&s);
            let _ = reason(&s);
        }

        #[test]
        fn any_json_shape_is_read_without_panic(
            codec in proptest::option::of(".{0,10}"),
            w in proptest::option::of(-5i64..10_000),
            rate in ".{0,12}",
        ) {
            let j = serde_json::json!({"streams": [{"codec_type": "video", "codec_name": codec,
                "width": w, "r_frame_rate": rate}], "format": {"duration": rate}});
            let _ = parse(&j.to_string());
        }
    }
}
