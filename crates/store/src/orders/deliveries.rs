//! A milestone's delivery as a record (migration 0067): the note, the versions of the order's
//! tasks it hands over, and the ASC MHL manifest (a generation file) the vendor's tool wrote
//! of the files. On arrival the platform verifies the manifest against the delivered files
//! themselves: a job (`VERIFY_JOB`) reads each file's bytes from the blob store and hashes them
//! in the formats the manifest gives. Every delivered file must be listed and match, every
//! listed file must be there; the production accepts a milestone only once its delivery is
//! verified (or carried no manifest), and asks for changes otherwise.

use std::collections::BTreeMap;

use mstation_core::media::mhl;
use mstation_core::validate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{OrdersRule, WorkOrder};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Platform, Result, Row, StoreError, WriteTx, new_id,
    now_ms,
};

/// The job that verifies a delivery's manifest against its files.
pub const VERIFY_JOB: &str = "orders.verify_delivery";
/// The most versions one delivery hands over.
pub const MOST_DELIVERED: usize = 50;
/// The largest manifest taken, in bytes.
pub const MOST_MANIFEST: usize = 4 << 20;

/// A milestone's delivery as the vendor sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelivery {
    /// Where the work is, what changed.
    #[serde(default)]
    pub note: String,
    /// Versions of the order's tasks the delivery hands over (at most 50).
    #[serde(default)]
    pub versions: Vec<Uuid>,
    /// An ASC MHL generation (`.mhl`, XML) listing the delivered files with their hashes.
    #[serde(default)]
    pub manifest: Option<String>,
}

/// Where a delivery's verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryCheck {
    /// It came without a manifest: nothing to verify.
    Unchecked,
    /// Its files are being hashed.
    Verifying,
    /// Every delivered file is listed and matches; every listed file is there.
    Verified,
    /// A file is missing, unlisted or does not match.
    Failed,
}

impl DeliveryCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryCheck::Unchecked => "unchecked",
            DeliveryCheck::Verifying => "verifying",
            DeliveryCheck::Verified => "verified",
            DeliveryCheck::Failed => "failed",
        }
    }
    fn parse(s: &str) -> DeliveryCheck {
        match s {
            "verifying" => DeliveryCheck::Verifying,
            "verified" => DeliveryCheck::Verified,
            "failed" => DeliveryCheck::Failed,
            _ => DeliveryCheck::Unchecked,
        }
    }
}

/// What the verification found of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// Listed, delivered, and its bytes have the listed hash.
    Match,
    /// Listed and delivered, but its bytes hash otherwise.
    Mismatch,
    /// Listed, not delivered.
    Missing,
    /// Delivered, not listed.
    Unlisted,
}

/// One file of a delivery's verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckedFile {
    /// Its path in the manifest, or its name when unlisted.
    pub path: String,
    pub outcome: FileOutcome,
    /// The hash format compared (`xxh64`, `md5`, …), when there was one.
    pub format: Option<String>,
    pub expected: Option<String>,
    pub found: Option<String>,
}

/// A version a delivery handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveredVersion {
    pub id: Uuid,
    pub task_id: Uuid,
    pub number: i64,
}

/// A milestone's latest delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub milestone_id: Uuid,
    pub note: String,
    pub versions: Vec<DeliveredVersion>,
    /// Whether it came with a manifest.
    pub manifest: bool,
    pub check: DeliveryCheck,
    /// The verification, file by file, once done.
    pub files: Vec<CheckedFile>,
    pub created_at: Millis,
    pub checked_at: Option<Millis>,
}

pub(super) const DELIVERY_COLS: &str = "id, milestone_id, note, versions, manifest IS NOT NULL, check_state, check_result, created_at, checked_at";

impl FromRow for Delivery {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, milestone_id, note) = (r.get()?, r.get()?, r.get()?);
        let versions: String = r.get()?;
        let manifest: bool = r.get()?;
        let check: String = r.get()?;
        let result: Option<String> = r.get()?;
        Ok(Delivery {
            id,
            milestone_id,
            note,
            // Written by this store from `DeliveredVersion`s and `CheckedFile`s.
            versions: serde_json::from_str(&versions).unwrap_or_default(),
            manifest,
            check: DeliveryCheck::parse(&check),
            files: result
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
            created_at: r.get()?,
            checked_at: r.get()?,
        })
    }
}

/// The delivery's input checked before anything is written: the versions (at most 50, each
/// once) and the manifest, read as an ASC MHL generation.
pub(super) fn checked(d: &NewDelivery) -> Result<Option<String>> {
    if d.versions.len() > MOST_DELIVERED {
        return Err(FieldError::new("versions", "at_most_50").into());
    }
    let mut seen = std::collections::HashSet::new();
    if !d.versions.iter().all(|v| seen.insert(*v)) {
        return Err(FieldError::new("versions", "duplicate_version").into());
    }
    let Some(xml) = d.manifest.as_ref().filter(|m| !m.trim().is_empty()) else {
        return Ok(None);
    };
    if xml.len() > MOST_MANIFEST {
        return Err(FieldError::new("manifest", "too_large").into());
    }
    let g = mhl::parse_generation(xml).map_err(|e| StoreError::InvalidValue {
        field: "manifest".into(),
        reason: match e {
            mhl::MhlError::Xml(_) => "not_well_formed_xml",
            mhl::MhlError::NotMhl(_) => "not_an_mhl_manifest",
        },
    })?;
    if g.files.is_empty() {
        return Err(FieldError::new("manifest", "lists_no_files").into());
    }
    if d.versions.is_empty() {
        return Err(FieldError::new("versions", "manifest_without_versions").into());
    }
    Ok(Some(xml.clone()))
}

/// Inside the delivery's write: records the delivery of `o`'s milestone, its versions each
/// handed in by the vendor for the order, on one of the order's tasks (`tasks`), and queues the
/// verification of its manifest.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record(
    tx: &mut WriteTx<'_>,
    o: &WorkOrder,
    milestone_id: Uuid,
    by: Uuid,
    note: &str,
    versions: &[Uuid],
    manifest: Option<&str>,
    tasks: &[Uuid],
) -> Result<Delivery> {
    let mut delivered = Vec::new();
    for v in versions {
        let found: Option<(Uuid, i64, Option<String>)> = tx
            .query_opt(
                "SELECT v.task_id, v.number, c.kind FROM versions v
                 LEFT JOIN work_order_contributions c ON c.org_id = v.org_id AND c.order_id = $3 AND c.entity_id = v.id
                 WHERE v.org_id = $1 AND v.id = $2",
                &[o.org_id.into(), v.into(), o.id.into()],
            )
            .await?;
        match found {
            Some((task_id, number, Some(_))) if tasks.contains(&task_id) => {
                delivered.push(DeliveredVersion {
                    id: *v,
                    task_id,
                    number,
                })
            }
            Some((task_id, _, None)) if tasks.contains(&task_id) => {
                return Err(FieldError::new("versions", "not_handed_in").into());
            }
            _ => return Err(FieldError::new("versions", "not_a_version_of_this_work").into()),
        }
    }
    let check = if manifest.is_some() {
        DeliveryCheck::Verifying
    } else {
        DeliveryCheck::Unchecked
    };
    let d = Delivery {
        id: new_id(),
        milestone_id,
        note: note.to_string(),
        versions: delivered,
        manifest: manifest.is_some(),
        check,
        files: Vec::new(),
        created_at: Millis(now_ms()),
        checked_at: None,
    };
    tx.execute(
        "INSERT INTO work_order_deliveries (id, org_id, vendor_org_id, order_id, milestone_id, note, versions, manifest, check_state, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            d.id.into(),
            o.org_id.into(),
            o.vendor_org_id.into(),
            o.id.into(),
            milestone_id.into(),
            note.into(),
            serde_json::to_string(&d.versions).unwrap_or_default().into(),
            manifest.map(str::to_string).into(),
            check.as_str().into(),
            by.into(),
            d.created_at.into(),
        ],
    )
    .await?;
    if manifest.is_some() {
        crate::jobs::insert_job(
            tx,
            &crate::jobs::NewJob {
                org_id: Some(o.org_id),
                kind: VERIFY_JOB.into(),
                payload: serde_json::json!({"delivery_id": d.id, "order_id": o.id}),
                priority: 0,
                max_attempts: 5,
                run_after: None,
            },
        )
        .await?;
    }
    Ok(d)
}

/// Inside an acceptance's write: the milestone's latest delivery is verified, or came without
/// a manifest.
pub(super) async fn accepted_check(tx: &mut WriteTx<'_>, org: Uuid, milestone: Uuid) -> Result<()> {
    let state: Option<String> = tx
        .scalar_opt(
            "SELECT check_state FROM work_order_deliveries WHERE org_id = $1 AND milestone_id = $2
             ORDER BY created_at DESC, id DESC LIMIT 1",
            &[org.into(), milestone.into()],
        )
        .await?;
    match state.as_deref().map(DeliveryCheck::parse) {
        Some(DeliveryCheck::Verifying) => Err(OrdersRule::DeliveryVerifying.into()),
        Some(DeliveryCheck::Failed) => Err(OrdersRule::DeliveryFailed.into()),
        _ => Ok(()),
    }
}

/// A delivered file as the verification reads it: its name, blob and size.
#[derive(Debug, Clone)]
pub struct DeliveredFile {
    pub name: String,
    pub hash: String,
    pub size: i64,
}

impl FromRow for DeliveredFile {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(DeliveredFile {
            name: r.get()?,
            hash: r.get()?,
            size: r.get()?,
        })
    }
}

/// What a verification job works on: the manifest and the delivered files.
pub struct ToVerify {
    pub manifest: mhl::Generation,
    pub files: Vec<DeliveredFile>,
}

/// Which listed file each delivered file is, by name (the last part of the listed path), the
/// same size first: `(listed index, delivered index)` pairs, each used once.
pub fn pair_files(
    listed: &[mhl::FileHash],
    files: &[DeliveredFile],
) -> Vec<(usize, Option<usize>)> {
    let mut used = vec![false; files.len()];
    let mut out = Vec::new();
    for (i, l) in listed.iter().enumerate() {
        let name = l.path.rsplit('/').next().unwrap_or(&l.path);
        let candidates: Vec<usize> = (0..files.len())
            .filter(|&k| !used[k] && files[k].name == name)
            .collect();
        let pick = candidates
            .iter()
            .copied()
            .find(|&k| files[k].size as u64 == l.size)
            .or(candidates.first().copied());
        if let Some(k) = pick {
            used[k] = true;
        }
        out.push((i, pick));
    }
    out
}

/// The verification of `v`, given the hashes of each delivered file (by index) in the formats
/// the manifest asks for: one line per listed file, then one per delivered file not listed.
pub fn verify(v: &ToVerify, hashes: &[BTreeMap<String, String>]) -> Vec<CheckedFile> {
    let pairs = pair_files(&v.manifest.files, &v.files);
    let mut out = Vec::new();
    let mut listed = vec![false; v.files.len()];
    for (i, pick) in pairs {
        let l = &v.manifest.files[i];
        // The strongest format the manifest gives that this build reads (the reader keeps
        // hex digests in lower case and a C4 ID, base 58, as written).
        let wanted = ["c4", "sha1", "md5", "xxh128", "xxh3", "xxh64"]
            .into_iter()
            .find_map(|f| l.hashes.get(f).map(|h| (f, h.clone())));
        let Some(k) = pick else {
            out.push(CheckedFile {
                path: l.path.clone(),
                outcome: FileOutcome::Missing,
                format: wanted.as_ref().map(|w| w.0.to_string()),
                expected: wanted.map(|w| w.1),
                found: None,
            });
            continue;
        };
        listed[k] = true;
        let (format, expected) = match wanted {
            Some((f, h)) => (Some(f.to_string()), Some(h)),
            None => (None, None),
        };
        let found = format
            .as_ref()
            .and_then(|f| hashes.get(k).and_then(|h| h.get(f)).cloned());
        let ok = expected.is_some() && found == expected;
        out.push(CheckedFile {
            path: l.path.clone(),
            outcome: if ok {
                FileOutcome::Match
            } else {
                FileOutcome::Mismatch
            },
            format,
            expected,
            found,
        });
    }
    for (k, f) in v.files.iter().enumerate() {
        if !listed[k] {
            out.push(CheckedFile {
                path: f.name.clone(),
                outcome: FileOutcome::Unlisted,
                format: None,
                expected: None,
                found: None,
            });
        }
    }
    out
}

/// The formats each delivered file must be hashed in, by index.
pub fn formats_needed(v: &ToVerify) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); v.files.len()];
    for (i, pick) in pair_files(&v.manifest.files, &v.files) {
        if let Some(k) = pick {
            for f in v.manifest.files[i].hashes.keys() {
                if mhl::FORMATS.contains(&f.as_str()) && !out[k].contains(f) {
                    out[k].push(f.clone());
                }
            }
        }
    }
    out
}

impl Platform<'_> {
    /// A delivery waiting for its verification: its manifest and files; none once verified
    /// (a job run again finds nothing to do).
    pub async fn delivery_to_verify(&self, id: Uuid) -> Result<Option<ToVerify>> {
        let found: Option<(Uuid, String, Option<String>)> = self
            .read_opt(
                "SELECT org_id, versions, manifest FROM work_order_deliveries WHERE id = $1 AND check_state = 'verifying'",
                &[id.into()],
            )
            .await?;
        let Some((org, versions, Some(manifest))) = found else {
            return Ok(None);
        };
        let versions: Vec<DeliveredVersion> = serde_json::from_str(&versions).unwrap_or_default();
        let mut files = Vec::new();
        for v in versions {
            let mut of: Vec<DeliveredFile> = self
                .read(
                    "SELECT f.name, f.hash, f.size FROM version_media m JOIN media_files f ON f.id = m.media_file_id AND f.org_id = m.org_id
                     WHERE m.org_id = $1 AND m.version_id = $2 ORDER BY m.position",
                    &[org.into(), v.id.into()],
                )
                .await?;
            files.append(&mut of);
        }
        // Checked when it was taken.
        let manifest = mhl::parse_generation(&manifest).unwrap_or_default();
        Ok(Some(ToVerify { manifest, files }))
    }

    /// Records a delivery's verification, file by file: verified when every file matches,
    /// failed otherwise; both sides are told.
    pub async fn finish_verification(&self, id: Uuid, files: Vec<CheckedFile>) -> Result<()> {
        self.write(move |tx| {
            Box::pin(async move {
                let text = format!(
                    "SELECT org_id, vendor_org_id, order_id, milestone_id FROM work_order_deliveries WHERE id = $1 AND check_state = 'verifying'{}",
                    tx.lock_rows()
                );
                let found: Option<(Uuid, Uuid, Uuid, Uuid)> =
                    tx.query_opt(&text, &[id.into()]).await?;
                let Some((org, vendor, order, milestone)) = found else {
                    return Ok(());
                };
                let ok = !files.is_empty() && files.iter().all(|f| f.outcome == FileOutcome::Match);
                let check = if ok {
                    DeliveryCheck::Verified
                } else {
                    DeliveryCheck::Failed
                };
                let now = Millis(now_ms());
                tx.execute(
                    "UPDATE work_order_deliveries SET check_state = $2, check_result = $3, checked_at = $4 WHERE id = $1",
                    &[
                        id.into(),
                        check.as_str().into(),
                        serde_json::to_string(&files).unwrap_or_default().into(),
                        now.into(),
                    ],
                )
                .await?;
                let action = if ok { "delivery.verified" } else { "delivery.failed" };
                let after = serde_json::json!({
                    "order_id": order, "milestone_id": milestone, "check": check, "files": files,
                });
                let recorded = Change::new(Some(org), action, "delivery", id).after(&after);
                let news = Change::new(Some(vendor), action, "delivery", id).after(&after);
                tx.record_and_announce(&Actor::system(), vec![recorded], vec![news])
                    .await?;
                Ok(())
            })
        })
        .await
    }
}
