//! The outbox: every committed change as an event, in commit order. The live event stream and
//! webhooks read it; a consumer's position is a row, so a consumer that was down misses nothing.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Millis, Result, Store, on_read};

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

    /// The newest sequence number, so a new live stream starts at "now".
    pub async fn last_event_seq(&self) -> Result<i64> {
        let v: Option<i64> = on_read!(self, pool => sqlx::query_scalar("SELECT MAX(seq) FROM outbox").fetch_one(pool).await?);
        Ok(v.unwrap_or(0))
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
