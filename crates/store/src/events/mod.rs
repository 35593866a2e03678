//! The outbox: every committed change as an event, in commit order. The live event stream and
//! webhooks read it; a consumer's position is a row, so a consumer that was down misses nothing.

pub mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use mstation_core::events::Horizon;

use crate::{DbError, FromRow, Millis, Platform, Result, Row, Tenant};

fn json_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    serde_json::from_str::<serde_json::Value>(v)
        .unwrap_or(serde_json::Value::Null)
        .serialize(s)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl FromRow for Event {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Event {
            seq: r.get()?,
            id: r.get()?,
            org_id: r.get()?,
            kind: r.get()?,
            entity_type: r.get()?,
            entity_id: r.get()?,
            payload: r.get()?,
            at: r.get()?,
        })
    }
}

const EVENT_COLS: &str = "seq, id, org_id, kind, entity_type, entity_id, payload, at";

impl Tenant<'_> {
    /// Events of one organisation after `seq`: for resuming its event stream.
    pub async fn org_events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>> {
        let scope = self.scope();
        let text = format!(
            "SELECT {EVENT_COLS} FROM outbox WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        self.read(&text, &[scope.org_id.into(), seq.into(), limit.into()])
            .await
    }
}

impl Platform<'_> {
    /// Events after `seq`, all organisations: for the platform's own consumers.
    pub async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>> {
        let text = format!("SELECT {EVENT_COLS} FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2");
        self.read(&text, &[seq.into(), limit.into()]).await
    }

    pub async fn event_by_id(&self, id: Uuid) -> Result<Option<Event>> {
        let text = format!("SELECT {EVENT_COLS} FROM outbox WHERE id = $1");
        self.read_opt(&text, &[id.into()]).await
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
        Ok(self.store.db.outbox_start(window_ms).await?)
    }

    /// PostgreSQL's transaction horizon, read between two reads of the outbox so that a reader
    /// can tell when a hole's holder has ended (`mstation_core::events::advance`); with `bound`,
    /// also a fresh transaction id (one committed transaction, only when a hole is new). `None`
    /// on SQLite, where a hole is never in flight.
    pub async fn outbox_horizon(&self, bound: bool) -> Result<Option<Horizon>> {
        Ok(self.store.db.outbox_horizon(bound).await?)
    }

    pub async fn consumer_offset(&self, consumer: &str) -> Result<Option<i64>> {
        self.scalar_opt(
            "SELECT seq FROM consumer_offsets WHERE consumer = $1",
            &[consumer.into()],
        )
        .await
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
