//! Webhooks per organisation: where to send which events, and the log of every delivery attempt.
//! Fan-out reads the outbox and queues one delivery job per (webhook, event) in one transaction.

use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::check_version;
use crate::events::Event;
use crate::jobs::{NewJob, insert_job};
use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, StoreError,
    Tenant, new_id, now_ms,
};

fn words_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.split_whitespace())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub org_id: Uuid,
    pub url: String,
    /// Event kinds to send: exact (`member.updated`), a family (`member.*`) or everything (`*`).
    #[serde(serialize_with = "words_out")]
    #[schema(value_type = Vec<String>)]
    pub events: String,
    pub active: bool,
    pub description: String,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for Webhook {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Webhook {
            id: r.get()?,
            org_id: r.get()?,
            url: r.get()?,
            events: r.get()?,
            active: r.get()?,
            description: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_kind: String,
    pub attempt: i64,
    /// The receiver's HTTP status, absent when it could not be reached.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: Millis,
}

impl FromRow for Delivery {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Delivery {
            id: r.get()?,
            webhook_id: r.get()?,
            event_id: r.get()?,
            event_kind: r.get()?,
            attempt: r.get()?,
            status_code: r.get()?,
            error: r.get()?,
            duration_ms: r.get()?,
            at: r.get()?,
        })
    }
}

/// The fields of a webhook a PATCH may change; absent ones stay as they are.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// One delivery attempt, for the log.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
}

const DELIVERY_COLS: &str =
    "id, webhook_id, event_id, event_kind, attempt, status_code, error, duration_ms, at";
const HOOK_COLS: &str = "id, org_id, url, events, active, description, created_at, version";
/// The job kind of one delivery.
pub const DELIVERY_JOB: &str = "webhook.deliver";
/// The outbox consumer that fans events out to webhooks.
pub const FANOUT_CONSUMER: &str = "webhooks";

fn check_patterns(events: &[String]) -> Result<String> {
    if events.is_empty() || events.len() > 50 {
        return Err(FieldError::new("events", "required").into());
    }
    for e in events {
        let ok = e == "*"
            || (e.len() <= 64
                && e.split('.').all(|p| {
                    !p.is_empty()
                        && (p == "*" || p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                }));
        if !ok {
            return Err(FieldError::new("events", "invalid_pattern").into());
        }
    }
    Ok(events.join(" "))
}

/// Whether a subscription pattern list takes an event kind.
pub fn matches(patterns: &str, kind: &str) -> bool {
    patterns.split_whitespace().any(|p| {
        p == "*"
            || p == kind
            || p.strip_suffix(".*")
                .is_some_and(|fam| kind.strip_prefix(fam).is_some_and(|r| r.starts_with('.')))
    })
}

impl Tenant<'_> {
    /// Creates a webhook; returns it with its signing secret, which is shown to admins once.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        description: &str,
    ) -> Result<(Webhook, String)> {
        let scope = self.scope();
        let url = validate::webhook_url("url", url)?;
        let events = check_patterns(events)?;
        let description = validate::text("description", description, 500)?;
        let secret = format!("whsec_{}", crate::identity::readable_password());
        let hook = Webhook {
            id: new_id(),
            org_id: scope.org_id,
            url,
            events,
            active: true,
            description,
            created_at: Millis(now_ms()),
            version: 1,
        };
        let scope = scope.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let args = [
                    hook.id.into(),
                    hook.org_id.into(),
                    (&hook.url).into(),
                    (&secret).into(),
                    (&hook.events).into(),
                    hook.active.into(),
                    (&hook.description).into(),
                    hook.created_at.into(),
                ];
                tx.execute(
                    "INSERT INTO webhooks
                     (id, org_id, url, secret, events, active, description, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "webhook.created", "webhook", hook.id);
                tx.record(&Actor::of(&scope), change.after(&hook)).await?;
                Ok((hook, secret))
            })
        })
        .await
    }

    pub async fn webhooks(&self, q: &ListQuery) -> Result<Page<Webhook>> {
        let args = vec![self.org_id().into()];
        self.page(
            HOOK_COLS,
            "webhooks",
            "org_id = $1",
            args,
            q,
            |w: &Webhook| w.id,
        )
        .await
    }

    pub async fn webhook(&self, id: Uuid) -> Result<Webhook> {
        self.one(HOOK_COLS, "webhooks", id, "webhook").await
    }

    pub async fn update_webhook(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        patch: WebhookChanges,
    ) -> Result<Webhook> {
        let WebhookChanges {
            url,
            events,
            active,
            description,
        } = patch;
        let url = url.map(|u| validate::webhook_url("url", &u)).transpose()?;
        let events = events.map(|e| check_patterns(&e)).transpose()?;
        let description = description
            .map(|d| validate::text("description", &d, 500))
            .transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before: Webhook =
                    crate::locked(tx, HOOK_COLS, "webhooks", scope.org_id, id, "webhook").await?;
                check_version("webhook", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(u) = url {
                    after.url = u;
                }
                if let Some(e) = events {
                    after.events = e;
                }
                if let Some(a) = active {
                    after.active = a;
                }
                if let Some(d) = description {
                    after.description = d;
                }
                after.version += 1;
                let args = [
                    (&after.url).into(),
                    (&after.events).into(),
                    after.active.into(),
                    (&after.description).into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "webhook",
                    None,
                    before.version,
                    "UPDATE webhooks SET url = $1, events = $2, active = $3, description = $4,
                         version = $5 WHERE org_id = $6 AND id = $7 AND version = $8",
                    &args,
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "webhook.updated", "webhook", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    pub async fn delete_webhook(&self, id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                // Locked first: a delivery being logged at this moment either commits before
                // (and is deleted below) or waits and finds the webhook gone.
                let text = format!(
                    "SELECT {HOOK_COLS} FROM webhooks WHERE org_id = $1 AND id = $2{}",
                    tx.lock_rows()
                );
                let before: Webhook = tx
                    .query_opt(&text, &[scope.org_id.into(), id.into()])
                    .await?
                    .ok_or(StoreError::NotFound { entity: "webhook" })?;
                tx.execute(
                    "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND org_id = $2",
                    &[id.into(), scope.org_id.into()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM webhooks WHERE id = $1 AND org_id = $2",
                    &[id.into(), scope.org_id.into()],
                )
                .await?;
                let change = Change::new(Some(scope.org_id), "webhook.deleted", "webhook", id);
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn deliveries(&self, webhook_id: Uuid, q: &ListQuery) -> Result<Page<Delivery>> {
        self.webhook(webhook_id).await?;
        let filter = "org_id = $1 AND webhook_id = $2";
        let args = vec![self.org_id().into(), webhook_id.into()];
        let table = "webhook_deliveries";
        self.page(DELIVERY_COLS, table, filter, args, q, |d: &Delivery| d.id)
            .await
    }
}

impl Platform<'_> {
    /// Queues a delivery job for every active webhook that wants one of `events`, and moves the
    /// fan-out cursor to `new_cursor`, in one transaction: each event is queued exactly once.
    /// Several `serve` processes may run this at once: the cursor moves only from `old_cursor`,
    /// so when two read the same batch, one commits and the other rolls back its jobs.
    pub async fn fan_out_webhooks(
        &self,
        events: &[Event],
        old_cursor: i64,
        new_cursor: i64,
    ) -> Result<usize> {
        let hooks: Vec<(Uuid, Uuid, String)> = if events.iter().any(|e| e.org_id.is_some()) {
            self.read(
                "SELECT id, org_id, events FROM webhooks WHERE active = $1",
                &[true.into()],
            )
            .await?
        } else {
            Vec::new()
        };
        // What the writer needs of each event. A job's states are announced for hooks on
        // `job.*`; a delivery's own job is never announced, so no hook feeds itself.
        let wanted: Vec<(Uuid, Uuid, String)> = events
            .iter()
            .filter_map(|e| Some((e.org_id?, e.id, e.kind.clone())))
            .collect();
        // The cursor moves first: when another process moved it already, nothing is written.
        self.write(move |tx| {
            Box::pin(async move {
                let moved = tx
                    .execute(
                        "UPDATE consumer_offsets SET seq = $1 WHERE consumer = $2 AND seq = $3",
                        &[new_cursor.into(), FANOUT_CONSUMER.into(), old_cursor.into()],
                    )
                    .await?
                    == 1;
                let moved = moved
                    || (old_cursor == 0
                        && tx
                            .execute(
                                "INSERT INTO consumer_offsets (consumer, seq) VALUES ($1, $2)
                                 ON CONFLICT (consumer) DO NOTHING",
                                &[FANOUT_CONSUMER.into(), new_cursor.into()],
                            )
                            .await?
                            == 1);
                if !moved {
                    return Ok(0);
                }
                let mut queued: usize = 0;
                for (org, event_id, kind) in &wanted {
                    for (hook_id, hook_org, patterns) in &hooks {
                        if hook_org == org && matches(patterns, kind) {
                            let job = NewJob {
                                org_id: Some(*org),
                                kind: DELIVERY_JOB.into(),
                                payload: serde_json::json!({
                                    "webhook_id": hook_id,
                                    "event_id": event_id,
                                }),
                                priority: 0,
                                max_attempts: 12,
                                run_after: None,
                            };
                            insert_job(tx, &job).await?;
                            queued += 1;
                        }
                    }
                }
                Ok(queued)
            })
        })
        .await
    }

    /// What a delivery needs: the target, its secret, and whether it is still active.
    pub async fn webhook_target(&self, id: Uuid) -> Result<Option<(Uuid, String, String, bool)>> {
        self.read_opt(
            "SELECT org_id, url, secret, active FROM webhooks WHERE id = $1",
            &[id.into()],
        )
        .await
    }

    /// Logs a delivery attempt as it starts, before anything is sent: an attempt cut off by a
    /// stop of the server is in the log too, with `UNANSWERED`. [`Platform::finish_delivery`]
    /// records the answer. `None` when the webhook was deleted meanwhile.
    pub async fn start_delivery(
        &self,
        org_id: Uuid,
        webhook_id: Uuid,
        event: &Event,
        attempt: i64,
    ) -> Result<Option<Uuid>> {
        let (event_id, event_kind) = (event.id, event.kind.clone());
        self.write(move |tx| {
            Box::pin(async move {
                // The webhook, held against a deletion until this attempt is logged; `None`
                // when it was deleted since the job was queued.
                let text = format!("SELECT id FROM webhooks WHERE id = $1{}", tx.share_rows());
                let hook: Option<Uuid> = tx.scalar_opt(&text, &[webhook_id.into()]).await?;
                if hook.is_none() {
                    return Ok(None);
                }
                let id = new_id();
                let args = [
                    id.into(),
                    org_id.into(),
                    webhook_id.into(),
                    event_id.into(),
                    event_kind.into(),
                    attempt.into(),
                    UNANSWERED.into(),
                    now_ms().into(),
                ];
                tx.execute(
                    "INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, event_kind,
                     attempt, status_code, error, duration_ms, at)
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, 0, $8)",
                    &args,
                )
                .await?;
                Ok(Some(id))
            })
        })
        .await
    }

    /// Records what the receiver answered to the attempt `id` (`start_delivery`).
    pub async fn finish_delivery(&self, id: Uuid, a: &Attempt<'_>) -> Result<()> {
        let Attempt {
            status_code,
            error,
            duration_ms,
            ..
        } = *a;
        let error = error.map(str::to_string);
        self.write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE webhook_deliveries SET status_code = $1, error = $2, duration_ms = $3
                     WHERE id = $4",
                    &[
                        status_code.into(),
                        error.into(),
                        duration_ms.into(),
                        id.into(),
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
}

/// The error of an attempt whose answer is not known: under way, or cut off by a stop of the
/// server before the receiver answered.
pub const UNANSWERED: &str = "no answer recorded: under way, or cut off when the server stopped before the receiver answered";

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("*", "member.updated"));
        assert!(matches("member.*", "member.updated"));
        assert!(!matches("member.*", "membership.updated"));
        assert!(matches("token.created member.updated", "member.updated"));
        assert!(!matches("token.created", "token.revoked"));
    }
}
