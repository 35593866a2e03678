//! Custom fields of a project's shots, assets and tasks: their definitions, the values each
//! entity holds, and the `field.<key>` filters of the task list. Value rules live in core.

use std::collections::BTreeMap;

use mstation_core::tracking::fields::{self as rules, FieldEntity, FieldKind};
use mstation_core::validate::{self, FieldError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    Actor, Arg, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, new_id, now_ms,
};
use crate::{check_version, dup};

/// A project has at most this many custom fields per kind of entity.
pub const MAX_FIELDS: i64 = 100;
/// A task list takes at most this many `field.` filters.
pub const MAX_FILTERS: usize = 10;

fn lines_out<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.lines().filter(|l| !l.is_empty()))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomField {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    #[schema(value_type = FieldEntity)]
    pub entity: String,
    /// Names the field in values and in `field.<key>` filters; unique per project and entity.
    pub key: String,
    pub name: String,
    #[schema(value_type = FieldKind)]
    pub kind: String,
    /// The values a choice field takes, in order; empty for the other kinds.
    #[serde(serialize_with = "lines_out")]
    #[schema(value_type = Vec<String>)]
    pub choices: String,
    pub sort_order: i64,
    pub created_at: Millis,
    pub version: i64,
}

impl FromRow for CustomField {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(CustomField {
            id: r.get()?,
            org_id: r.get()?,
            project_id: r.get()?,
            entity: r.get()?,
            key: r.get()?,
            name: r.get()?,
            kind: r.get()?,
            choices: r.get()?,
            sort_order: r.get()?,
            created_at: r.get()?,
            version: r.get()?,
        })
    }
}

impl CustomField {
    fn kind(&self) -> FieldKind {
        FieldKind::parse(&self.kind).unwrap_or(FieldKind::Text)
    }
    fn choice_list(&self) -> Vec<&str> {
        self.choices.lines().filter(|l| !l.is_empty()).collect()
    }
}

/// Checked input for a new custom field.
#[derive(Debug, Clone)]
pub struct NewCustomField {
    pub entity: FieldEntity,
    pub key: String,
    pub name: String,
    pub kind: FieldKind,
    pub choices: Vec<String>,
    pub sort_order: Option<i64>,
}

/// What a PATCH of a definition may change. Key, kind and entity stay: values depend on them.
#[derive(Debug, Clone, Default)]
pub struct CustomFieldChanges {
    pub name: Option<String>,
    pub choices: Option<Vec<String>>,
    pub sort_order: Option<i64>,
}

/// The custom values of one entity, by key: every field of its project and kind, null if unset.
pub type FieldValues = BTreeMap<String, serde_json::Value>;

/// One `field.<key>` filter of the task list as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    pub key: String,
    pub op: FieldOp,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Eq,
    Gte,
    Lte,
}

/// A filter resolved against the definitions: the column it compares and the bound, checked.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedFilter {
    key: String,
    op: &'static str,
    bound: Bound,
}

#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Text(String),
    Num(f64),
}

impl ResolvedFilter {
    /// The SQL of this filter, with its two parameters numbered from `at`. The subquery reads
    /// `custom_fields_key` and then `custom_values_text` or `custom_values_num`.
    fn clause(&self, at: usize) -> String {
        let col = match self.bound {
            Bound::Text(_) => "value",
            Bound::Num(_) => "num",
        };
        format!(
            " AND t.id IN (SELECT v.entity_id FROM custom_fields d JOIN custom_values v ON v.field_id = d.id
               WHERE d.org_id = $1 AND d.entity = 'task' AND d.key = ${} AND v.{col} {} ${})",
            at,
            self.op,
            at + 1
        )
    }
}

/// The clauses of `filters`, parameters numbered from `at`.
pub(crate) fn clauses(filters: &[ResolvedFilter], at: usize) -> String {
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| f.clause(at + 2 * i))
        .collect()
}

/// The parameters of `clauses`, in order.
pub(crate) fn filter_args(filters: &[ResolvedFilter]) -> Vec<Arg> {
    filters
        .iter()
        .flat_map(|f| {
            let value = match &f.bound {
                Bound::Text(s) => Arg::Text(Some(s.clone())),
                Bound::Num(n) => Arg::Real(Some(*n)),
            };
            [Arg::Text(Some(f.key.clone())), value]
        })
        .collect()
}

fn table(entity: FieldEntity) -> &'static str {
    match entity {
        FieldEntity::Shot => "shots",
        FieldEntity::Asset => "assets",
        FieldEntity::Task => "tasks",
    }
}

const FIELD_COLS: &str =
    "id, org_id, project_id, entity, key, name, kind, choices, sort_order, created_at, version";

fn check_choices(kind: FieldKind, choices: &[String]) -> Result<String> {
    if kind != FieldKind::Choice {
        if choices.is_empty() {
            return Ok(String::new());
        }
        return Err(FieldError::new("choices", "only_for_choice_fields").into());
    }
    if choices.is_empty() || choices.len() > rules::MAX_CHOICES {
        return Err(FieldError::new("choices", "between_1_and_100").into());
    }
    let mut out: Vec<String> = Vec::with_capacity(choices.len());
    for c in choices {
        let c = validate::name("choices", c, 100)?;
        if out.contains(&c) {
            return Err(FieldError::new("choices", "duplicate_choice").into());
        }
        out.push(c);
    }
    Ok(out.join("\n"))
}

fn check_sort_order(v: i64) -> Result<i64> {
    if (0..=1_000_000).contains(&v) {
        Ok(v)
    } else {
        Err(FieldError::new("sort_order", "out_of_range").into())
    }
}

/// A stored value as JSON, from its kind and text.
pub(super) fn value_json(kind: &str, text: &str) -> serde_json::Value {
    rules::to_json(FieldKind::parse(kind).unwrap_or(FieldKind::Text), text)
}

impl Tenant<'_> {
    pub async fn create_custom_field(
        &self,
        project_id: Uuid,
        new: NewCustomField,
    ) -> Result<CustomField> {
        let scope = self.scope().clone();
        let key = rules::key(&new.key).map_err(|r| FieldError::new("key", r))?;
        let f = CustomField {
            id: new_id(),
            org_id: scope.org_id,
            project_id,
            entity: new.entity.as_str().to_string(),
            key,
            name: validate::name("name", &new.name, 100)?,
            kind: new.kind.as_str().to_string(),
            choices: check_choices(new.kind, &new.choices)?,
            sort_order: check_sort_order(new.sort_order.unwrap_or(0))?,
            created_at: Millis(now_ms()),
            version: 1,
        };
        self.write(move |tx| {
            Box::pin(async move {
                crate::exists(tx, "projects", scope.org_id, project_id, "project").await?;
                let n: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM custom_fields
                         WHERE org_id = $1 AND project_id = $2 AND entity = $3",
                        &[scope.org_id.into(), project_id.into(), (&f.entity).into()],
                    )
                    .await?;
                if n >= MAX_FIELDS {
                    return Err(StoreError::from(super::TrackingRule::TooManyFields));
                }
                let text = format!(
                    "INSERT INTO custom_fields ({FIELD_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                );
                let args = [
                    f.id.into(),
                    f.org_id.into(),
                    f.project_id.into(),
                    (&f.entity).into(),
                    (&f.key).into(),
                    (&f.name).into(),
                    (&f.kind).into(),
                    (&f.choices).into(),
                    f.sort_order.into(),
                    f.created_at.into(),
                    f.version.into(),
                ];
                if let Err(e) = tx.execute(&text, &args).await {
                    return Err(dup(e, "custom field", "key"));
                }
                let change = Change::new(
                    Some(scope.org_id),
                    "custom_field.created",
                    "custom_field",
                    f.id,
                );
                tx.record(&Actor::of(&scope), change.after(&f)).await?;
                Ok(f)
            })
        })
        .await
    }

    /// The custom fields of a project, in display order, optionally of one kind of entity.
    pub async fn custom_fields(
        &self,
        project_id: Uuid,
        entity: Option<FieldEntity>,
    ) -> Result<Vec<CustomField>> {
        let scope = self.scope();
        self.project(project_id).await?;
        let entity = entity.map(FieldEntity::as_str);
        let text = format!(
            "SELECT {FIELD_COLS} FROM custom_fields WHERE org_id = $1 AND project_id = $2 AND ($3 IS NULL OR entity = $3) ORDER BY entity, sort_order, id"
        );
        self.read(
            &text,
            &[scope.org_id.into(), project_id.into(), entity.into()],
        )
        .await
    }

    pub async fn custom_field(&self, id: Uuid) -> Result<CustomField> {
        self.one(FIELD_COLS, "custom_fields", id, "custom field")
            .await
    }

    /// Renames a field, reorders it, or changes its choices; a choice some value still holds
    /// cannot be taken away.
    pub async fn update_custom_field(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        ch: CustomFieldChanges,
    ) -> Result<CustomField> {
        let name = ch
            .name
            .map(|n| validate::name("name", &n, 100))
            .transpose()?;
        let sort_order = ch.sort_order.map(check_sort_order).transpose()?;
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = crate::locked::<CustomField>(
                    tx,
                    FIELD_COLS,
                    "custom_fields",
                    scope.org_id,
                    id,
                    "custom field",
                )
                .await?;
                check_version("custom field", expected_version, before.version)?;
                let mut after = before.clone();
                if let Some(c) = &ch.choices {
                    after.choices = check_choices(before.kind(), c)?;
                    let kept = after.choice_list();
                    for gone in before
                        .choice_list()
                        .into_iter()
                        .filter(|c| !kept.contains(c))
                    {
                        let used: Option<Uuid> = tx
                            .scalar_opt(
                                "SELECT entity_id FROM custom_values
                                 WHERE field_id = $1 AND value = $2 AND org_id = $3 LIMIT 1",
                                &[id.into(), gone.into(), scope.org_id.into()],
                            )
                            .await?;
                        if used.is_some() {
                            return Err(StoreError::from(super::TrackingRule::ChoiceInUse));
                        }
                    }
                }
                if let Some(n) = name {
                    after.name = n;
                }
                if let Some(s) = sort_order {
                    after.sort_order = s;
                }
                after.version += 1;
                let args = [
                    (&after.name).into(),
                    (&after.choices).into(),
                    after.sort_order.into(),
                    after.version.into(),
                    scope.org_id.into(),
                    id.into(),
                    before.version.into(),
                ];
                crate::update_seen(
                    tx,
                    "custom field",
                    None,
                    before.version,
                    "UPDATE custom_fields SET name = $1, choices = $2, sort_order = $3,
                         version = $4 WHERE org_id = $5 AND id = $6 AND version = $7",
                    &args,
                )
                .await?;
                let change = Change::new(
                    Some(scope.org_id),
                    "custom_field.updated",
                    "custom_field",
                    id,
                );
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Deletes a field and every value it held.
    pub async fn delete_custom_field(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let before = crate::locked::<CustomField>(
                    tx,
                    FIELD_COLS,
                    "custom_fields",
                    scope.org_id,
                    id,
                    "custom field",
                )
                .await?;
                check_version("custom field", expected_version, before.version)?;
                let ids: [Arg; 2] = [scope.org_id.into(), id.into()];
                tx.execute(
                    "DELETE FROM custom_values WHERE org_id = $1 AND field_id = $2",
                    &ids,
                )
                .await?;
                tx.execute(
                    "DELETE FROM custom_fields WHERE org_id = $1 AND id = $2",
                    &ids,
                )
                .await?;
                let change = Change::new(
                    Some(scope.org_id),
                    "custom_field.deleted",
                    "custom_field",
                    id,
                );
                tx.record(&Actor::of(&scope), change.before(&before))
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The custom values of a shot, an asset or a task.
    pub async fn field_values(&self, entity: FieldEntity, id: Uuid) -> Result<FieldValues> {
        let scope = self.scope();
        let find = format!(
            "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2",
            table(entity)
        );
        let project: Option<Uuid> = self
            .scalar_opt(&find, &[scope.org_id.into(), id.into()])
            .await?;
        let Some(project) = project else {
            return Err(StoreError::NotFound {
                entity: entity.as_str(),
            });
        };
        let args = [
            scope.org_id.into(),
            project.into(),
            entity.as_str().into(),
            id.into(),
        ];
        let rows: Vec<(String, String, Option<String>)> = self
            .read(
                "SELECT d.key, d.kind, v.value FROM custom_fields d LEFT JOIN custom_values v ON v.field_id = d.id AND v.entity_id = $4
                 WHERE d.org_id = $1 AND d.project_id = $2 AND d.entity = $3",
                &args,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(k, kind, v)| {
                let v = v.map_or(serde_json::Value::Null, |v| value_json(&kind, &v));
                (k, v)
            })
            .collect())
    }

    /// Sets custom values of a shot, an asset or a task: each key of `values` is a field of the
    /// entity's project and kind, set to its checked value, or cleared by null. Keys not given
    /// keep their values. One write, recorded with the values before and after.
    pub async fn set_field_values(
        &self,
        entity: FieldEntity,
        id: Uuid,
        values: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<FieldValues> {
        if values.len() as i64 > MAX_FIELDS {
            return Err(FieldError::new("fields", "too_many").into());
        }
        let load = "SELECT d.key, d.kind, v.value FROM custom_fields d LEFT JOIN custom_values v ON v.field_id = d.id AND v.entity_id = $4
                    WHERE d.org_id = $1 AND d.project_id = $2 AND d.entity = $3";
        let as_map = |rows: Vec<(String, String, Option<String>)>| -> FieldValues {
            rows.into_iter()
                .map(|(k, kind, v)| {
                    let v = v.map_or(serde_json::Value::Null, |v| value_json(&kind, &v));
                    (k, v)
                })
                .collect()
        };
        let scope = self.scope().clone();
        let values = values.clone();
        self.write(move |tx| {
            Box::pin(async move {
                // Locking the entity row makes concurrent writers of its values take turns.
                let find = format!(
                    "SELECT project_id FROM {} WHERE org_id = $1 AND id = $2{}",
                    table(entity),
                    tx.lock_rows()
                );
                let project: Option<Uuid> = tx
                    .scalar_opt(&find, &[scope.org_id.into(), id.into()])
                    .await?;
                let Some(project) = project else {
                    return Err(StoreError::NotFound {
                        entity: entity.as_str(),
                    });
                };
                let text = format!(
                    "SELECT {FIELD_COLS} FROM custom_fields
                     WHERE org_id = $1 AND project_id = $2 AND entity = $3"
                );
                let defs: Vec<CustomField> = tx
                    .query(
                        &text,
                        &[scope.org_id.into(), project.into(), entity.as_str().into()],
                    )
                    .await?;
                let mut changes = Vec::with_capacity(values.len());
                for (k, v) in &values {
                    let Some(def) = defs.iter().find(|d| &d.key == k) else {
                        return Err(StoreError::InvalidValue {
                            field: k.clone(),
                            reason: "not_a_field_of_this_project",
                        });
                    };
                    let stored = rules::check_value(def.kind(), &def.choice_list(), v).map_err(
                        |reason| StoreError::InvalidValue {
                            field: k.clone(),
                            reason,
                        },
                    )?;
                    changes.push((def.id, stored));
                }
                let load_args: [Arg; 4] = [
                    scope.org_id.into(),
                    project.into(),
                    entity.as_str().into(),
                    id.into(),
                ];
                let before = as_map(tx.query(load, &load_args).await?);
                for (field_id, stored) in changes {
                    match stored {
                        None => {
                            tx.execute(
                                "DELETE FROM custom_values
                                 WHERE entity_id = $1 AND field_id = $2 AND org_id = $3",
                                &[id.into(), field_id.into(), scope.org_id.into()],
                            )
                            .await?;
                        }
                        Some(s) => {
                            let args = [
                                id.into(),
                                field_id.into(),
                                scope.org_id.into(),
                                (&s.text).into(),
                                s.num.into(),
                            ];
                            tx.execute(
                                "INSERT INTO custom_values (entity_id, field_id, org_id, value, num)
                                 VALUES ($1, $2, $3, $4, $5)
                                 ON CONFLICT (entity_id, field_id)
                                 DO UPDATE SET value = excluded.value, num = excluded.num",
                                &args,
                            )
                            .await?;
                        }
                    }
                }
                let after = as_map(tx.query(load, &load_args).await?);
                if before != after {
                    let shape = |v: &FieldValues| {
                        serde_json::json!({
                            "project_id": project,
                            "entity": entity.as_str(),
                            "entity_id": id,
                            "fields": v,
                        })
                    };
                    let change = Change::new(
                        Some(scope.org_id),
                        "custom_values.updated",
                        entity.as_str(),
                        id,
                    );
                    tx.record(
                        &Actor::of(&scope),
                        change.before(&shape(&before)).after(&shape(&after)),
                    )
                    .await?;
                }
                Ok(after)
            })
        })
        .await
    }

    /// Resolves the `field.` filters of a task list against the task fields of the organisation
    /// (or of one project): the key must name a task field, the value must fit its kind, and a
    /// range needs a number or a date. A key whose kind differs between projects needs
    /// `project_id`.
    pub(crate) async fn task_field_filters(
        &self,
        project_id: Option<Uuid>,
        filters: &[FieldFilter],
    ) -> Result<Vec<ResolvedFilter>> {
        let scope = self.scope();
        if filters.len() > MAX_FILTERS {
            return Err(FieldError::new("field", "at_most_10_filters").into());
        }
        let mut out = Vec::with_capacity(filters.len());
        for f in filters {
            let name = || format!("field.{}", f.key);
            let defs: Vec<(String, String)> = self
                .read(
                    "SELECT kind, choices FROM custom_fields WHERE org_id = $1 AND entity = 'task' AND key = $2 AND ($3 IS NULL OR project_id = $3)",
                    &[scope.org_id.into(), (&f.key).into(), project_id.into()],
                )
                .await?;
            let Some((kind, _)) = defs.first() else {
                return Err(StoreError::InvalidValue {
                    field: name(),
                    reason: "not_a_task_field",
                });
            };
            if defs.iter().any(|(k, _)| k != kind) {
                return Err(StoreError::InvalidValue {
                    field: name(),
                    reason: "kind_differs_between_projects_give_project_id",
                });
            }
            let kind = FieldKind::parse(kind).unwrap_or(FieldKind::Text);
            if f.op != FieldOp::Eq && !kind.ordered() {
                return Err(StoreError::InvalidValue {
                    field: name(),
                    reason: "range_needs_a_number_or_date_field",
                });
            }
            // A choice filter is checked against no list: a value no project offers matches
            // nothing.
            let check_kind = if kind == FieldKind::Choice {
                FieldKind::Text
            } else {
                kind
            };
            let stored = rules::check_text(check_kind, &[], &f.value)
                .map_err(|reason| StoreError::InvalidValue {
                    field: name(),
                    reason,
                })?
                .ok_or_else(|| StoreError::InvalidValue {
                    field: name(),
                    reason: "required",
                })?;
            let bound = match stored.num {
                Some(n) => Bound::Num(n),
                None => Bound::Text(stored.text),
            };
            let op = match f.op {
                FieldOp::Eq => "=",
                FieldOp::Gte => ">=",
                FieldOp::Lte => "<=",
            };
            out.push(ResolvedFilter {
                key: f.key.clone(),
                op,
                bound,
            });
        }
        Ok(out)
    }
}
