//! The locators of shots (an editor's markers, `shot_locators`): written by the conform from the
//! cut's `* LOC:` lines or OTIO markers, read for a shot and for a sequence's export.

use std::collections::HashMap;

use mstation_core::tracking::conform::{Conform, ShotLocator};
use uuid::Uuid;

use super::Shot;
use crate::{Arg, Result, Tenant};

/// A locator row: its shot, frame, colour and text.
type LocatorRow = (Uuid, i64, Option<String>, String);

/// The locators of a sequence's shots ($2), by shot and in order: what a conform plans from.
pub(super) const SEQUENCE_LOCATORS: &str = "SELECT l.shot_id, l.frame, l.colour, l.text
     FROM shot_locators l JOIN shots s ON s.id = l.shot_id
     WHERE l.org_id = $1 AND s.org_id = $1 AND s.sequence_id = $2
     ORDER BY l.shot_id, l.position";

/// How many shots one DELETE of a conform clears, and how many locators one INSERT writes.
const CHUNK: usize = 400;

impl Tenant<'_> {
    /// A shot with its locators (`Shot::locators`): what reading one shot answers.
    pub async fn shot_with_locators(&self, id: Uuid) -> Result<Shot> {
        let mut shot = self.shot(id).await?;
        shot.locators = Some(self.shot_locators(id).await?);
        Ok(shot)
    }

    /// A shot's locators, in order; an unknown shot has none.
    pub async fn shot_locators(&self, shot_id: Uuid) -> Result<Vec<ShotLocator>> {
        let rows: Vec<LocatorRow> = self
            .read(
                "SELECT shot_id, frame, colour, text FROM shot_locators
                 WHERE org_id = $1 AND shot_id = $2 ORDER BY position",
                &[self.org_id().into(), shot_id.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|r| locator(r).1).collect())
    }

    /// The locators of every shot of a sequence, by shot id (a shot without any is absent).
    pub async fn sequence_locators(
        &self,
        sequence_id: Uuid,
    ) -> Result<HashMap<Uuid, Vec<ShotLocator>>> {
        let rows = self
            .read(
                SEQUENCE_LOCATORS,
                &[self.org_id().into(), sequence_id.into()],
            )
            .await?;
        Ok(by_shot(rows))
    }
}

fn locator((shot_id, frame, colour, text): LocatorRow) -> (Uuid, ShotLocator) {
    (
        shot_id,
        ShotLocator {
            frame,
            colour,
            text,
        },
    )
}

/// Rows in `SEQUENCE_LOCATORS`' order, gathered by shot.
pub(super) fn by_shot(rows: Vec<LocatorRow>) -> HashMap<Uuid, Vec<ShotLocator>> {
    let mut out: HashMap<Uuid, Vec<ShotLocator>> = HashMap::new();
    for row in rows {
        let (shot_id, l) = locator(row);
        out.entry(shot_id).or_default().push(l);
    }
    out
}

/// The statements that give a conform's shots the locators it planned, after its shots are
/// written: the set of each changed shot whose locators differ is deleted, then the sets of
/// those and of the new shots (`new_ids`, in `plan.new`'s order) inserted, positions from 1.
/// Shots the cut leaves alone, or changes otherwise, keep theirs untouched. Set-based: up to
/// 400 shots a DELETE, 400 locators an INSERT.
pub(super) fn locator_writes(
    org_id: Uuid,
    plan: &Conform,
    new_ids: &[Uuid],
) -> Vec<(String, Vec<Arg>)> {
    let changed: Vec<(Uuid, &[ShotLocator])> = plan
        .changed
        .iter()
        .filter(|c| c.fields.contains(&"locators"))
        .map(|c| (c.id, c.after.locators.as_slice()))
        .collect();
    let mut out = Vec::new();
    for chunk in changed.chunks(CHUNK) {
        // $1 organisation; then one shot id each.
        let ids: Vec<String> = (2..chunk.len() + 2).map(|k| format!("${k}")).collect();
        let text = format!(
            "DELETE FROM shot_locators WHERE org_id = $1 AND shot_id IN ({})",
            ids.join(", ")
        );
        let mut args: Vec<Arg> = vec![org_id.into()];
        args.extend(chunk.iter().map(|(id, _)| Arg::from(*id)));
        out.push((text, args));
    }
    let rows: Vec<(Uuid, i64, &ShotLocator)> = new_ids
        .iter()
        .zip(&plan.new)
        .map(|(id, p)| (*id, p.locators.as_slice()))
        .chain(changed)
        .flat_map(|(id, locators)| {
            (1i64..)
                .zip(locators)
                .map(move |(position, l)| (id, position, l))
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        // $1 organisation; then 5 a locator.
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let k = 2 + 5 * i;
                format!("($1, ${k}, ${}, ${}, ${}, ${})", k + 1, k + 2, k + 3, k + 4)
            })
            .collect();
        let text = format!(
            "INSERT INTO shot_locators (org_id, shot_id, position, frame, colour, text) VALUES {}",
            values.join(", ")
        );
        let mut args: Vec<Arg> = vec![org_id.into()];
        for (id, position, l) in chunk {
            args.extend([
                Arg::from(*id),
                (*position).into(),
                l.frame.into(),
                (&l.colour).into(),
                (&l.text).into(),
            ]);
        }
        out.push((text, args));
    }
    out
}
