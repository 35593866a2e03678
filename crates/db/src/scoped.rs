//! The tenant rule, checked before every read and statement of a tenant's handle: the statement
//! filters by its organisation. A tenant query that forgot its organisation fails its first
//! test instead of reading across organisations.
//!
//! What counts as filtering, read from the statement's text (the code's own SQL, never input):
//! - a comparison in its `WHERE` (or a join's `ON`): `org_id = $k`, `t.org_id = $k`, or a
//!   column naming the organisation as a party to another's row (`PARTIES`: a grant received,
//!   a licence sold, an account the market keeps for it), with `$k` bound to the organisation;
//! - on `orgs`, the organisation's own row: `id = $k` with `$k` bound to it;
//! - an `INSERT … VALUES` whose `org_id` column takes `$k`, bound to it, in every row it
//!   inserts; an `INSERT … SELECT` must do that and also filter what it selects, as above.

use uuid::Uuid;

use crate::{Arg, DbError};

/// `Ok` when `text` filters by `org` as the module docs say, with `args` as `$1…`.
pub fn check_scoped(org: Uuid, text: &str, args: &[Arg]) -> Result<(), DbError> {
    let org = Arg::Uuid(Some(org));
    let bound = |k: usize| k >= 1 && args.get(k - 1) == Some(&org);
    let scoped = match insert_org_values(text) {
        Some((values, select)) => {
            !values.is_empty()
                && values.iter().all(|v| param(v).is_some_and(bound))
                && select.is_none_or(|s| filters(s, &bound, false))
        }
        // A party reads another's row; it never changes it.
        None => filters(text, &bound, is_select(text)),
    };
    if scoped {
        Ok(())
    } else {
        Err(DbError::Unscoped(text.chars().take(120).collect()))
    }
}

/// The prefixes of the columns that name an organisation as a party to a row another
/// organisation owns, which it may read and never change: `seller_org_id` (a licence of its
/// listing, bought by another) and `holder_org_id` (an account the market's operator keeps for
/// it), `vendor_org_id` (a work order it was invited to or awarded, and its milestones) and
/// `client_org_id` (a bid for the work order it posted). (`grantee_org_id`, a grant it
/// received, filters its statements too.)
const PARTIES: [&str; 4] = ["seller_", "holder_", "vendor_", "client_"];

/// Whether `text` only reads (a `SELECT`).
fn is_select(text: &str) -> bool {
    text.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))
}

/// `$k` → k.
fn param(token: &str) -> Option<usize> {
    token.trim().strip_prefix('$')?.parse().ok()
}

/// Whether the filtering part of `text` (after its first `WHERE` or `ON`) compares an
/// organisation column, or the `orgs` table's `id`, with a parameter `bound` accepts. Runs
/// before every tenant statement, so it only searches for the column names (no scan of every
/// word): a few hundred nanoseconds for a long statement.
fn filters(text: &str, bound: &impl Fn(usize) -> bool, parties: bool) -> bool {
    let start = [" WHERE ", "\nWHERE ", " ON ", "\nON "]
        .iter()
        .filter_map(|k| text.find(k))
        .min();
    let Some(start) = start else {
        return false;
    };
    let tail = &text[start..];
    let compared = |column: &str| {
        tail.match_indices(column).any(|(at, _)| {
            // The whole column name (`org_id`, `t.org_id`, `grantee_org_id`), not a longer one.
            let before = tail[..at].chars().next_back();
            let whole = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                || column == "org_id" && tail[..at].ends_with("grantee_")
                || column == "org_id" && parties && PARTIES.iter().any(|p| tail[..at].ends_with(p));
            whole && equals_bound(&tail[at + column.len()..], bound)
        })
    };
    compared("org_id") || (names_orgs(text) && compared("id"))
}

/// `rest` starts with `= $k` (spaces allowed) and `bound(k)`.
fn equals_bound(rest: &str, bound: &impl Fn(usize) -> bool) -> bool {
    let Some(value) = rest.trim_start().strip_prefix('=') else {
        return false;
    };
    let Some(digits) = value.trim_start().strip_prefix('$') else {
        return false;
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().is_ok_and(bound)
}

/// Whether `text` reads or writes the `orgs` table (the word itself, not `orgs_…`).
fn names_orgs(text: &str) -> bool {
    text.match_indices("orgs").any(|(at, w)| {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        !text[..at].chars().next_back().is_some_and(ident)
            && !text[at + w.len()..].chars().next().is_some_and(ident)
    })
}

/// For an `INSERT`: the value its `org_id` column takes in each row (`$k`), and the text of its
/// `SELECT` when it inserts the rows of one. `None` when `text` is no `INSERT` (or names no
/// `org_id` column, which then fails as a statement without a filter). Rows are read with their
/// quotes and brackets counted, so a comma or a parenthesis inside a value moves nothing; text
/// after the rows other than `ON CONFLICT` or `RETURNING` gives no value for a row, which fails
/// the check: closed, not open.
fn insert_org_values(text: &str) -> Option<(Vec<&str>, Option<&str>)> {
    let t = text.trim_start();
    if !t.starts_with("INSERT INTO") {
        return None;
    }
    let open = t.find('(')?;
    let close = open + t[open..].find(')')?;
    let at = t[open + 1..close]
        .split(',')
        .position(|c| c.trim() == "org_id")?;
    let after = &t[close + 1..];
    let body = after.trim_start();
    if let Some(rows) = body.strip_prefix("VALUES") {
        let mut values = Vec::new();
        let mut rest = rows.trim_start();
        loop {
            let Some(row) = rest.strip_prefix('(') else {
                return Some((vec!["(unreadable)"], None));
            };
            let (fields, end) = top_level_fields(row)?;
            values.push(fields.get(at).copied().unwrap_or("(unreadable)"));
            rest = row[end + 1..].trim_start();
            if let Some(next) = rest.strip_prefix(',') {
                rest = next.trim_start();
                continue;
            }
            let done =
                rest.is_empty() || rest.starts_with("ON CONFLICT") || rest.starts_with("RETURNING");
            if !done {
                values.push("(unreadable)");
            }
            return Some((values, None));
        }
    }
    let select = body.strip_prefix("SELECT")?;
    let (fields, _) = top_level_fields(&format!("{select})"))
        .map(|(f, e)| (f.into_iter().map(|x| x.to_string()).collect::<Vec<_>>(), e))?;
    let value = fields.get(at)?.split_whitespace().next()?;
    // The value is found again in `select` so that it borrows from `text`.
    let start = select.find(value)?;
    Some((vec![&select[start..start + value.len()]], Some(select)))
}

/// The fields of a row that starts just after its `(`: split at the commas outside quotes and
/// brackets, up to the `)` that closes the row; with that `)`'s position. `None` when the row
/// never closes.
fn top_level_fields(row: &str) -> Option<(Vec<&str>, usize)> {
    let mut fields = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in row.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            _ if quoted => {}
            '(' => depth += 1,
            ')' if depth == 0 => {
                fields.push(row[start..i].trim());
                return Some((fields, i));
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(row[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, args: &[Arg], org: Uuid) -> bool {
        check_scoped(org, text, args).is_ok()
    }

    #[test]
    fn a_statement_must_filter_by_its_organisation_not_merely_mention_it() {
        let (org, other) = (Uuid::now_v7(), Uuid::now_v7());
        let a = |v: &[Uuid]| v.iter().map(|u| Arg::from(*u)).collect::<Vec<_>>();
        // Filters.
        for text in [
            "SELECT id FROM shots WHERE org_id = $1 AND id = $2",
            "SELECT t.id FROM tasks t JOIN shots s ON s.id = t.shot_id WHERE t.org_id = $1",
            "UPDATE tasks SET priority = $2 WHERE id = $3 AND org_id = $1",
            "DELETE FROM casting WHERE org_id=$1 AND shot_id = $2",
            "SELECT id FROM grants WHERE grantee_org_id = $1",
            "SELECT id FROM market_licences WHERE seller_org_id = $1",
            "SELECT id FROM ledger_accounts WHERE holder_org_id = $1",
            "SELECT id FROM work_orders WHERE vendor_org_id = $1",
            "SELECT id FROM work_order_bids WHERE client_org_id = $1",
            "UPDATE orgs SET name = $2 WHERE id = $1",
            "INSERT INTO notes (id, org_id, body) VALUES ($2, $1, $3)",
            "INSERT INTO m (org_id, note_id) SELECT $1, n.id FROM notes n WHERE n.org_id = $1",
            "INSERT INTO notes (id, org_id, body) VALUES ($2, $1, $3), ($3, $1, 'x'), ($2, $1, $2)",
            "INSERT INTO notes (id, org_id) VALUES ($2, $1) ON CONFLICT (id) DO NOTHING",
            "INSERT INTO notes (id, org_id, body) VALUES ($2, $1, lower($3)), ($3, $1, 'a,(b')",
        ] {
            assert!(ok(text, &a(&[org, other, other]), org), "{text}");
        }
        // Do not.
        for text in [
            // Binds the organisation, filters by nothing of it.
            "SELECT id FROM shots WHERE id = $2 AND name <> $1",
            // Names it only where it is set, not where rows are chosen.
            "UPDATE shots SET org_id = $1 WHERE id = $2",
            // Compares it with another organisation's id.
            "SELECT id FROM shots WHERE org_id = $2",
            // Inserts under the organisation rows it selects from anyone's.
            "INSERT INTO casting (org_id, shot_id) SELECT $1, id FROM shots WHERE id = $2",
            // Inserts under another organisation.
            "INSERT INTO notes (id, org_id, body) VALUES ($1, $2, $3)",
            // ... in its second row only.
            "INSERT INTO notes (id, org_id, body) VALUES ($2, $1, $3), ($3, $2, $3)",
            // A row after a value with parentheses is read too.
            "INSERT INTO notes (id, org_id, body) VALUES ($2, $1, lower($3)), ($3, $2, $3)",
            // A comma inside a value moves no column.
            "INSERT INTO notes (body, id, org_id) VALUES ('x,y', $1, $2)",
            "INSERT INTO notes (body, id, org_id) VALUES (coalesce($3, $2), $1, $2)",
            // Text after the rows that is neither ON CONFLICT nor RETURNING.
            "INSERT INTO notes (id, org_id) VALUES ($2, $1) UNION SELECT $3, $2",
            // No filter at all.
            "SELECT COUNT(*) FROM shots",
            // A longer column that merely ends like one.
            "SELECT id FROM market_licences WHERE buyer_org_id = $1",
            // A party reads another's row, never changes it.
            "UPDATE market_licences SET state = $2 WHERE seller_org_id = $1",
            "DELETE FROM ledger_accounts WHERE holder_org_id = $1",
            "UPDATE work_orders SET state = $2 WHERE vendor_org_id = $1",
            "DELETE FROM work_order_bids WHERE client_org_id = $1",
            // `id` of a table that is not `orgs`.
            "UPDATE shots SET name = $2 WHERE id = $1",
        ] {
            assert!(!ok(text, &a(&[org, other, other]), org), "{text}");
        }
    }
}
