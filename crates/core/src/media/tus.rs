//! The tus 1.0 resumable-upload headers (<https://tus.io/protocols/resumable-upload>): reading
//! what a client sends and writing what the server answers, so a camera card can be uploaded in
//! pieces and resumed after a dropped connection.

use std::collections::BTreeSet;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use thiserror::Error;

use crate::validate;

/// The protocol version we speak, for `Tus-Resumable` and `Tus-Version`.
pub const VERSION: &str = "1.0.0";

/// The protocol extensions we offer, for `Tus-Extension`.
pub const EXTENSIONS: &str =
    "creation,creation-with-upload,termination,checksum,expiration,concatenation";

/// The digests a client may send in `Upload-Checksum`, for `Tus-Checksum-Algorithm`.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";

/// The longest `Upload-Metadata` we read: a few names and types, never file contents.
pub const MAX_METADATA_BYTES: usize = 4096;

/// The most digits `Upload-Length` and `Upload-Offset` may have; 19 nines still fit in a `u64`.
const MAX_DIGITS: usize = 19;

/// Standard base64 as the protocol asks, written with padding; read with or without it, since
/// some clients leave it off.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What is wrong with a tus request header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TusError {
    #[error("Tus-Resumable is missing: this server speaks tus 1.0.0")]
    MissingVersion,
    #[error("Tus-Resumable {0:?} is not supported: this server speaks tus 1.0.0")]
    UnsupportedVersion(String),
    #[error("Upload-Length must be a whole number of bytes")]
    BadLength,
    #[error("Upload-Offset must be a whole number of bytes")]
    BadOffset,
    #[error("Upload-Metadata is {0} bytes long; at most 4096 are allowed")]
    MetadataTooLong(usize),
    #[error(
        "Upload-Metadata key {0:?} must be non-empty ASCII without spaces, commas or control characters"
    )]
    BadMetadataKey(String),
    #[error("Upload-Metadata names the key {0:?} more than once")]
    DuplicateMetadataKey(String),
    #[error("Upload-Metadata value of {0:?} must be base64")]
    BadMetadataValue(String),
    #[error("Upload-Metadata value of {0:?} must be UTF-8 text")]
    MetadataNotText(String),
    #[error("Upload-Checksum must be an algorithm name, one space and a base64 digest")]
    BadChecksum,
    #[error("Upload-Checksum algorithm {0:?} is not supported: use sha1 or sha256")]
    UnsupportedChecksum(String),
    #[error("Upload-Checksum {algorithm} digest must be {expected} bytes, not {actual}")]
    ChecksumLength {
        algorithm: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error(
        "Upload-Concat must be \"partial\", or \"final;\" and the addresses of at least one partial upload separated by spaces"
    )]
    BadConcat,
    #[error("Upload-Concat names {0:?}, which is not an upload's address here")]
    BadConcatPart(String),
}

impl TusError {
    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        match self {
            TusError::MissingVersion => "media.tus_version_missing",
            TusError::UnsupportedVersion(_) => "media.tus_version_unsupported",
            TusError::BadLength => "media.bad_upload_length",
            TusError::BadOffset => "media.bad_upload_offset",
            TusError::MetadataTooLong(_) => "media.metadata_too_long",
            TusError::BadMetadataKey(_) => "media.bad_metadata_key",
            TusError::DuplicateMetadataKey(_) => "media.duplicate_metadata_key",
            TusError::BadMetadataValue(_) => "media.bad_metadata_value",
            TusError::MetadataNotText(_) => "media.metadata_not_text",
            TusError::BadChecksum => "media.bad_checksum",
            TusError::UnsupportedChecksum(_) => "media.unsupported_checksum",
            TusError::ChecksumLength { .. } => "media.checksum_length",
            TusError::BadConcat => "media.bad_concat",
            TusError::BadConcatPart(_) => "media.bad_concat_part",
        }
    }
}

/// Checks the `Tus-Resumable` header every request but `OPTIONS` carries.
pub fn resumable(header: Option<&str>) -> Result<(), TusError> {
    match header {
        None => Err(TusError::MissingVersion),
        Some(VERSION) => Ok(()),
        Some(other) => Err(TusError::UnsupportedVersion(validate::excerpt(other))),
    }
}

/// Reads `Upload-Length`: the size of the whole file in bytes.
pub fn length(v: &str) -> Result<u64, TusError> {
    byte_count(v).ok_or(TusError::BadLength)
}

/// Reads `Upload-Offset`: how many bytes of the file the client believes the server has.
pub fn offset(v: &str) -> Result<u64, TusError> {
    byte_count(v).ok_or(TusError::BadOffset)
}

/// Plain decimal digits only: a sign, spaces or an empty value mean a client is confused about
/// where it is in the file, and guessing would corrupt the upload.
fn byte_count(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > MAX_DIGITS || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// The `Upload-Metadata` pairs in the order the client sent them. A key sent alone and a key
/// with an empty value mean the same in the protocol, and both are kept as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(pub Vec<(String, Option<Vec<u8>>)>);

impl Metadata {
    /// The value of `key` as text: `None` when the key is absent, an empty string when it was
    /// sent without a value, and an error when the bytes are not UTF-8, so a garbled file name is
    /// refused rather than shown with replacement characters.
    pub fn get_str(&self, key: &str) -> Result<Option<String>, TusError> {
        let Some((_, value)) = self.0.iter().find(|(k, _)| k == key) else {
            return Ok(None);
        };
        match value {
            None => Ok(Some(String::new())),
            Some(bytes) => String::from_utf8(bytes.clone())
                .map(Some)
                .map_err(|_| TusError::MetadataNotText(validate::excerpt(key))),
        }
    }

    /// The pairs written back as an `Upload-Metadata` header, for `HEAD` responses.
    pub fn to_header(&self) -> String {
        let mut out = String::new();
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            if let Some(bytes) = value.as_deref().filter(|b| !b.is_empty()) {
                out.push(' ');
                BASE64.encode_string(bytes, &mut out);
            }
        }
        out
    }
}

/// Reads `Upload-Metadata`: comma-separated `key base64value` pairs, or a lone `key`. Spaces and
/// tabs around a pair are allowed; keys must be unique.
pub fn parse_metadata(v: &str) -> Result<Metadata, TusError> {
    if v.len() > MAX_METADATA_BYTES {
        return Err(TusError::MetadataTooLong(v.len()));
    }
    let mut pairs = Vec::new();
    if is_blank(v) {
        return Ok(Metadata(pairs));
    }
    let mut seen = BTreeSet::new();
    for pair in v.split(',') {
        let pair = pair.trim_matches([' ', '\t']);
        let (key, value) = match pair.split_once(' ') {
            Some((key, value)) => (key, value),
            None => (pair, ""),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(TusError::BadMetadataKey(validate::excerpt(key)));
        }
        if !seen.insert(key) {
            return Err(TusError::DuplicateMetadataKey(validate::excerpt(key)));
        }
        let value = if value.is_empty() {
            None
        } else {
            let bytes = BASE64
                .decode(value)
                .map_err(|_| TusError::BadMetadataValue(validate::excerpt(key)))?;
            Some(bytes).filter(|b| !b.is_empty())
        };
        pairs.push((key.to_string(), value));
    }
    Ok(Metadata(pairs))
}

fn is_blank(v: &str) -> bool {
    v.bytes().all(|b| b == b' ' || b == b'\t')
}

/// A digest a client may send with a piece of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    /// The name the protocol uses.
    pub const fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Sha1 => "sha1",
            ChecksumAlgorithm::Sha256 => "sha256",
        }
    }

    /// The size of the digest in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }
}

/// Reads `Upload-Checksum`: an algorithm name, one space and the base64 digest of the piece in
/// the request body. An algorithm we do not offer is `UnsupportedChecksum`, which the protocol
/// answers with 400 rather than the 460 of a digest that does not match.
pub fn parse_checksum(v: &str) -> Result<(ChecksumAlgorithm, Vec<u8>), TusError> {
    let (name, digest) = v.split_once(' ').ok_or(TusError::BadChecksum)?;
    if name.is_empty() || digest.is_empty() || digest.contains(' ') {
        return Err(TusError::BadChecksum);
    }
    let algorithm = match name {
        "sha1" => ChecksumAlgorithm::Sha1,
        "sha256" => ChecksumAlgorithm::Sha256,
        other => return Err(TusError::UnsupportedChecksum(validate::excerpt(other))),
    };
    let digest = BASE64.decode(digest).map_err(|_| TusError::BadChecksum)?;
    if digest.len() != algorithm.digest_len() {
        return Err(TusError::ChecksumLength {
            algorithm: algorithm.name(),
            expected: algorithm.digest_len(),
            actual: digest.len(),
        });
    }
    Ok((algorithm, digest))
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment as an HTTP date (RFC 7231 IMF-fixdate), such as `Sun, 06 Nov 1994 08:49:37 GMT`, for
/// `Upload-Expires`. Milliseconds are dropped. Years outside 0000–9999 have no IMF-fixdate; they
/// are printed as they fall rather than refused, since no upload expires then.
pub fn http_date(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        MONTHS[month as usize - 1],
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
    )
}

/// The Gregorian date (year, month 1–12, day 1–31) of a count of days since 1970-01-01.
///
/// Years are counted from 1 March, so the leap day is the last day of a year and every month but
/// February has a fixed place; and dates repeat every 400 years (146 097 days), so only the day
/// within one such cycle needs working out.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    const CYCLE_DAYS: i64 = 146_097;
    // From 0000-03-01, the start of a 400-year cycle, to 1970-01-01.
    const EPOCH_FROM_CYCLE_START: i64 = 719_468;

    let since_start = days + EPOCH_FROM_CYCLE_START;
    let cycle = since_start.div_euclid(CYCLE_DAYS);
    let day_of_cycle = since_start.rem_euclid(CYCLE_DAYS);
    // Take out the leap days of the cycle so far (one every 4 years, less one every 100, plus
    // the one on the cycle's last day) and what is left is 365 days to a year.
    let year_of_cycle = (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524
        - day_of_cycle / (CYCLE_DAYS - 1))
        / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    // From March, months run 31, 30, 31, 30, 31 twice and then 31, 29: five months fill 153
    // days, so the month is a straight-line function of the day.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = cycle * 400 + year_of_cycle + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// The most partial uploads one final upload joins.
pub const MAX_PARTS: usize = 1000;

/// An upload's part in a concatenation (tus `concatenation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concat {
    /// A part, uploaded on its own (in parallel with the others).
    Partial,
    /// The upload made of these parts, in order, by their ids.
    Final(Vec<uuid::Uuid>),
}

/// Reads `Upload-Concat`: `partial`, or `final;` and the parts' addresses (`/files/<id>`, or
/// the same as a full URL), separated by spaces.
pub fn parse_concat(v: &str) -> Result<Concat, TusError> {
    if v == "partial" {
        return Ok(Concat::Partial);
    }
    let Some(list) = v.strip_prefix("final;") else {
        return Err(TusError::BadConcat);
    };
    let mut parts = Vec::new();
    for address in list.split(' ').filter(|a| !a.is_empty()) {
        let path = match address.find("://") {
            Some(i) => {
                let rest = &address[i + 3..];
                &rest[rest.find('/').unwrap_or(rest.len())..]
            }
            None => address,
        };
        let id = path
            .strip_prefix("/files/")
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .ok_or_else(|| TusError::BadConcatPart(validate::excerpt(address)))?;
        // A part is joined once.
        if parts.contains(&id) {
            return Err(TusError::BadConcat);
        }
        parts.push(id);
    }
    if parts.is_empty() || parts.len() > MAX_PARTS {
        return Err(TusError::BadConcat);
    }
    Ok(Concat::Final(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn version_must_be_1_0_0() {
        assert_eq!(resumable(Some("1.0.0")), Ok(()));
        assert_eq!(resumable(None), Err(TusError::MissingVersion));
        assert_eq!(
            resumable(Some("0.2.2")),
            Err(TusError::UnsupportedVersion("0.2.2".into()))
        );
        assert!(resumable(Some("")).is_err());
        assert!(resumable(Some(" 1.0.0")).is_err());
        assert!(resumable(Some("1.0")).is_err());
    }

    #[test]
    fn byte_counts_are_plain_digits() {
        assert_eq!(length("0"), Ok(0));
        assert_eq!(length("1048576"), Ok(1_048_576));
        assert_eq!(offset("007"), Ok(7));
        assert_eq!(length("9999999999999999999"), Ok(9_999_999_999_999_999_999));
        for bad in [
            "",
            "-1",
            "+5",
            " 5",
            "5 ",
            "1e3",
            "0x10",
            "1.5",
            "2026-13-45",
            "１２",
            "99999999999999999999",
            "18446744073709551616",
        ] {
            assert_eq!(length(bad), Err(TusError::BadLength), "{bad:?}");
            assert_eq!(offset(bad), Err(TusError::BadOffset), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_the_header() {
        assert_eq!(
            TusError::BadOffset.to_string(),
            "Upload-Offset must be a whole number of bytes"
        );
        assert!(TusError::BadLength.to_string().starts_with("Upload-Length"));
        assert!(
            TusError::MissingVersion
                .to_string()
                .starts_with("Tus-Resumable")
        );
        assert_eq!(TusError::BadChecksum.code(), "media.bad_checksum");
    }

    #[test]
    fn metadata_pairs_and_lone_keys() {
        let m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(
            m.get_str("filename").unwrap().as_deref(),
            Some("world_domination_plan.pdf")
        );
        assert_eq!(m.get_str("is_confidential").unwrap().as_deref(), Some(""));
        assert_eq!(m.get_str("filetype").unwrap(), None);
        assert_eq!(
            m.to_header(),
            "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential"
        );
    }

    #[test]
    fn metadata_tolerates_padding_and_spaces_around_pairs() {
        let unpadded = parse_metadata("name YQ").unwrap();
        assert_eq!(unpadded.get_str("name").unwrap().as_deref(), Some("a"));
        let spaced = parse_metadata("a YQ==, b Yg== ,c").unwrap();
        assert_eq!(spaced.0.len(), 3);
        assert_eq!(spaced.get_str("b").unwrap().as_deref(), Some("b"));
        assert_eq!(parse_metadata("").unwrap(), Metadata::default());
        assert_eq!(parse_metadata("  ").unwrap(), Metadata::default());
        // An empty value is the same as a lone key.
        assert_eq!(parse_metadata("k ").unwrap(), parse_metadata("k").unwrap());
    }

    #[test]
    fn metadata_keeps_chinese_file_names() {
        let name = "第一场_第三镜.mov";
        let header =
            Metadata(vec![("filename".into(), Some(name.as_bytes().to_vec()))]).to_header();
        let m = parse_metadata(&header).unwrap();
        assert_eq!(m.get_str("filename").unwrap().as_deref(), Some(name));
    }

    #[test]
    fn metadata_refuses_bad_input() {
        assert_eq!(
            parse_metadata("name !!!notbase64"),
            Err(TusError::BadMetadataValue("name".into()))
        );
        assert!(parse_metadata("name YQ=x").is_err());
        assert!(parse_metadata("name YQ== extra").is_err());
        assert_eq!(
            parse_metadata("a YQ==,a Yg=="),
            Err(TusError::DuplicateMetadataKey("a".into()))
        );
        assert!(parse_metadata("a,a").is_err());
        for bad in ["a YQ==,", ",a", "a,,b", "名字 YQ==", "a\u{1}b YQ=="] {
            assert!(
                matches!(parse_metadata(bad), Err(TusError::BadMetadataKey(_))),
                "{bad:?}"
            );
        }
        let long = format!("k {}", "A".repeat(MAX_METADATA_BYTES));
        assert_eq!(
            parse_metadata(&long),
            Err(TusError::MetadataTooLong(MAX_METADATA_BYTES + 2))
        );
    }

    #[test]
    fn metadata_text_must_be_utf8() {
        let m = Metadata(vec![("filename".into(), Some(vec![0xff, 0xfe, b'a']))]);
        assert_eq!(
            m.get_str("filename"),
            Err(TusError::MetadataNotText("filename".into()))
        );
    }

    #[test]
    fn checksums() {
        // The SHA-1 and SHA-256 digests of "abc".
        let (alg, digest) = parse_checksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        assert_eq!(alg, ChecksumAlgorithm::Sha1);
        assert_eq!(digest.len(), 20);
        assert_eq!(digest[0], 0xa9);
        let (alg, digest) =
            parse_checksum("sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=").unwrap();
        assert_eq!(alg, ChecksumAlgorithm::Sha256);
        assert_eq!(digest.len(), 32);
        assert!(parse_checksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0").is_ok());

        assert_eq!(
            parse_checksum("md5 kAFQmDzST7DWlj99KOF/cg=="),
            Err(TusError::UnsupportedChecksum("md5".into()))
        );
        assert_eq!(
            parse_checksum("sha256 qZk+NkcGgWq6PiVxeFDCbJzQ2J0="),
            Err(TusError::ChecksumLength {
                algorithm: "sha256",
                expected: 32,
                actual: 20
            })
        );
        for bad in [
            "",
            "sha1",
            "sha1 ",
            " qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
            "sha1  qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
            "sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0= ",
            "sha1 not*base64",
        ] {
            assert_eq!(parse_checksum(bad), Err(TusError::BadChecksum), "{bad:?}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(784_111_777_999), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            http_date(4_107_542_400_000),
            "Mon, 01 Mar 2100 00:00:00 GMT"
        );
        assert_eq!(
            http_date(1_790_812_800_000),
            "Thu, 01 Oct 2026 00:00:00 GMT"
        );
        assert_eq!(
            http_date(253_402_300_799_000),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    /// Days since 1970-01-01 of a Gregorian date, counted the slow way, to check the fast way.
    fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let year_days = |y: i64| if leap(y) { 366 } else { 365 };
        let mut days = 0;
        for y in 1970..year {
            days += year_days(y);
        }
        for y in year..1970 {
            days -= year_days(y);
        }
        for m in 1..month {
            days += month_days[m as usize - 1] + i64::from(m == 2 && leap(year));
        }
        days + i64::from(day) - 1
    }

    fn key() -> impl Strategy<Value = String> {
        "[!-+\\--~]{1,12}"
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}|[ -~]{0,200}") {
            let _ = resumable(Some(&s));
            let _ = length(&s);
            let _ = offset(&s);
            if let Ok(m) = parse_metadata(&s) {
                for (k, _) in &m.0 {
                    let _ = m.get_str(k);
                }
                let _ = m.to_header();
            }
            let _ = parse_checksum(&s);
        }

        #[test]
        fn byte_counts_round_trip(n in 0u64..=9_999_999_999_999_999_999) {
            prop_assert_eq!(length(&n.to_string()), Ok(n));
            prop_assert_eq!(offset(&n.to_string()), Ok(n));
        }

        #[test]
        fn metadata_round_trips(
            pairs in prop::collection::btree_map(
                key(),
                prop::option::of(prop::collection::vec(any::<u8>(), 1..40)),
                0..12,
            )
        ) {
            let m = Metadata(pairs.into_iter().collect());
            prop_assert_eq!(parse_metadata(&m.to_header()), Ok(m));
        }

        #[test]
        fn http_date_matches_the_calendar(ms in -62_167_219_200_000i64..253_402_300_800_000) {
            let text = http_date(ms);
            prop_assert_eq!(text.len(), 29);
            let days = ms.div_euclid(86_400_000);
            if (-3_000..300_000).contains(&days) {
                let (y, m, d) = civil_from_days(days);
                prop_assert_eq!(days_from_civil(y, m, d), days);
            }
        }

        #[test]
        fn http_date_never_panics(ms in any::<i64>()) {
            let _ = http_date(ms);
        }
    }

    #[test]
    fn concatenation_names_its_parts_by_address() {
        let a = "0190a1b2-0000-7000-8000-000000000001";
        let b = "0190a1b2-0000-7000-8000-000000000002";
        assert_eq!(parse_concat("partial"), Ok(Concat::Partial));
        let both = Concat::Final(vec![a.parse().unwrap(), b.parse().unwrap()]);
        assert_eq!(
            parse_concat(&format!("final;/files/{a} /files/{b}")),
            Ok(both.clone())
        );
        assert_eq!(
            parse_concat(&format!(
                "final;https://m.example/files/{a} http://127.0.0.1:8080/files/{b}"
            )),
            Ok(both)
        );
        assert!(
            parse_concat(&format!("final;/files/{a} /files/{a}")).is_err(),
            "a part twice"
        );
        for bad in [
            "",
            "Partial",
            "final;",
            "final; ",
            "final;/files/nope",
            "final;/etc/passwd",
            "final",
        ] {
            assert!(parse_concat(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            parse_concat(&format!("final;/api/v1/media/{a}")),
            Err(TusError::BadConcatPart(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn concat_never_panics(s in ".{0,300}") {
            let _ = parse_concat(&s);
        }
    }
}
