//! Custom fields: what a project adds to its shots, assets and tasks beyond the built-in columns
//! (a bid in days, a delivery date, a complexity grade), and the checks a value passes first.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a custom field is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldEntity {
    Shot,
    Asset,
    Task,
}

impl FieldEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldEntity::Shot => "shot",
            FieldEntity::Asset => "asset",
            FieldEntity::Task => "task",
        }
    }
}

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// Free text, up to 2,000 characters.
    Text,
    /// A decimal number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the field's choices.
    Choice,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
        }
    }
    pub fn parse(s: &str) -> Option<FieldKind> {
        match s {
            "text" => Some(FieldKind::Text),
            "number" => Some(FieldKind::Number),
            "date" => Some(FieldKind::Date),
            "choice" => Some(FieldKind::Choice),
            _ => None,
        }
    }
    /// Numbers and dates have an order, so they filter by range too.
    pub fn ordered(self) -> bool {
        matches!(self, FieldKind::Number | FieldKind::Date)
    }
}

pub const MAX_TEXT: usize = 2000;
pub const MAX_CHOICES: usize = 100;
pub const MAX_KEY: usize = 40;

/// A key names the field in JSON and in `field.<key>` filters: a lower-case ASCII letter, then
/// up to 39 letters, digits or underscores. No dots, so `field.bid.gte` reads one way only.
pub fn key(v: &str) -> Result<String, &'static str> {
    let v = v.trim();
    let mut chars = v.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && v.len() <= MAX_KEY;
    if ok {
        Ok(v.to_string())
    } else {
        Err("invalid_key")
    }
}

/// A value as it is stored: the text given back, and for numbers and dates the number that
/// orders it (a date `2027-03-01` orders as 20270301).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub text: String,
    pub num: Option<f64>,
}

/// Checks one value of a field from a JSON body. `Ok(None)` clears the value: null, or empty text.
pub fn check_value(
    kind: FieldKind,
    choices: &[&str],
    v: &serde_json::Value,
) -> Result<Option<Stored>, &'static str> {
    use serde_json::Value;
    match (kind, v) {
        (_, Value::Null) => Ok(None),
        (FieldKind::Number, Value::Number(n)) => {
            number(n.as_f64().ok_or("not_a_number")?).map(Some)
        }
        (_, Value::String(s)) => check_text(kind, choices, s),
        (FieldKind::Number, _) => Err("not_a_number"),
        (FieldKind::Date, _) => Err("not_a_date"),
        _ => Err("not_a_string"),
    }
}

/// Checks a value given as text (a JSON string, or a query parameter of a filter).
pub fn check_text(
    kind: FieldKind,
    choices: &[&str],
    s: &str,
) -> Result<Option<Stored>, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match kind {
        FieldKind::Text => {
            if s.chars().count() > MAX_TEXT {
                return Err("too_long");
            }
            if s.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
            {
                return Err("control_characters");
            }
            Ok(Some(Stored {
                text: s.to_string(),
                num: None,
            }))
        }
        FieldKind::Number => number(s.parse::<f64>().map_err(|_| "not_a_number")?).map(Some),
        FieldKind::Date => {
            let n = date(s).ok_or("not_a_date")?;
            Ok(Some(Stored {
                text: s.to_string(),
                num: Some(n as f64),
            }))
        }
        FieldKind::Choice => {
            if choices.contains(&s) {
                Ok(Some(Stored {
                    text: s.to_string(),
                    num: None,
                }))
            } else {
                Err("not_one_of_the_choices")
            }
        }
    }
}

fn number(n: f64) -> Result<Stored, &'static str> {
    if !n.is_finite() {
        return Err("not_a_number");
    }
    let text = if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    };
    Ok(Stored { text, num: Some(n) })
}

/// `YYYY-MM-DD`, a real calendar day (leap years included), as the integer YYYYMMDD.
pub fn date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some(y * 10_000 + m * 100 + d)
}

/// A stored value as JSON: numbers as numbers, everything else as the text it was given.
pub fn to_json(kind: FieldKind, text: &str) -> serde_json::Value {
    if kind == FieldKind::Number
        && let Ok(n) = text.parse::<f64>()
    {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            return serde_json::json!(n as i64);
        }
        return serde_json::json!(n);
    }
    serde_json::Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn keys() {
        assert_eq!(key("bid_days"), Ok("bid_days".into()));
        for bad in ["", "Bid", "1bid", "bid.days", "bid-days", &"x".repeat(41)] {
            assert_eq!(key(bad), Err("invalid_key"), "{bad}");
        }
    }

    #[test]
    fn values_by_kind() {
        let choices = ["easy", "hard"];
        let n = check_value(FieldKind::Number, &[], &json!(2.5))
            .unwrap()
            .unwrap();
        assert_eq!((n.text.as_str(), n.num), ("2.5", Some(2.5)));
        let n = check_value(FieldKind::Number, &[], &json!("12"))
            .unwrap()
            .unwrap();
        assert_eq!((n.text.as_str(), n.num), ("12", Some(12.0)));
        assert_eq!(
            check_value(FieldKind::Number, &[], &json!("twelve")),
            Err("not_a_number")
        );
        assert_eq!(
            check_value(FieldKind::Number, &[], &json!(true)),
            Err("not_a_number")
        );
        let d = check_value(FieldKind::Date, &[], &json!("2028-02-29"))
            .unwrap()
            .unwrap();
        assert_eq!(d.num, Some(20280229.0));
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-1-01",
            "27-01-01",
            "2027-04-31",
        ] {
            assert_eq!(
                check_value(FieldKind::Date, &[], &json!(bad)),
                Err("not_a_date"),
                "{bad}"
            );
        }
        assert!(
            check_value(FieldKind::Choice, &choices, &json!("hard"))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            check_value(FieldKind::Choice, &choices, &json!("medium")),
            Err("not_one_of_the_choices")
        );
        assert_eq!(
            check_value(FieldKind::Text, &[], &json!("x".repeat(2001))),
            Err("too_long")
        );
        assert_eq!(
            check_value(FieldKind::Text, &[], &json!(3)),
            Err("not_a_string")
        );
        assert_eq!(check_value(FieldKind::Text, &[], &json!(null)), Ok(None));
        assert_eq!(check_value(FieldKind::Text, &[], &json!("  ")), Ok(None));
        assert_eq!(to_json(FieldKind::Number, "12"), json!(12));
        assert_eq!(to_json(FieldKind::Number, "2.5"), json!(2.5));
        assert_eq!(to_json(FieldKind::Date, "2027-03-01"), json!("2027-03-01"));
    }

    proptest! {
        /// Dates order as their numbers do, so a range filter on the number is a range of days.
        #[test]
        fn dates_order_like_their_numbers(a in 0u32..3_000_000, b in 0u32..3_000_000) {
            let day = |n: u32| format!("{:04}-{:02}-{:02}", 1900 + n / 372, 1 + (n / 31) % 12, 1 + n % 28);
            let (x, y) = (day(a), day(b));
            let (nx, ny) = (date(&x).unwrap(), date(&y).unwrap());
            prop_assert_eq!(x.cmp(&y), nx.cmp(&ny));
        }

        /// A number given back reads as the same number.
        #[test]
        fn numbers_round_trip(n in -1.0e12f64..1.0e12) {
            let s = check_value(FieldKind::Number, &[], &json!(n)).unwrap().unwrap();
            prop_assert_eq!(s.text.parse::<f64>().unwrap(), s.num.unwrap());
            prop_assert_eq!(to_json(FieldKind::Number, &s.text).as_f64().unwrap(), s.num.unwrap());
        }
    }
}
