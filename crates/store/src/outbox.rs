//! The outbox: every committed change as an event, in commit order. The live event stream and
//! webhooks read it; a consumer's position is a row, so a consumer that was down misses nothing.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use mstation_core::events::Horizon;

use crate::{Db, Millis, Result, Store, StoreError, now_ms, on_read};

fn json_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    serde_json::from_str::<serde_json::Value>(v)
        .unwrap_or(serde_json::Value::Null)
        .serialize(s)
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Event {
    /// Position in the outbox; pass it back as `Last-Event-ID` to resume a stream.
    pub seq: i64,
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    /// The change, e.g. `member.updated`.
    pub kind: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    #[serde(serialize_with = "json_out")]
    #[schema(value_type = Object)]
    pub payload: String,
    pub at: Millis,
}

const EVENT_COLS: &str = "seq, id, org_id, kind, entity_type, entity_id, payload, at";

impl Store {
    /// Events after `seq`, all organisations: for the platform's own consumers.
    pub async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(
            on_read!(self, pool => sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLS} FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(seq).bind(limit).fetch_all(pool).await?),
        )
    }

    /// Events of one organisation after `seq`: for resuming its event stream.
    pub async fn org_events_after(&self, org_id: Uuid, seq: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(
            on_read!(self, pool => sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLS} FROM outbox WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")))
            .bind(org_id).bind(seq).bind(limit).fetch_all(pool).await?),
        )
    }

    pub async fn event_by_id(&self, id: Uuid) -> Result<Option<Event>> {
        Ok(
            on_read!(self, pool => sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLS} FROM outbox WHERE id = $1")))
            .bind(id).fetch_optional(pool).await?),
        )
    }

    /// Where a new outbox reader of this process starts, and the numbers after that start
    /// that are committed already (the reader announces them as replayed: for streams resuming
    /// from an earlier event, not for those that start "now").
    ///
    /// SQLite commits outbox numbers in order: the reader starts at the newest. On PostgreSQL
    /// a write still open on another server may hold a number below the newest, and starting
    /// at the newest would skip its events for good; the reader starts before the events of
    /// the last `window_ms` instead, and waits on every hole there until its holder has ended
    /// (`mstation_core::events`). A write open for longer than the window when a server starts
    /// is the one case not covered.
    pub async fn outbox_start(&self, window_ms: i64) -> Result<(i64, Vec<i64>)> {
        let newest = || async {
            let v: Option<i64> = on_read!(self, pool => sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
                    .fetch_one(pool)
                    .await?);
            Ok::<_, StoreError>(v.unwrap_or(0))
        };
        let Db::Postgres(pool) = &self.db else {
            return Ok((newest().await?, Vec::new()));
        };
        // The newest numbers, by the primary key, back to the first one before the window (at
        // most 100,000 of them, so a start never walks the whole outbox). The reader starts at
        // that one: a number taken inside the window and still in flight is above it.
        const AT_MOST: usize = 100_000;
        let since = now_ms() - window_ms;
        let newest_first: Vec<(i64, i64)> = mstation_db::read_pg(
            pool,
            "SELECT seq, at FROM outbox ORDER BY seq DESC LIMIT 100000",
            &[],
        )
        .await?;
        let in_window = newest_first
            .iter()
            .take_while(|(_, at)| *at >= since)
            .count();
        let start = match newest_first.get(in_window) {
            Some((seq, _)) => *seq,
            None if newest_first.len() < AT_MOST => 0,
            None => newest_first.last().map_or(0, |(seq, _)| seq - 1),
        };
        let mut committed: Vec<i64> = newest_first[..in_window].iter().map(|(s, _)| *s).collect();
        committed.reverse();
        Ok((start, committed))
    }

    /// PostgreSQL's transaction horizon, read between two reads of the outbox so that a reader
    /// can tell when a hole's holder has ended (`mstation_core::events::advance`); with `bound`,
    /// also a fresh transaction id (one committed transaction, only when a hole is new). `None`
    /// on SQLite, where a hole is never in flight.
    pub async fn outbox_horizon(&self, bound: bool) -> Result<Option<Horizon>> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        let text = if bound {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                    pg_current_xact_id()::text::bigint"
        } else {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, NULL::bigint"
        };
        let rows: Vec<(i64, Option<i64>)> = mstation_db::read_pg(pool, text, &[]).await?;
        Ok(rows.first().map(|&(xmin, bound)| Horizon { xmin, bound }))
    }

    pub async fn consumer_offset(&self, consumer: &str) -> Result<Option<i64>> {
        Ok(
            on_read!(self, pool => sqlx::query_scalar("SELECT seq FROM consumer_offsets WHERE consumer = $1")
            .bind(consumer).fetch_optional(pool).await?),
        )
    }

    pub async fn set_consumer_offset(&self, consumer: &str, seq: i64) -> Result<()> {
        let consumer = consumer.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO consumer_offsets (consumer, seq) VALUES ($1, $2)
                     ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
                    &[consumer.into(), seq.into()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
}
