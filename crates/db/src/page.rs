//! Paging: what a list request asks for ([`ListQuery`]) and what it answers ([`Page`]). Every
//! list is keyed by id (UUIDv7, so creation order) and pages by cursor, never by offset.

use uuid::Uuid;

/// One page of a list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many items match the filters, over all pages (see `total_capped`).
    pub total: i64,
    /// True when more than `COUNT_CAP` items match and `total` stops counting there, so a
    /// count never costs more than the page it comes with.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
}

/// Lists whose filters can match a large part of a big production count at most this far.
pub const COUNT_CAP: i64 = 10_000;

/// What a list request asks for, already checked by the caller.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: u32,
    pub after: Option<Uuid>,
    pub descending: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            limit: mstation_core::page::DEFAULT_LIMIT,
            after: None,
            descending: false,
        }
    }
}

impl ListQuery {
    /// The id comparison and order for a list keyed by id (creation order).
    pub fn order(&self) -> (&'static str, &'static str) {
        if self.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        }
    }
    /// The page of `items` (read with one more than the limit, to know whether more follow),
    /// with `total` and the cursor of the next page.
    pub fn finish<T>(&self, mut items: Vec<T>, total: i64, id_of: impl Fn(&T) -> Uuid) -> Page<T> {
        let more = items.len() > self.limit as usize;
        items.truncate(self.limit as usize);
        let next_cursor = if more {
            items.last().map(|t| {
                mstation_core::page::Cursor {
                    key: String::new(),
                    id: id_of(t),
                }
                .encode()
            })
        } else {
            None
        };
        Page {
            items,
            next_cursor,
            total,
            total_capped: false,
        }
    }
}
