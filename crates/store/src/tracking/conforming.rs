//! Conforming a sequence to an edit (an EDL or OTIO import): planned outside the writer, then
//! written set-based, a few hundred shots a statement.
//!
//! On SQLite every organisation's writes wait for the one writer. A cut with many new shots is
//! therefore written out of sight (`shots.staged` holds the conform's id), a few thousand shots a
//! transaction with other writes in between, and shown in one short transaction that also writes
//! the changed and omitted shots, the locators and the record. Every read of a sequence's shots
//! skips staged rows, so the cut still appears all at once, or not at all: a conform that fails,
//! or is cut off, leaves only staged rows, which the next conform of the sequence clears first.
//! PostgreSQL writes the whole cut in one transaction: its writers do not wait for each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mstation_core::tracking::conform::{self, Conform, ConformOptions, ExistingShot, ShotLocator};
use mstation_core::tracking::edl::Edl;
use mstation_core::validate::FieldError;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use super::{SHOT_COLS, Shot, locators};
use crate::{Actor, Arg, Backend, Change, Result, Tenant, WriteTx, new_id, now_ms};

/// How many new shots a conform writes in one transaction on SQLite (`Store::with_conform_batch`);
/// a cut with more is staged. About 7 ms of the writer's time on the reference machine.
pub const CONFORM_BATCH: usize = 2_000;

/// Conforms of one sequence take their turns in this process (a SQLite file has one server): a
/// conform staging its shots is never overtaken by another of the same sequence. A turn also
/// says whether a conform of the sequence stopped while staging (failed, or its request went
/// away), so that its shots may still be out of sight: the next one clears them first.
#[derive(Default)]
pub(crate) struct ConformTurns(Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<bool>>>>);

impl ConformTurns {
    async fn take(&self, sequence_id: Uuid) -> OwnedMutexGuard<bool> {
        let turn = {
            let mut turns = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // A sequence nobody is conforming, with nothing left staged, needs no entry.
            turns
                .retain(|_, t| Arc::strong_count(t) > 1 || t.try_lock().map_or(true, |left| *left));
            turns.entry(sequence_id).or_default().clone()
        };
        turn.lock_owned().await
    }
}

impl Tenant<'_> {
    /// Conforms a sequence to an edit: computes the diff and, when `apply`, writes it (new shots
    /// created, changed shots updated, missing shots marked omitted), all or nothing. What is
    /// written matches the cut it was planned from: the cut is checked again where it is shown.
    pub async fn conform_sequence(
        &self,
        sequence_id: Uuid,
        edl: &Edl,
        apply: bool,
    ) -> Result<Conform> {
        let scope = self.scope();
        let seq = self.sequence(sequence_id).await?;
        let project = self.project(seq.project_id).await?;
        let opts = ConformOptions {
            sequence_name: seq.name.clone(),
            start_frame: project.start_frame,
            head_handles: project.head_handles,
            tail_handles: project.tail_handles,
        };
        let load = format!(
            "SELECT {SHOT_COLS} FROM shots WHERE org_id = $1 AND sequence_id = $2 AND staged IS NULL
             ORDER BY cut_order, id"
        );
        if !apply {
            let shots: Vec<Shot> = self
                .read(&load, &[scope.org_id.into(), sequence_id.into()])
                .await?;
            let marks = self.sequence_locators(sequence_id).await?;
            return with_shots(conform::plan(&existing(&shots, marks), edl, &opts));
        }
        let staging = self.store.backend() == Backend::Sqlite;
        let mut turn = match staging {
            true => Some(self.store.conform_turns.take(sequence_id).await),
            false => None,
        };
        if let Some(left) = turn.as_mut()
            && **left
        {
            // What a conform that stopped while staging left out of sight. Through the writer,
            // so after any write that conform had handed it.
            self.drop_staged(sequence_id).await?;
            **left = false;
        }
        let place = (scope.org_id, project.id, sequence_id);
        // Planned, and every statement built, before the writer is asked for: inside it only
        // the writing happens.
        let shots: Vec<Shot> = self
            .read(&load, &[scope.org_id.into(), sequence_id.into()])
            .await?;
        let seen = cut_state(&shots);
        let marks = self.sequence_locators(sequence_id).await?;
        let plan = with_shots(conform::plan(&existing(&shots, marks), edl, &opts))?;
        if let Some(left) = turn.as_mut()
            && plan.new.len() > self.store.conform_batch
        {
            // Until shown or cleared, in case this request goes away meanwhile.
            **left = true;
            let stage = new_id();
            let writes = conform_writes(&plan, place, Some(stage));
            match self.stage_and_show(writes, place, stage, seen).await {
                Ok(true) => {
                    **left = false;
                    return Ok(plan);
                }
                // The cut changed after it was read (a conform of another process on this
                // file): cleared, then written at once below, planned again inside.
                Ok(false) => {
                    self.drop_staged(sequence_id).await?;
                    **left = false;
                }
                Err(e) => {
                    if self.drop_staged(sequence_id).await.is_ok() {
                        **left = false;
                    }
                    return Err(e);
                }
            }
        }
        let writes = conform_writes(&plan, place, None);
        let actor = Actor::of(scope);
        let org_id = scope.org_id;
        let edl = edl.clone();
        let plan = self
            .write(move |tx| {
                Box::pin(async move {
                    // Two conforms of one sequence take turns (PostgreSQL; SQLite's take theirs
                    // above): each plans from the cut the other left.
                    let text = format!(
                        "SELECT id FROM sequences WHERE org_id = $1 AND id = $2{}",
                        tx.lock_rows()
                    );
                    let _: Option<Uuid> = tx
                        .scalar_opt(&text, &[org_id.into(), sequence_id.into()])
                        .await?;
                    // Shots change only by conforms, each of which moves a version or adds a
                    // shot: a conform that slipped in since the plan is planned again, here.
                    let (plan, writes) = if cut_state_in(tx, org_id, sequence_id).await? == seen {
                        (plan, writes)
                    } else {
                        let shots: Vec<Shot> = tx
                            .query(&load, &[org_id.into(), sequence_id.into()])
                            .await?;
                        let marks = locators::by_shot(
                            tx.query(
                                locators::SEQUENCE_LOCATORS,
                                &[org_id.into(), sequence_id.into()],
                            )
                            .await?,
                        );
                        let plan =
                            with_shots(conform::plan(&existing(&shots, marks), &edl, &opts))?;
                        let writes = conform_writes(&plan, place, None);
                        (plan, writes)
                    };
                    for (text, args) in writes.new.iter().chain(&writes.rest) {
                        tx.execute(text, args).await?;
                    }
                    for change in writes.changes {
                        tx.record(&actor, change).await?;
                    }
                    Ok(plan)
                })
            })
            .await?;
        self.wrote_rows(plan.new.len() + plan.changed.len());
        Ok(plan)
    }

    /// Writes a conform's new shots out of sight, `conform_batch` shots a transaction, then shows
    /// them in one transaction with the rest of the conform (SQLite, the sequence's turn held):
    /// `false` when the cut changed since it was read, and nothing was shown.
    async fn stage_and_show(
        &self,
        writes: ConformWrites,
        (org_id, _, sequence_id): (Uuid, Uuid, Uuid),
        stage: Uuid,
        seen: (i64, i64),
    ) -> Result<bool> {
        let ConformWrites { new, rest, changes } = writes;
        let per = (self.store.conform_batch / CONFORM_CHUNK).max(1);
        let mut new = new.into_iter();
        loop {
            let batch: Vec<_> = new.by_ref().take(per).collect();
            if batch.is_empty() {
                break;
            }
            if let Some(gate) = &self.store.conform_gate
                && let Ok(permit) = gate.acquire().await
            {
                permit.forget();
            }
            self.write(move |tx| {
                Box::pin(async move {
                    for (text, args) in &batch {
                        tx.execute(text, args).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        let actor = Actor::of(self.scope());
        self.write(move |tx| {
            Box::pin(async move {
                if cut_state_in(tx, org_id, sequence_id).await? != seen {
                    return Ok(false);
                }
                for (text, args) in &rest {
                    tx.execute(text, args).await?;
                }
                tx.execute(
                    "UPDATE shots SET staged = NULL
                     WHERE org_id = $1 AND sequence_id = $2 AND staged = $3",
                    &[org_id.into(), sequence_id.into(), stage.into()],
                )
                .await?;
                for change in changes {
                    tx.record(&actor, change).await?;
                }
                Ok(true)
            })
        })
        .await
    }

    /// Deletes the sequence's staged shots (those of a conform that did not finish), a batch a
    /// transaction.
    async fn drop_staged(&self, sequence_id: Uuid) -> Result<()> {
        let org_id = self.org_id();
        let batch = self.store.conform_batch as i64;
        loop {
            let gone = self
                .write(move |tx| {
                    Box::pin(async move {
                        Ok(tx
                            .execute(
                                "DELETE FROM shots WHERE org_id = $1 AND id IN (SELECT id FROM shots
                                 WHERE org_id = $1 AND sequence_id = $2 AND staged IS NOT NULL LIMIT $3)",
                                &[org_id.into(), sequence_id.into(), batch.into()],
                            )
                            .await?)
                    })
                })
                .await?;
            if gone == 0 {
                return Ok(());
            }
        }
    }
}

impl crate::Platform<'_> {
    /// Deletes the shots of conforms that stopped while staging, at start (SQLite: no conform of
    /// this file is running in another process, and none has begun in this one).
    pub(crate) async fn clear_staged_shots(&self) -> Result<()> {
        if self.store.backend() != Backend::Sqlite {
            return Ok(());
        }
        self.write(|tx| {
            Box::pin(async move {
                tx.execute("DELETE FROM shots WHERE staged IS NOT NULL", &[])
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// The cut a conform plans from, as the writer sees it (`cut_state`).
async fn cut_state_in(tx: &mut WriteTx<'_>, org_id: Uuid, sequence_id: Uuid) -> Result<(i64, i64)> {
    Ok(tx
        .query_opt(
            "SELECT COUNT(*), CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM shots
             WHERE org_id = $1 AND sequence_id = $2 AND staged IS NULL",
            &[org_id.into(), sequence_id.into()],
        )
        .await?
        .unwrap_or((0, 0)))
}

/// How many shots a sequence holds and the sum of their versions: what a conform planned from.
fn cut_state(shots: &[Shot]) -> (i64, i64) {
    (shots.len() as i64, shots.iter().map(|s| s.version).sum())
}

/// A conform's statements and its record, built outside the writer.
struct ConformWrites {
    /// The new shots, `CONFORM_CHUNK` a statement (staged when the conform is).
    new: Vec<(String, Vec<Arg>)>,
    /// The changed and omitted shots and the locators.
    rest: Vec<(String, Vec<Arg>)>,
    changes: Vec<Change>,
}

/// How many shots one statement of a conform writes, and one of its events announces.
pub(crate) const CONFORM_CHUNK: usize = 400;

/// The statements that write `plan` to the sequence `(org, project, sequence)` (new shots get
/// new ids, and are out of sight when `staged` names the conform), and its record. Set-based, a
/// few hundred shots a statement: a 15,000-shot cut holds the writer for a fraction of what a
/// statement a shot would. The changes are announced a chunk at a time (one
/// `sequence.conformed` event per chunk of up to 400 shots), so a webhook receives a handful of
/// deliveries, not one per shot.
fn conform_writes(
    plan: &Conform,
    (org_id, project_id, sequence_id): (Uuid, Uuid, Uuid),
    staged: Option<Uuid>,
) -> ConformWrites {
    let ids: Vec<Uuid> = plan.new.iter().map(|_| new_id()).collect();
    let mut out = ConformWrites {
        new: Vec::new(),
        rest: Vec::new(),
        changes: Vec::new(),
    };
    let now = now_ms();
    let rows = |n: usize,
                per: usize,
                first: usize,
                shape: &dyn Fn(&mut dyn FnMut() -> String) -> String| {
        (0..n)
            .map(|i| {
                let mut k = first + i * per;
                let mut next = || {
                    k += 1;
                    format!("${}", k - 1)
                };
                shape(&mut next)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let new: Vec<(&Uuid, &mstation_core::tracking::conform::PlannedShot)> =
        ids.iter().zip(&plan.new).collect();
    for chunk in new.chunks(CONFORM_CHUNK) {
        // $1 organisation, $2 project, $3 sequence, $4 now, $5 staged; then 15 a shot.
        let values = rows(chunk.len(), 15, 6, &|p| {
            let v: Vec<String> = (0..15).map(|_| p()).collect();
            format!(
                "({}, $1, $2, $3, {}, 'active', {}, '', $4, 1, $5)",
                v[0],
                v[1],
                v[2..].join(", ")
            )
        });
        let text = format!("INSERT INTO shots ({SHOT_COLS}, staged) VALUES {values}");
        let mut args: Vec<Arg> = vec![
            org_id.into(),
            project_id.into(),
            sequence_id.into(),
            now.into(),
            staged.into(),
        ];
        for (id, p) in chunk {
            args.extend([
                Arg::from(**id),
                (&p.name).into(),
                p.cut_order.into(),
                p.cut_in.into(),
                p.cut_out.into(),
                p.head_handles.into(),
                p.tail_handles.into(),
                p.record_in.into(),
                p.record_out.into(),
                p.source_in.into(),
                p.source_out.into(),
                (&p.source_in_tc).into(),
                (&p.source_out_tc).into(),
                (&p.reel).into(),
                (&p.clip_name).into(),
            ]);
        }
        out.new.push((text, args));
    }
    for chunk in plan.changed.chunks(CONFORM_CHUNK) {
        // $1 organisation; then 11 a shot.
        let values = rows(chunk.len(), 11, 2, &|p| {
            let v: Vec<String> = (0..11).map(|_| p()).collect();
            format!("({})", v.join(", "))
        });
        let text = format!(
            "WITH v (id, cut_order, cut_in, cut_out, record_in, record_out, source_in, source_out,
                     source_in_tc, source_out_tc, clip_name) AS (VALUES {values})
             UPDATE shots SET status = 'active', cut_order = v.cut_order, cut_in = v.cut_in,
                 cut_out = v.cut_out, record_in = v.record_in, record_out = v.record_out,
                 source_in = v.source_in, source_out = v.source_out,
                 source_in_tc = v.source_in_tc, source_out_tc = v.source_out_tc,
                 clip_name = v.clip_name, version = shots.version + 1
             FROM v WHERE shots.org_id = $1 AND shots.id = v.id"
        );
        let mut args: Vec<Arg> = vec![org_id.into()];
        for c in chunk {
            let p = &c.after;
            args.extend([
                Arg::from(c.id),
                p.cut_order.into(),
                p.cut_in.into(),
                p.cut_out.into(),
                p.record_in.into(),
                p.record_out.into(),
                p.source_in.into(),
                p.source_out.into(),
                (&p.source_in_tc).into(),
                (&p.source_out_tc).into(),
                (&p.clip_name).into(),
            ]);
        }
        out.rest.push((text, args));
    }
    // The locators of new shots and of changed shots whose locators changed: after the shots.
    out.rest
        .extend(locators::locator_writes(org_id, plan, &ids));
    // Omitted shots go after the cut, keeping their relative order.
    let first_tail = (plan.new.len() + plan.changed.len() + plan.unchanged.len()) as i64;
    let removed: Vec<(i64, &ExistingShot)> = plan
        .removed
        .iter()
        .enumerate()
        .map(|(i, r)| (first_tail + 1 + i as i64, r))
        .collect();
    for chunk in removed.chunks(CONFORM_CHUNK) {
        // $1 organisation, $2 the omitted status; then 2 a shot.
        let values = rows(chunk.len(), 2, 3, &|p| format!("({}, {})", p(), p()));
        let text = format!(
            "WITH v (id, cut_order) AS (VALUES {values})
             UPDATE shots SET status = $2, cut_order = v.cut_order, version = shots.version + 1
             FROM v WHERE shots.org_id = $1 AND shots.id = v.id"
        );
        let mut args: Vec<Arg> = vec![org_id.into(), conform::OMITTED.into()];
        for (order, r) in chunk {
            args.extend([Arg::from(r.id), (*order).into()]);
        }
        out.rest.push((text, args));
    }
    // The record: a chunk of up to 400 shots an event, what each became.
    let mut entries: Vec<serde_json::Value> =
        Vec::with_capacity(plan.new.len() + plan.changed.len() + plan.removed.len());
    // What each shot became, by id and name (its cut is on the shot itself).
    for (id, p) in &new {
        entries.push(serde_json::json!({"change": "new", "id": id, "name": p.name}));
    }
    for c in &plan.changed {
        entries.push(
            serde_json::json!({"change": "changed", "id": c.id, "name": c.before.name,
            "fields": c.fields}),
        );
    }
    for r in &plan.removed {
        entries.push(serde_json::json!({"change": "omitted", "id": r.id, "name": r.name}));
    }
    let parts = entries.len().div_ceil(CONFORM_CHUNK);
    for (i, chunk) in entries.chunks(CONFORM_CHUNK).enumerate() {
        let change = Change::new(Some(org_id), "sequence.conformed", "sequence", sequence_id)
            .after(&serde_json::json!({
                "project_id": project_id,
                "sequence_id": sequence_id,
                "part": i + 1,
                "parts": parts,
                "new": plan.new.len(),
                "changed": plan.changed.len(),
                "omitted": plan.removed.len(),
                "shots": chunk,
            }));
        out.changes.push(change);
    }
    out
}

/// A plan whose cut has at least one shot: an edit without a picture event (an empty file, only
/// audio) would omit every shot of the sequence, which is never what an import means.
fn with_shots(plan: Conform) -> Result<Conform> {
    if plan.new.is_empty() && plan.changed.is_empty() && plan.unchanged.is_empty() {
        return Err(FieldError::new("edl", "no_events").into());
    }
    Ok(plan)
}

/// The shots as the planner takes them, with their locators (`marks`, by shot id).
fn existing(shots: &[Shot], mut marks: HashMap<Uuid, Vec<ShotLocator>>) -> Vec<ExistingShot> {
    shots
        .iter()
        .map(|s| ExistingShot {
            id: s.id,
            name: s.name.clone(),
            status: s.status.clone(),
            cut_order: s.cut_order,
            cut_in: s.cut_in,
            cut_out: s.cut_out,
            head_handles: s.head_handles,
            tail_handles: s.tail_handles,
            record_in: s.record_in,
            record_out: s.record_out,
            source_in: s.source_in,
            source_out: s.source_out,
            reel: s.reel.clone(),
            clip_name: s.clip_name.clone(),
            locators: marks.remove(&s.id).unwrap_or_default(),
        })
        .collect()
}
