//! A grid's view: which rows and cells its filters keep and which extra columns it shows, as
//! its address carries them. A saved view is that address's query, kept by name per person, so
//! a view opened later reads exactly as the address did.
//!
//! Filters on tasks (person, due, status) keep a row when one of its tasks passes all of them,
//! and the grid dims the row's other cells; filters on rows (text, asset) keep or drop the row.

use std::collections::HashSet;

use mstation_store::tracking::tasks::{Task, TaskStatus};
use uuid::Uuid;

use super::{BadFilter, DuePick, MyDays, query_value};

/// The longest search text, in characters.
const MAX_TEXT: usize = 200;
/// The most extra columns one view shows.
const MAX_SHOW: usize = 20;

/// Whose work the person filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersonPick {
    Me,
    /// Tasks nobody is assigned to.
    Nobody,
    One(Uuid),
}

impl PersonPick {
    fn parse(s: &str) -> Option<PersonPick> {
        match s {
            "me" => Some(PersonPick::Me),
            "nobody" => Some(PersonPick::Nobody),
            id => Uuid::parse_str(id).ok().map(PersonPick::One),
        }
    }
    pub(crate) fn value(self) -> String {
        match self {
            PersonPick::Me => "me".into(),
            PersonPick::Nobody => "nobody".into(),
            PersonPick::One(id) => id.to_string(),
        }
    }
}

/// An extra column: each cell's due date or priority, or a custom field of the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Show {
    Due,
    Priority,
    /// The custom field of this key.
    Field(String),
}

impl Show {
    fn parse(s: &str) -> Option<Show> {
        match s {
            "due" => Some(Show::Due),
            "priority" => Some(Show::Priority),
            _ => s
                .strip_prefix("field.")
                .filter(|k| !k.is_empty() && k.len() <= 64)
                .map(|k| Show::Field(k.to_string())),
        }
    }
    pub(crate) fn value(&self) -> String {
        match self {
            Show::Due => "due".into(),
            Show::Priority => "priority".into(),
            Show::Field(k) => format!("field.{k}"),
        }
    }
}

/// The filters and columns of a grid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GridView {
    pub(crate) sequence: Option<Uuid>,
    /// Searched in names, clips, sequences, assignees and notes; empty for none.
    pub(crate) text: String,
    pub(crate) person: Option<PersonPick>,
    pub(crate) due: Option<DuePick>,
    /// Shots casting this asset.
    pub(crate) asset: Option<Uuid>,
    pub(crate) status: Option<Uuid>,
    pub(crate) show: Vec<Show>,
}

impl GridView {
    /// Reads a grid's query. An empty value is no filter; the last of a repeated one counts,
    /// but `show` repeats. Parameters that are not the grid's are left alone in an address
    /// (`strict` false) and refused in a view to be saved (`strict` true). Whether a sequence,
    /// person, asset, status or field exists is for the page to check against the organisation.
    pub(crate) fn read(pairs: &[(String, String)], strict: bool) -> Result<GridView, BadFilter> {
        let mut v = GridView::default();
        let uuid = |label: &'static str, s: &str| Uuid::parse_str(s).map_err(|_| bad(label, s));
        for (k, value) in pairs {
            let value = value.trim();
            match k.as_str() {
                "show" if !value.is_empty() => {
                    let s = Show::parse(value).ok_or_else(|| bad("grid-columns", value))?;
                    if !v.show.contains(&s) {
                        v.show.push(s);
                    }
                    if v.show.len() > MAX_SHOW {
                        return Err(bad("grid-columns", value));
                    }
                }
                _ if value.is_empty() && strict && !KEYS.contains(&k.as_str()) => {
                    return Err(bad("grid-view", k));
                }
                _ if value.is_empty() => {}
                "sequence" => v.sequence = Some(uuid("field-sequence", value)?),
                "q" => {
                    if value.chars().count() > MAX_TEXT {
                        return Err(bad("grid-search", value));
                    }
                    v.text = value.to_string();
                }
                "person" => {
                    v.person = Some(
                        PersonPick::parse(value).ok_or_else(|| bad("field-assignees", value))?,
                    )
                }
                "due" => {
                    v.due = Some(DuePick::parse(value).ok_or_else(|| bad("field-due", value))?)
                }
                "asset" => v.asset = Some(uuid("field-asset", value)?),
                "status" => v.status = Some(uuid("field-status", value)?),
                other if strict => return Err(bad("grid-view", other)),
                _ => {}
            }
        }
        Ok(v)
    }

    /// The query that reads back as this view, without `?`; empty for the plain grid.
    pub(crate) fn query(&self) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = self.sequence {
            q.push(("sequence", s.to_string()));
        }
        if !self.text.is_empty() {
            q.push(("q", self.text.clone()));
        }
        if let Some(p) = self.person {
            q.push(("person", p.value()));
        }
        if let Some(d) = self.due {
            q.push(("due", d.value().to_string()));
        }
        if let Some(a) = self.asset {
            q.push(("asset", a.to_string()));
        }
        if let Some(s) = self.status {
            q.push(("status", s.to_string()));
        }
        for s in &self.show {
            q.push(("show", s.value()));
        }
        q.iter()
            .map(|(k, v)| format!("{k}={}", query_value(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether a filter on tasks is set: rows are then kept by their tasks.
    pub(crate) fn filters_tasks(&self) -> bool {
        self.person.is_some() || self.due.is_some() || self.status.is_some()
    }

    /// Whether any filter is set (columns are not filters).
    pub(crate) fn filters(&self) -> bool {
        self.filters_tasks() || !self.text.is_empty() || self.asset.is_some()
    }

    pub(crate) fn shows(&self, s: &Show) -> bool {
        self.show.contains(s)
    }

    /// Whether `t` passes the filters on tasks. Due filters keep open work only.
    pub(crate) fn keeps_task(
        &self,
        t: &Task,
        status: Option<&TaskStatus>,
        me: Uuid,
        days: &MyDays,
    ) -> bool {
        if let Some(p) = self.person {
            let ok = match p {
                PersonPick::Me => has_assignee(&t.assignees, me),
                PersonPick::One(id) => has_assignee(&t.assignees, id),
                PersonPick::Nobody => t.assignees.trim().is_empty(),
            };
            if !ok {
                return false;
            }
        }
        if self.status.is_some_and(|s| s != t.status_id) {
            return false;
        }
        if let Some(due) = self.due {
            let finished = status.is_some_and(|s| s.is_done || s.client_approved);
            let Some(d) = t.due_date.as_deref().filter(|_| !finished) else {
                return false;
            };
            let ok = match due {
                DuePick::Overdue => d < days.today.as_str(),
                DuePick::Week => d >= days.today.as_str() && d <= days.week_end.as_str(),
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Whether a row passes the filters on rows: `haystack` is its lower-cased names (row,
    /// clip, sequence, assignees); `noted` the rows with a note holding the text; `cast` the
    /// shots casting the asset filtered on.
    pub(crate) fn keeps_row(
        &self,
        id: Uuid,
        haystack: &str,
        noted: &HashSet<Uuid>,
        cast: Option<&HashSet<Uuid>>,
    ) -> bool {
        if let Some(cast) = cast
            && !cast.contains(&id)
        {
            return false;
        }
        self.text.is_empty() || haystack.contains(&self.text.to_lowercase()) || noted.contains(&id)
    }
}

/// A filter the grid cannot show, said in the grid's words.
pub(crate) fn bad(filter: &'static str, value: &str) -> BadFilter {
    BadFilter {
        message: "grid-bad-filter",
        ..BadFilter::invalid(filter, value)
    }
}

/// Every parameter a grid reads.
const KEYS: [&str; 7] = ["sequence", "q", "person", "due", "asset", "status", "show"];

fn has_assignee(assignees: &str, id: Uuid) -> bool {
    let id = id.to_string();
    assignees.split_whitespace().any(|a| a == id)
}

/// The colour of text on a chip of background `hex` (`#rrggbb`): black or white, whichever
/// contrasts more (WCAG relative luminance), so a light status colour stays readable.
pub(crate) fn ink_on(hex: &str) -> &'static str {
    let h = hex.trim_start_matches('#');
    let channel = |i: usize| {
        h.get(i..i + 2)
            .and_then(|c| u8::from_str_radix(c, 16).ok())
            .map(|c| {
                let c = f64::from(c) / 255.0;
                if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            })
    };
    let (Some(r), Some(g), Some(b)) = (channel(0), channel(2), channel(4)) else {
        return "#fff";
    };
    let l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    // Contrast with black is (l + 0.05) / 0.05, with white 1.05 / (l + 0.05).
    if (l + 0.05) / 0.05 > 1.05 / (l + 0.05) {
        "#000"
    } else {
        "#fff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn a_view_reads_back_from_its_own_query() {
        let id = Uuid::new_v4();
        let q = format!(
            "person=me&due=overdue&q=sky+fix&asset={id}&show=due&show=field.lens&show=due&sequence="
        );
        let v = GridView::read(&pairs(&q), true).unwrap();
        assert_eq!(v.person, Some(PersonPick::Me));
        assert_eq!(v.due, Some(DuePick::Overdue));
        assert_eq!(v.text, "sky fix");
        assert_eq!(v.asset, Some(id));
        assert_eq!(v.show, vec![Show::Due, Show::Field("lens".into())]);
        assert_eq!(GridView::read(&pairs(&v.query()), true).unwrap(), v);
        assert_eq!(GridView::default().query(), "");
    }

    #[test]
    fn a_bad_filter_is_named_and_foreign_parameters_only_refused_when_saving() {
        for bad in [
            "person=someone",
            "due=tomorrow",
            "asset=x",
            "show=colour",
            "status=1",
        ] {
            assert!(GridView::read(&pairs(bad), false).is_err(), "{bad}");
        }
        assert!(GridView::read(&pairs("utm=1"), false).is_ok());
        assert!(GridView::read(&pairs("utm=1"), true).is_err());
        let long = format!("q={}", "a".repeat(201));
        assert!(GridView::read(&pairs(&long), false).is_err());
    }

    #[test]
    fn chips_take_the_ink_that_reads() {
        assert_eq!(ink_on("#e69f00"), "#000");
        assert_eq!(ink_on("#0072b2"), "#fff");
        assert_eq!(ink_on("#ffffff"), "#000");
        assert_eq!(ink_on("#000000"), "#fff");
        assert_eq!(ink_on("bad"), "#fff");
    }
}
