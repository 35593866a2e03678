//! A project's custom fields: the fields its shots, assets and tasks carry beyond the built-in
//! ones, listed for everyone, defined, renamed, given choices and removed by those who set a
//! production up. The values themselves are edited where the shot (or asset, or task) is.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use mstation_core::Permission;
use mstation_core::tracking::fields::{FieldEntity, FieldKind};
use mstation_store::StoreError;
use mstation_store::tracking::Project;
use mstation_store::tracking::fields::{CustomField, CustomFieldChanges, NewCustomField};
use serde::Deserialize;
use uuid::Uuid;

use super::{answered, flash_of, need};
use crate::State;
use crate::auth::MaybeSigned;
use crate::error::ApiError;
use crate::i18n;
use crate::pages::{Ctx, Nav, PageResult, Tr, ctx, html};

pub(crate) fn routes(r: Router<State>) -> Router<State> {
    r.route(
        "/app/projects/{project_id}/fields",
        get(fields_page).post(create_field),
    )
    .route("/app/fields/{field_id}", post(change_field))
    .route("/app/fields/{field_id}/delete", post(delete_field))
}

const ENTITIES: [FieldEntity; 3] = [FieldEntity::Shot, FieldEntity::Asset, FieldEntity::Task];
const KINDS: [FieldKind; 4] = [
    FieldKind::Text,
    FieldKind::Number,
    FieldKind::Date,
    FieldKind::Choice,
];

struct FieldRow {
    id: String,
    version: i64,
    key: String,
    name: String,
    kind: String,
    is_choice: bool,
    /// One choice a line, as the form edits them.
    choices: String,
}

/// The fields of one kind of entity, under its heading.
struct Group {
    title: String,
    rows: Vec<FieldRow>,
}

/// The new-field form as typed, shown again when it was refused.
#[derive(Default, Deserialize)]
struct NewForm {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    choices: String,
}

#[derive(Template)]
#[template(path = "fields.html")]
struct FieldsPage {
    tr: Tr,
    nav: Option<Nav>,
    flash: Option<(String, String)>,
    csrf: String,
    project: Project,
    groups: Vec<Group>,
    /// (value, label) of the entities and the kinds a field can have.
    entities: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    typed: NewForm,
    can_manage: bool,
}

fn entity_word(e: &str) -> String {
    i18n::text(&format!("fields-on-{e}"))
}

fn kind_word(k: &str) -> String {
    i18n::text(&format!("fields-kind-{k}"))
}

/// Choices as the form sends them: one a line, blank lines left out.
fn choice_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

async fn fields_view(
    state: &State,
    cx: &Ctx,
    project_id: Uuid,
    said: Option<((String, String), StatusCode)>,
    typed: NewForm,
) -> PageResult {
    need(cx, Permission::ReadOrg)?;
    let store = state.store.tenant(&cx.scope);
    let project = store.project(project_id).await?;
    let fields = store.custom_fields(project_id, None).await?;
    let groups = ENTITIES
        .iter()
        .map(|e| Group {
            title: entity_word(e.as_str()),
            rows: fields
                .iter()
                .filter(|f| f.entity == e.as_str())
                .map(row)
                .collect(),
        })
        .collect();
    let (flash, status) = match said {
        Some((f, s)) => (Some(f), s),
        None => (None, StatusCode::OK),
    };
    let typed = NewForm {
        entity: if typed.entity.is_empty() {
            "shot".into()
        } else {
            typed.entity
        },
        kind: if typed.kind.is_empty() {
            "text".into()
        } else {
            typed.kind
        },
        ..typed
    };
    let page = html(FieldsPage {
        tr: Tr::now(),
        nav: cx.nav("projects"),
        flash,
        csrf: cx.csrf.clone(),
        project,
        groups,
        entities: ENTITIES
            .iter()
            .map(|e| (e.as_str().to_string(), entity_word(e.as_str())))
            .collect(),
        kinds: KINDS
            .iter()
            .map(|k| (k.as_str().to_string(), kind_word(k.as_str())))
            .collect(),
        typed,
        can_manage: cx.scope.can(Permission::ManageProduction),
    });
    answered(page, status)
}

fn row(f: &CustomField) -> FieldRow {
    FieldRow {
        id: f.id.to_string(),
        version: f.version,
        key: f.key.clone(),
        name: f.name.clone(),
        kind: kind_word(&f.kind),
        is_choice: f.kind == FieldKind::Choice.as_str(),
        choices: f.choices.clone(),
    }
}

async fn fields_page(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    fields_view(&state, &cx, project_id, None, NewForm::default()).await
}

/// A refusal said on the page, with its status.
fn refused(e: impl Into<ApiError>) -> ((String, String), StatusCode) {
    let e: ApiError = e.into();
    let status = e.status();
    (flash_of(e), status)
}

#[derive(Deserialize)]
struct CreateForm {
    csrf: String,
    #[serde(flatten)]
    field: NewForm,
}

async fn create_field(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(project_id): Path<Uuid>,
    axum::Form(f): axum::Form<CreateForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::ManageProduction)?;
    let typed = f.field;
    let entity = ENTITIES.into_iter().find(|e| e.as_str() == typed.entity);
    let kind = FieldKind::parse(&typed.kind);
    let (Some(entity), Some(kind)) = (entity, kind) else {
        let what = if entity.is_none() { "entity" } else { "kind" };
        let said = refused(ApiError::invalid(what, "unknown_value"));
        return fields_view(&state, &cx, project_id, Some(said), typed).await;
    };
    let new = NewCustomField {
        entity,
        key: typed.key.trim().to_string(),
        name: typed.name.clone(),
        kind,
        choices: choice_lines(&typed.choices),
        sort_order: None,
    };
    match state
        .store
        .tenant(&cx.scope)
        .create_custom_field(project_id, new)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/projects/{project_id}/fields")).into_response()),
        Err(e @ StoreError::NotFound { .. }) => Err(e.into()),
        Err(e) => fields_view(&state, &cx, project_id, Some(refused(e)), typed).await,
    }
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    /// The field's version when the page was read.
    version: i64,
    #[serde(default)]
    name: String,
    /// Absent for a field that has no choices.
    choices: Option<String>,
}

async fn change_field(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(field_id): Path<Uuid>,
    axum::Form(f): axum::Form<ChangeForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::ManageProduction)?;
    let store = state.store.tenant(&cx.scope);
    let field = store.custom_field(field_id).await?;
    let changes = CustomFieldChanges {
        name: Some(f.name),
        choices: f.choices.as_deref().map(choice_lines),
        sort_order: None,
    };
    match store
        .update_custom_field(field_id, Some(f.version), changes)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/app/projects/{}/fields", field.project_id)).into_response())
        }
        Err(e) => {
            let said = refused(e);
            fields_view(
                &state,
                &cx,
                field.project_id,
                Some(said),
                NewForm::default(),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    csrf: String,
    version: i64,
}

async fn delete_field(
    AxState(state): AxState<State>,
    MaybeSigned(c): MaybeSigned,
    Path(field_id): Path<Uuid>,
    axum::Form(f): axum::Form<DeleteForm>,
) -> PageResult {
    let cx = ctx(&state, c).await?;
    cx.check_csrf(&f.csrf)?;
    need(&cx, Permission::ManageProduction)?;
    let store = state.store.tenant(&cx.scope);
    let field = store.custom_field(field_id).await?;
    match store.delete_custom_field(field_id, Some(f.version)).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/app/projects/{}/fields", field.project_id)).into_response())
        }
        Err(e) => {
            let said = refused(e);
            fields_view(
                &state,
                &cx,
                field.project_id,
                Some(said),
                NewForm::default(),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_read_one_a_line() {
        assert_eq!(
            choice_lines("Anamorphic\r\n\n  Spherical \n"),
            ["Anamorphic", "Spherical"]
        );
        assert!(choice_lines("").is_empty());
    }
}
