//! Instants and ids: integer milliseconds since the Unix epoch on both backends, and UUIDv7.

use serde::Serialize;
use uuid::Uuid;

/// An instant as integer milliseconds since the Unix epoch, UTC. Stored as an integer on both
/// backends (exact ordering, no text-collation surprises); shown as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct Millis(pub i64);

impl Millis {
    pub fn rfc3339(self) -> String {
        let mut out = Vec::with_capacity(24);
        self.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends what `rfc3339` returns: `time`'s RFC 3339 in UTC (the fraction without trailing
    /// zeros, none when the second is whole), written digit by digit for years 0 to 9999 (a
    /// grid of tasks writes two per task), and by `time` for any other instant.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        let (secs, ms) = (self.0.div_euclid(1000), self.0.rem_euclid(1000) as u32);
        let (days, second) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let date = i32::try_from(days + UNIX_EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|d| time::Date::from_julian_day(d).ok())
            .filter(|d| (0..=9999).contains(&d.year()));
        let Some(date) = date else {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let text = t
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            out.extend_from_slice(text.as_bytes());
            return;
        };
        let digits = |out: &mut Vec<u8>, n: u32, width: u32| {
            for p in (0..width).rev() {
                out.push(b'0' + (n / 10u32.pow(p) % 10) as u8);
            }
        };
        digits(out, date.year() as u32, 4);
        out.push(b'-');
        digits(out, date.month() as u32, 2);
        out.push(b'-');
        digits(out, date.day() as u32, 2);
        out.push(b'T');
        digits(out, second / 3600, 2);
        out.push(b':');
        digits(out, second / 60 % 60, 2);
        out.push(b':');
        digits(out, second % 60, 2);
        if ms != 0 {
            out.push(b'.');
            let width = if ms % 100 == 0 {
                1
            } else if ms % 10 == 0 {
                2
            } else {
                3
            };
            digits(out, ms / 10u32.pow(3 - width), width);
        }
        out.push(b'Z');
    }
}

/// The Julian day of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

impl rusqlite::types::FromSql for Millis {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(v).map(Millis)
    }
}

impl Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl utoipa::PartialSchema for Millis {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}
impl utoipa::ToSchema for Millis {}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Ids are UUIDv7: unique without coordination, and ordered by creation time, which makes them
/// the natural cursor of every list.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::Millis;

    /// What `time` writes for the instant, the reference `write_rfc3339` must match.
    fn by_time(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    #[test]
    fn instants_are_written_as_time_writes_them() {
        let year_10000 = 253_402_300_800_000;
        let mut cases = vec![
            0,
            1,
            -1,
            999,
            1000,
            1001,
            10,
            100,
            450,
            -86_400_000,
            951_782_400_000, // 2000-02-29
            1_764_000_000_123,
            -62_167_219_200_000, // 0000-01-01
            -62_167_219_200_001,
            year_10000 - 1,
            year_10000,
            i64::MIN,
            i64::MAX,
        ];
        // Instants across the years 0 to 9999 and beyond, from a fixed generator.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x % 700_000_000_000_000) as i64 - 300_000_000_000_000);
        }
        for ms in cases {
            assert_eq!(Millis(ms).rfc3339(), by_time(ms), "{ms} ms");
        }
    }
}
