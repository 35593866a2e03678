//! Showreels: a profile's reel is a video from its keeping organisation's media store, with a
//! few words on what it shows. Whoever may read the profile plays the reel's browser proxy and
//! sees its poster, through the profile (never the media file itself, whose id only the keeper
//! reads); the words count in the directory's search, by words and by meaning. A reel set or
//! taken off is a new version of its profile (its ETag changes).

use mstation_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::kept;
use crate::media::{FILE_COLS, MediaFile};
use crate::tracking::grid::contains_pattern;
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, WriteTx, now_ms,
};

/// A profile's reel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Showreel {
    /// The video in the keeping organisation's media store: for the keeper only.
    pub media_id: Option<Uuid>,
    /// What it shows, as the keeper wrote it.
    pub note: String,
    pub updated_at: Millis,
}

impl FromRow for Showreel {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Showreel {
            media_id: r.get()?,
            note: r.get()?,
            updated_at: r.get()?,
        })
    }
}

/// A reel to show.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowreelInput {
    /// A video of the keeping organisation's media.
    pub media_id: Uuid,
    /// What it shows (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
}

/// The columns of a profile's reel as `$1` reads it: the media file's id for the keeper only.
pub(crate) const SHOWREEL_COLS: &str =
    "CASE WHEN s.org_id = $1 THEN s.media_id END, s.note, s.updated_at";

impl Tenant<'_> {
    /// Gives one of the organisation's profiles its reel (or another), from the organisation's
    /// own media.
    pub async fn set_showreel(&self, profile_id: Uuid, input: &ShowreelInput) -> Result<Showreel> {
        let note = validate::text("note", &input.note, 1_000)?;
        let media_id = input.media_id;
        let scope = self.scope().clone();
        self.write(move |tx| {
            let note = note.clone();
            Box::pin(async move {
                let org = scope.org_id;
                kept(tx, org, profile_id, false).await?;
                // A video: one uploaded as such, or one a proxy was made of.
                let found: Option<(Option<String>, Option<String>)> = tx
                    .query_opt(
                        "SELECT content_type, proxy_hash FROM media_files WHERE org_id = $1 AND id = $2",
                        &[org.into(), media_id.into()],
                    )
                    .await?;
                match found {
                    None => return Err(FieldError::new("media_id", "not_a_media_file").into()),
                    Some((kind, proxy))
                        if proxy.is_none()
                            && !kind.as_deref().is_some_and(|k| k.starts_with("video/")) =>
                    {
                        return Err(FieldError::new("media_id", "not_a_video").into());
                    }
                    Some(_) => {}
                }
                let now = Millis(now_ms());
                tx.execute(
                    "INSERT INTO talent_showreels (profile_id, org_id, media_id, note, updated_at)
                     VALUES ($2, $1, $3, $4, $5)
                     ON CONFLICT (profile_id) DO UPDATE SET media_id = excluded.media_id, note = excluded.note, updated_at = excluded.updated_at",
                    &[org.into(), profile_id.into(), media_id.into(), (&note).into(), now.into()],
                )
                .await?;
                new_version(tx, org, profile_id, now).await?;
                // A change of the profile: every server's index reads its words again.
                let reel = Showreel {
                    media_id: Some(media_id),
                    note,
                    updated_at: now,
                };
                let change = Change::new(Some(org), "profile.showreel_set", "profile", profile_id)
                    .after(&reel);
                tx.record(&Actor::of(&scope), change).await?;
                Ok(reel)
            })
        })
        .await
    }

    /// Takes the reel off one of the organisation's profiles; none: no change.
    pub async fn remove_showreel(&self, profile_id: Uuid) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                kept(tx, org, profile_id, false).await?;
                let gone = tx
                    .execute(
                        "DELETE FROM talent_showreels WHERE org_id = $1 AND profile_id = $2",
                        &[org.into(), profile_id.into()],
                    )
                    .await?;
                if gone > 0 {
                    new_version(tx, org, profile_id, Millis(now_ms())).await?;
                    let change =
                        Change::new(Some(org), "profile.showreel_removed", "profile", profile_id);
                    tx.record(&Actor::of(&scope), change).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The organisation's videos a reel may be chosen from: those with a browser proxy (whose
    /// name holds `named`, in any case, if given), the newest first, at most `most`.
    pub async fn reel_choices(&self, named: &str, most: u32) -> Result<Vec<MediaFile>> {
        let named = named.trim();
        let mut args = vec![self.org_id().into()];
        let mut filter = "";
        if !named.is_empty() {
            // Lowered by the database on both sides, so a name is found as it was written
            // whatever the database's idea of case.
            args.push(contains_pattern(named).into());
            filter = " AND LOWER(name) LIKE LOWER($2) ESCAPE '\\'";
        }
        self.read(
            &format!(
                "SELECT {FILE_COLS} FROM media_files WHERE org_id = $1 AND proxy_hash IS NOT NULL{filter}
                 ORDER BY created_at DESC, id DESC LIMIT {}",
                most.min(500)
            ),
            &args,
        )
        .await
    }

    /// The media file of the reel of a profile the organisation may read (its own, or one
    /// shown to the platform); not found otherwise, or without a reel.
    pub async fn showreel_file(&self, profile_id: Uuid) -> Result<MediaFile> {
        let text = format!(
            "SELECT {FILE_COLS} FROM media_files
             WHERE id = (SELECT s.media_id FROM talent_showreels s JOIN talent_profiles p ON p.id = s.profile_id AND p.org_id = s.org_id
                         WHERE s.profile_id = $2 AND (p.org_id = $1 OR p.visibility = 'platform'))
               AND org_id = (SELECT s.org_id FROM talent_showreels s WHERE s.profile_id = $2)"
        );
        self.read_opt(&text, &[self.org_id().into(), profile_id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "showreel" })
    }
}

/// A profile's reel changed: the profile is a version on.
async fn new_version(
    tx: &mut WriteTx<'_>,
    org: uuid::Uuid,
    profile_id: Uuid,
    now: Millis,
) -> Result<()> {
    tx.execute(
        "UPDATE talent_profiles SET version = version + 1, updated_at = $3 WHERE org_id = $1 AND id = $2",
        &[org.into(), profile_id.into(), now.into()],
    )
    .await?;
    Ok(())
}
