//! Idempotency keys for creating POSTs: a retried request with the same key gets the first
//! answer back instead of creating a second resource.

use uuid::Uuid;

use crate::{Result, Store, now_ms, on_write};

/// A reservation older than this is taken to be from a request that died half-way.
const ABANDONED_MS: i64 = 60_000;

pub enum Idem {
    /// The key is new and now reserved for this request.
    Reserved,
    /// The same request ran before: here is its answer.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// A request with this key is still running.
    InFlight,
}

impl Store {
    pub async fn idem_reserve(
        &self,
        org_id: Uuid,
        user_id: Uuid,
        key: &str,
        request_hash: &str,
    ) -> Result<Idem> {
        let now = now_ms();
        on_write!(self, tx => {
            let row: Option<(String, i64, String, i64)> = sqlx::query_as(
                "SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND key = $3")
                .bind(org_id).bind(user_id).bind(key).fetch_optional(&mut *tx).await?;
            let out = match row {
                Some((h, _, _, _)) if h != request_hash => Idem::Mismatch,
                Some((_, 0, _, at)) if now - at < ABANDONED_MS => Idem::InFlight,
                Some((_, status, body, _)) if status != 0 => Idem::Replay { status: status as u16, body },
                _ => {
                    sqlx::query("INSERT INTO idempotency_keys (org_id, user_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, 0, '', $5)
                                 ON CONFLICT (org_id, user_id, key) DO UPDATE SET status = 0, body = '', created_at = excluded.created_at")
                        .bind(org_id).bind(user_id).bind(key).bind(request_hash).bind(now).execute(&mut *tx).await?;
                    Idem::Reserved
                }
            };
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Stores the answer of a reserved request; `None` releases the key (a server error may be retried).
    pub async fn idem_finish(
        &self,
        org_id: Uuid,
        user_id: Uuid,
        key: &str,
        answer: Option<(u16, &str)>,
    ) -> Result<()> {
        on_write!(self, tx => {
            match answer {
                Some((status, body)) => {
                    sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE org_id = $3 AND user_id = $4 AND key = $5")
                        .bind(status as i64).bind(body).bind(org_id).bind(user_id).bind(key).execute(&mut *tx).await?;
                }
                None => {
                    sqlx::query("DELETE FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND key = $3")
                        .bind(org_id).bind(user_id).bind(key).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Forgets keys older than a day.
    pub async fn idem_prune(&self) -> Result<u64> {
        on_write!(self, tx => {
            let n = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(now_ms() - 86_400_000).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        })
    }
}
