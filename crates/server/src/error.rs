//! Errors as RFC 9457 `application/problem+json`: a stable `code` to match on, a title in the
//! caller's language, a detail that says what to fix, and the offending field when there is one.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mstation_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub field: Option<String>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable: match on this, not on the title.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            field: None,
        }
    }
    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            "Sign in, or send `Authorization: Bearer <token>`.",
        )
    }
    pub fn forbidden(what: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            format!("Your role or token does not allow {what}."),
        )
    }
    pub fn not_found(entity: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No {entity} with this id in your organisation."),
        )
    }
    pub fn invalid(field: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: {reason}"),
        )
        .field(field)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound { entity } => ApiError::not_found(entity),
            StoreError::Stale { current, .. } => ApiError::new(
                StatusCode::CONFLICT,
                "stale_version",
                format!(
                    "{e}. Reload it and apply your change again (send If-Match: \"{current}\")."
                ),
            ),
            StoreError::Duplicate { field, .. } => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", e.to_string()).field(*field)
            }
            StoreError::Invalid(f) => ApiError::invalid(f.field, f.reason),
            StoreError::InvalidValue { field, reason } => ApiError::invalid(field, reason),
            StoreError::Rule(code) => {
                let status = match *code {
                    "identity.role_not_assignable" | "tracking.not_your_time_log" => {
                        StatusCode::FORBIDDEN
                    }
                    _ => StatusCode::CONFLICT,
                };
                ApiError::new(
                    status,
                    *code,
                    i18n::text(&format!("problem-{}", code.replace('.', "-"))),
                )
            }
            StoreError::Database(_) => {
                tracing::error!(error = %e, "store failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "The database did not answer; try again shortly.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let key = format!("problem-{}", self.code.replace('.', "-"));
        let title = i18n::try_text(&key)
            .unwrap_or_else(|| i18n::text(&format!("status-{}", self.status.as_u16())));
        let body = Problem {
            kind: format!("https://m-station.dev/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            field: self.field,
        };
        let mut resp = (
            self.status,
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "There is no such address.",
    )
}
