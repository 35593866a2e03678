//! Idempotency keys for creating POSTs: a retried request with the same key gets the first
//! answer back instead of creating a second resource.
//!
//! A key is reserved by inserting its row, so of any number of concurrent requests with one key
//! exactly one reserves it (on PostgreSQL the others wait for its insert, then find the row);
//! the others get the saved answer, or "in flight" while it runs. Only the holder of a
//! reservation can finish or release it: a reservation is named by the instant it was made.

use crate::{Arg, Platform, Result, Tenant, now_ms};

/// A reservation older than this is taken to be from a request that died half-way.
const ABANDONED_MS: i64 = 60_000;

#[derive(Debug)]
pub enum Idem {
    /// The key is new (or was abandoned) and is now reserved for this request; pass
    /// `reservation` back to [`Tenant::idem_finish`].
    Reserved { reservation: i64 },
    /// The same request ran before: here is its answer.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// A request with this key is still running.
    InFlight,
}

impl Tenant<'_> {
    pub async fn idem_reserve(&self, key: &str, request_hash: &str) -> Result<Idem> {
        let scope = self.scope();
        let (org_id, user_id) = (scope.org_id, scope.user_id);
        let (key, hash) = (key.to_string(), request_hash.to_string());
        self.write(move |tx| {
            Box::pin(async move {
                let now = now_ms();
                let ids: [Arg; 3] = [org_id.into(), user_id.into(), (&key).into()];
                let text = format!(
                    "SELECT request_hash, status, body, created_at FROM idempotency_keys
                     WHERE org_id = $1 AND user_id = $2 AND key = $3{}",
                    tx.lock_rows()
                );
                // The row may go between the insert and the read (its holder failed and released
                // it): then the insert is tried again.
                let mut found = None;
                for _ in 0..3 {
                    let inserted = tx
                        .execute(
                            "INSERT INTO idempotency_keys
                             (org_id, user_id, key, request_hash, status, body, created_at)
                             VALUES ($1, $2, $3, $4, 0, '', $5)
                             ON CONFLICT (org_id, user_id, key) DO NOTHING",
                            &[
                                ids[0].clone(),
                                ids[1].clone(),
                                ids[2].clone(),
                                (&hash).into(),
                                now.into(),
                            ],
                        )
                        .await?;
                    if inserted == 1 {
                        return Ok(Idem::Reserved { reservation: now });
                    }
                    found = tx
                        .query_opt::<(String, i64, String, i64)>(&text, &ids)
                        .await?;
                    if found.is_some() {
                        break;
                    }
                }
                let Some((h, status, body, at)) = found else {
                    return Ok(Idem::InFlight);
                };
                Ok(match status {
                    _ if h != hash => Idem::Mismatch,
                    0 if now - at < ABANDONED_MS => Idem::InFlight,
                    0 => {
                        // The request that held it died: this one takes it over.
                        let taken = tx
                            .execute(
                                "UPDATE idempotency_keys SET created_at = $4
                                 WHERE org_id = $1 AND user_id = $2 AND key = $3
                                   AND status = 0 AND created_at = $5",
                                &[
                                    ids[0].clone(),
                                    ids[1].clone(),
                                    ids[2].clone(),
                                    now.into(),
                                    at.into(),
                                ],
                            )
                            .await?;
                        if taken == 1 {
                            Idem::Reserved { reservation: now }
                        } else {
                            Idem::InFlight
                        }
                    }
                    status => Idem::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        body,
                    },
                })
            })
        })
        .await
    }

    /// Stores the answer of the request holding `reservation`; `None` releases the key (a
    /// server error may be retried). A reservation that was taken over changes nothing.
    pub async fn idem_finish(
        &self,
        key: &str,
        reservation: i64,
        answer: Option<(u16, &str)>,
    ) -> Result<()> {
        let scope = self.scope();
        let (org_id, user_id) = (scope.org_id, scope.user_id);
        let key = key.to_string();
        let answer = answer.map(|(s, b)| (i64::from(s), b.to_string()));
        self.write(move |tx| {
            Box::pin(async move {
                let mut args = vec![
                    org_id.into(),
                    user_id.into(),
                    key.into(),
                    reservation.into(),
                ];
                let text = match answer {
                    Some((status, body)) => {
                        args.extend([status.into(), body.into()]);
                        "UPDATE idempotency_keys SET status = $5, body = $6
                         WHERE org_id = $1 AND user_id = $2 AND key = $3
                           AND status = 0 AND created_at = $4"
                    }
                    None => {
                        "DELETE FROM idempotency_keys
                         WHERE org_id = $1 AND user_id = $2 AND key = $3
                           AND status = 0 AND created_at = $4"
                    }
                };
                tx.execute(text, &args).await?;
                Ok(())
            })
        })
        .await
    }
}

impl Platform<'_> {
    /// Forgets keys older than a day.
    pub async fn idem_prune(&self) -> Result<u64> {
        self.write(move |tx| {
            Box::pin(async move {
                let day_ago = now_ms() - 86_400_000;
                Ok(tx
                    .execute(
                        "DELETE FROM idempotency_keys WHERE created_at < $1",
                        &[day_ago.into()],
                    )
                    .await?)
            })
        })
        .await
    }
}
