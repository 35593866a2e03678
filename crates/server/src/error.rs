//! Errors as RFC 9457 `application/problem+json`: a stable `code` to match on, a title and a
//! detail in the caller's language (both from the Fluent catalogs), and the offending field and
//! the reason it was refused when there is one.
//!
//! Every problem is a [`Code`]; its text code and its HTTP status are decided in
//! [`Code::as_str`] and [`Code::status`] and nowhere else. The contexts' own rules are typed where
//! they are enforced (`mstation_store::Rule`) and the editorial formats' errors in core; each
//! maps here by type, never by matching its text.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_templates::fluent_bundle::FluentValue;
use mstation_core::ledger::LedgerRule;
use mstation_core::tracking::{edl::EdlError, export::ExportError, otio::OtioError};
use mstation_store::identity::IdentityRule;
use mstation_store::market::MarketRule;
use mstation_store::media::MediaRule;
use mstation_store::orders::OrdersRule;
use mstation_store::talent::TalentRule;
use mstation_store::tracking::TrackingRule;
use mstation_store::{DbError, Rule, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n;

/// Every kind of problem an answer can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AuthRequired,
    AuthForbidden,
    AuthInvalidToken,
    AuthCsrf,
    AuthNoOrganisation,
    AuthBadCredentials,
    AuthTooManyAttempts,
    AuthTokenBound,
    RequestContentType,
    RequestMalformedJson,
    RequestInvalidBody,
    RequestTooLarge,
    RequestUnreadable,
    RequestInvalidQuery,
    RequestInvalidIfMatch,
    RequestInvalidIdempotencyKey,
    RequestIdempotencyKeyReused,
    RequestIdempotencyInFlight,
    RequestInvalidSort,
    RequestInvalidCursor,
    RequestInvalidLastEventId,
    /// A path segment that does not parse (an id that is not a UUID).
    RequestInvalidPath,
    /// A method the address does not take.
    RequestMethodNotAllowed,
    NotFound,
    RouteNotFound,
    StaleVersion,
    Duplicate,
    InvalidField,
    StoreUnavailable,
    /// A bug of ours (a tenant query without its organisation, a read that found no row it
    /// must find): logged, answered without detail.
    Internal,
    PageRender,
    /// A cut could not be read (CMX 3600).
    BadEdl,
    /// A cut could not be read (OpenTimelineIO).
    BadOtio,
    /// A cut cannot be written in the format asked for.
    BadExport,
    /// A tus header that does not parse (`/files`).
    BadUploadHeader,
    /// The disk media are written to is full: nothing more can be kept until room is made.
    MediaStorageFull,
    /// The worker no longer holds the job it speaks of (its lease lapsed, and the job went back
    /// to the queue or to another worker).
    JobLeaseLost,
    /// A search by meaning on a server without the sentence model.
    SemanticSearchOff,
    /// A context's rule (identity, tracking, …).
    Rule(Rule),
}

impl Code {
    /// Every code, for the catalog tests.
    pub fn all() -> Vec<Code> {
        use Code::*;
        let mut all = vec![
            AuthRequired,
            AuthForbidden,
            AuthInvalidToken,
            AuthCsrf,
            AuthNoOrganisation,
            AuthBadCredentials,
            AuthTooManyAttempts,
            AuthTokenBound,
            RequestContentType,
            RequestMalformedJson,
            RequestInvalidBody,
            RequestTooLarge,
            RequestUnreadable,
            RequestInvalidQuery,
            RequestInvalidIfMatch,
            RequestInvalidIdempotencyKey,
            RequestIdempotencyKeyReused,
            RequestIdempotencyInFlight,
            RequestInvalidSort,
            RequestInvalidCursor,
            RequestInvalidLastEventId,
            RequestInvalidPath,
            RequestMethodNotAllowed,
            NotFound,
            RouteNotFound,
            StaleVersion,
            Duplicate,
            InvalidField,
            StoreUnavailable,
            Internal,
            PageRender,
            BadEdl,
            BadOtio,
            JobLeaseLost,
            MediaStorageFull,
            BadExport,
            BadUploadHeader,
            SemanticSearchOff,
        ];
        all.extend(IdentityRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Identity(r))));
        all.extend(TrackingRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Tracking(r))));
        all.extend(MediaRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Media(r))));
        all.extend(LedgerRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Ledger(r))));
        all.extend(MarketRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Market(r))));
        all.extend(TalentRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Talent(r))));
        all.extend(OrdersRule::ALL.map(|r| Code::Rule(mstation_store::Rule::Orders(r))));
        all
    }

    /// The stable code a client matches on.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::AuthRequired => "auth.required",
            Code::AuthForbidden => "auth.forbidden",
            Code::AuthInvalidToken => "auth.invalid_token",
            Code::AuthCsrf => "auth.csrf",
            Code::AuthNoOrganisation => "auth.no_organisation",
            Code::AuthBadCredentials => "auth.bad_credentials",
            Code::AuthTooManyAttempts => "auth.too_many_attempts",
            Code::AuthTokenBound => "auth.token_bound",
            Code::RequestContentType => "request.content_type",
            Code::RequestMalformedJson => "request.malformed_json",
            Code::RequestInvalidBody => "request.invalid_body",
            Code::RequestTooLarge => "request.too_large",
            Code::RequestUnreadable => "request.unreadable",
            Code::RequestInvalidQuery => "request.invalid_query",
            Code::RequestInvalidIfMatch => "request.invalid_if_match",
            Code::RequestInvalidIdempotencyKey => "request.invalid_idempotency_key",
            Code::RequestIdempotencyKeyReused => "request.idempotency_key_reused",
            Code::RequestIdempotencyInFlight => "request.idempotency_in_flight",
            Code::RequestInvalidSort => "request.invalid_sort",
            Code::RequestInvalidCursor => "request.invalid_cursor",
            Code::RequestInvalidLastEventId => "request.invalid_last_event_id",
            Code::RequestInvalidPath => "request.invalid_path",
            Code::RequestMethodNotAllowed => "request.method_not_allowed",
            Code::NotFound => "not_found",
            Code::RouteNotFound => "route_not_found",
            Code::StaleVersion => "stale_version",
            Code::Duplicate => "duplicate",
            Code::InvalidField => "invalid_field",
            Code::StoreUnavailable => "store_unavailable",
            Code::Internal => "internal",
            Code::PageRender => "page.render",
            Code::BadEdl => "tracking.bad_edl",
            Code::BadOtio => "tracking.bad_otio",
            Code::BadExport => "tracking.bad_export",
            Code::BadUploadHeader => "media.bad_upload_header",
            Code::JobLeaseLost => "jobs.lease_lost",
            Code::MediaStorageFull => "media.storage_full",
            Code::SemanticSearchOff => "talent.semantic_search_off",
            Code::Rule(r) => r.code(),
        }
    }

    /// The HTTP status of an answer with this problem.
    pub fn status(self) -> StatusCode {
        match self {
            Code::AuthRequired | Code::AuthInvalidToken | Code::AuthBadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Code::AuthForbidden | Code::AuthCsrf | Code::AuthNoOrganisation => {
                StatusCode::FORBIDDEN
            }
            Code::AuthTooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Code::AuthTokenBound
            | Code::RequestMalformedJson
            | Code::RequestUnreadable
            | Code::RequestInvalidQuery
            | Code::RequestInvalidIfMatch
            | Code::RequestInvalidIdempotencyKey
            | Code::RequestInvalidSort
            | Code::RequestInvalidCursor
            | Code::RequestInvalidLastEventId
            | Code::RequestInvalidPath
            | Code::BadUploadHeader => StatusCode::BAD_REQUEST,
            Code::RequestMethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::MediaStorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Code::RequestContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::RequestInvalidBody
            | Code::RequestIdempotencyKeyReused
            | Code::InvalidField
            | Code::BadEdl
            | Code::BadOtio
            | Code::BadExport => StatusCode::UNPROCESSABLE_ENTITY,
            Code::NotFound | Code::RouteNotFound => StatusCode::NOT_FOUND,
            Code::StaleVersion
            | Code::Duplicate
            | Code::RequestIdempotencyInFlight
            | Code::JobLeaseLost => StatusCode::CONFLICT,
            Code::StoreUnavailable | Code::SemanticSearchOff => StatusCode::SERVICE_UNAVAILABLE,
            Code::PageRender | Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Rule(Rule::Identity(r)) => match r {
                IdentityRule::RoleNotAssignable => StatusCode::FORBIDDEN,
                IdentityRule::LastOwner
                | IdentityRule::InvitationExpired
                | IdentityRule::InvitationForOtherEmail
                | IdentityRule::SignInToAccept => StatusCode::CONFLICT,
                IdentityRule::PasswordHashFailed => StatusCode::SERVICE_UNAVAILABLE,
            },
            Code::Rule(Rule::Tracking(r)) => match r {
                TrackingRule::NotYourTimeLog
                | TrackingRule::StatusNotForRole
                | TrackingRule::NotYourTask
                | TrackingRule::NotPresenter => StatusCode::FORBIDDEN,
                TrackingRule::TransitionNotAllowed
                | TrackingRule::AssetHasTasks
                | TrackingRule::AssetHasNotes
                | TrackingRule::EpisodeInUse
                | TrackingRule::TooManyFields
                | TrackingRule::ChoiceInUse
                | TrackingRule::SessionEnded => StatusCode::CONFLICT,
            },
            Code::Rule(Rule::Ledger(r)) => match r {
                LedgerRule::SameAccount
                | LedgerRule::CurrencyMismatch
                | LedgerRule::Overflow
                | LedgerRule::ExceedsPending
                | LedgerRule::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
                LedgerRule::ExceedsCredits
                | LedgerRule::ExceedsDebits
                | LedgerRule::PendingClosed => StatusCode::CONFLICT,
            },
            Code::Rule(Rule::Market(r)) => match r {
                MarketRule::NotForSale
                | MarketRule::ExclusiveTaken
                | MarketRule::WalletShort
                | MarketRule::NotPublishable
                | MarketRule::RefundClosed
                | MarketRule::AlreadyListed
                | MarketRule::PaidOut
                | MarketRule::PeriodOpen
                | MarketRule::ReleaseReliedOn
                | MarketRule::NotHeld => StatusCode::CONFLICT,
                MarketRule::OwnListing
                | MarketRule::NoOffers
                | MarketRule::KeyReused
                | MarketRule::CartEmpty
                | MarketRule::CartFull => StatusCode::UNPROCESSABLE_ENTITY,
                MarketRule::OperatorOnly => StatusCode::FORBIDDEN,
                MarketRule::NoOperator => StatusCode::SERVICE_UNAVAILABLE,
            },
            Code::Rule(Rule::Talent(r)) => match r {
                TalentRule::ProjectNotWrapped
                | TalentRule::DaysTaken
                | TalentRule::NotAHold
                | TalentRule::NotASchool => StatusCode::CONFLICT,
            },
            Code::Rule(Rule::Orders(r)) => match r {
                OrdersRule::OwnOrder => StatusCode::UNPROCESSABLE_ENTITY,
                OrdersRule::OperatorOnly => StatusCode::FORBIDDEN,
                OrdersRule::NotDraft
                | OrdersRule::NotOpen
                | OrdersRule::NotAwarded
                | OrdersRule::BidWithdrawn
                | OrdersRule::Disputed
                | OrdersRule::NotDelivered
                | OrdersRule::MilestoneClosed
                | OrdersRule::NoDispute
                | OrdersRule::OtherSide
                | OrdersRule::BidChanged
                | OrdersRule::AwaitingReview
                | OrdersRule::OwnDispute
                | OrdersRule::HeldByOrder
                | OrdersRule::DeliveryVerifying
                | OrdersRule::DeliveryFailed
                | OrdersRule::ChangeClosed
                | OrdersRule::NotQuoted
                | OrdersRule::QuoteChanged
                | OrdersRule::ScopeTaken => StatusCode::CONFLICT,
            },
            Code::Rule(Rule::Media(r)) => match r {
                MediaRule::UploadBusy => StatusCode::LOCKED,
                MediaRule::OffsetMismatch
                | MediaRule::IngestClosed
                | MediaRule::IngestUnfinished => StatusCode::CONFLICT,
                MediaRule::UploadExpired => StatusCode::GONE,
                MediaRule::PastLength | MediaRule::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
                MediaRule::FinalUpload => StatusCode::FORBIDDEN,
                MediaRule::PartsUnfinished => StatusCode::BAD_REQUEST,
                // tus: 460 Checksum Mismatch.
                MediaRule::ChecksumMismatch => {
                    StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST)
                }
            },
        }
    }

    /// The catalog key of this problem's title; its detail is `…-detail`.
    fn key(self) -> String {
        format!("problem-{}", self.as_str().replace('.', "-"))
    }
}

/// What an answer says beyond its title.
#[derive(Debug, Clone)]
enum Detail {
    /// A catalog message and its arguments, put in the caller's language when answered.
    Message {
        key: String,
        args: Vec<(&'static str, FluentValue<'static>)>,
    },
    /// Text that is data, shown as it is: the place in a file that could not be read, as the
    /// reader put it (a line number, a JSON path, the offending text).
    Data(String),
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    detail: Detail,
    pub field: Option<String>,
    /// Why `field` was refused: a stable word (`out_of_range`, `not_a_member`, …).
    pub reason: Option<String>,
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
    /// Why `field` was refused, stable and machine-readable (`out_of_range`, `required`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ApiError {
    /// A problem whose detail is its catalog's `problem-<code>-detail`.
    pub fn new(code: Code) -> Self {
        Self {
            code,
            detail: Detail::Message {
                key: format!("{}-detail", code.key()),
                args: Vec::new(),
            },
            field: None,
            reason: None,
        }
    }

    /// Another catalog message as the detail (the same problem in another situation).
    pub fn message(mut self, key: impl Into<String>) -> Self {
        self.detail = Detail::Message {
            key: key.into(),
            args: Vec::new(),
        };
        self
    }

    /// An argument of the detail's message.
    pub fn arg(mut self, name: &'static str, value: impl Into<FluentValue<'static>>) -> Self {
        if let Detail::Message { args, .. } = &mut self.detail {
            args.push((name, value.into()));
        }
        self
    }

    /// A detail that is data (see [`Detail::Data`]), not a sentence of ours.
    pub fn data(mut self, text: impl Into<String>) -> Self {
        self.detail = Detail::Data(text.into());
        self
    }

    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn unauthorized() -> Self {
        Self::new(Code::AuthRequired)
    }

    /// The caller's role or token does not allow `what`, a catalog key naming the action
    /// (`permission-…`).
    pub fn forbidden(what: &'static str) -> Self {
        let what = i18n::text(what);
        Self::new(Code::AuthForbidden).arg("what", what)
    }

    /// No `entity` (`project`, `time log`, …) with this id in the caller's organisation.
    pub fn not_found(entity: &str) -> Self {
        Self::new(Code::NotFound).arg("entity", entity_name(entity))
    }

    /// `field` was refused for `reason`, a stable word with a catalog message `reason-<reason>`.
    pub fn invalid(field: &str, reason: &str) -> Self {
        let mut e = Self::new(Code::InvalidField)
            .message(format!("reason-{reason}"))
            .arg("field", field.to_string())
            .field(field);
        e.reason = Some(reason.to_string());
        e
    }

    /// The title, in the caller's language.
    pub fn title(&self) -> String {
        i18n::text(&self.code.key())
    }

    /// The detail, in the caller's language.
    pub fn detail(&self) -> String {
        match &self.detail {
            Detail::Message { key, args } => i18n::text_args(key, args),
            Detail::Data(text) => text.clone(),
        }
    }

    /// The detail as a page says it: a field is named by its label in the viewer's language
    /// (`field-<name>`, `_` read as `-`) where the catalog has one, since a page's reader never
    /// sees the API's field names.
    pub fn page_detail(&self) -> String {
        let Detail::Message { key, args } = &self.detail else {
            return self.detail();
        };
        let args: Vec<(&'static str, FluentValue<'static>)> = args
            .iter()
            .map(|(k, v)| match v {
                FluentValue::String(name) if *k == "field" => {
                    let label = |name: &str| {
                        i18n::try_text(&format!("field-{name}")).or_else(|| {
                            i18n::try_text(&format!("field-{}", name.replace('_', "-")))
                        })
                    };
                    // An item of a list (`drawing[2]`) is named by the list's label and its
                    // place counted from one.
                    let item = name.strip_suffix(']').and_then(|n| n.split_once('['));
                    let label = match item {
                        Some((list, i)) => i
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| label(list).map(|l| format!("{l} #{}", i + 1))),
                        None => label(name),
                    };
                    (*k, label.map_or_else(|| v.clone(), FluentValue::from))
                }
                _ => (*k, v.clone()),
            })
            .collect();
        i18n::text_args(key, &args)
    }
}

/// An entity's name in the caller's language (`entity-time_log`).
fn entity_name(entity: &str) -> String {
    i18n::text(&format!("entity-{}", entity.replace(' ', "_")))
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => ApiError::not_found(entity),
            StoreError::Stale { entity, current } => ApiError::new(Code::StaleVersion)
                .arg("entity", entity_name(entity))
                .arg("current", current),
            StoreError::Duplicate { entity, field } => ApiError::new(Code::Duplicate)
                .arg("entity", entity_name(entity))
                .arg("field", field)
                .field(field),
            StoreError::Invalid(f) => ApiError::invalid(f.field, f.reason),
            StoreError::InvalidValue { field, reason } => ApiError::invalid(&field, reason),
            StoreError::Rule(r) => ApiError::new(Code::Rule(r)),
            StoreError::Database(DbError::Unscoped(_) | DbError::NoRow(_)) => {
                tracing::error!(error = %e, "a bug in a store query");
                ApiError::new(Code::Internal)
            }
            StoreError::Database(_) => {
                tracing::error!(error = %e, "store failure");
                ApiError::new(Code::StoreUnavailable)
            }
        }
    }
}

impl From<EdlError> for ApiError {
    fn from(e: EdlError) -> Self {
        ApiError::new(Code::BadEdl).data(e.to_string())
    }
}

impl From<OtioError> for ApiError {
    fn from(e: OtioError) -> Self {
        ApiError::new(Code::BadOtio).data(e.to_string())
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        ApiError::new(Code::BadExport).data(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Problem {
            kind: format!("https://m-station.dev/problems/{}", self.code.as_str()),
            title: self.title(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code.as_str().to_string(),
            field: self.field,
            reason: self.reason,
        };
        let mut resp = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The answers axum writes itself come as plain text or empty: a path segment that does not
/// parse (`/api/v1/projects/not-an-id`) and a method an address does not take. This turns them
/// into problem+json in the caller's language like every other answer (keeping `Allow`).
pub async fn bare_errors_as_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let resp = next.run(req).await;
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain {
        return resp;
    }
    let code = match resp.status() {
        StatusCode::METHOD_NOT_ALLOWED => Code::RequestMethodNotAllowed,
        // A page form (or any body axum reads itself) past the limit, declared or chunked.
        StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::new(Code::RequestTooLarge)
                .arg("limit", crate::MAX_JSON_BODY)
                .into_response();
        }
        StatusCode::BAD_REQUEST => {
            let (parts, body) = resp.into_parts();
            // axum's rejection repeats the offending segment; one too long to read back is a
            // path that does not parse all the same.
            let Ok(text) = axum::body::to_bytes(body, 64 * 1024).await else {
                return ApiError::new(Code::RequestInvalidPath).into_response();
            };
            if !text.starts_with(b"Invalid URL") {
                return Response::from_parts(parts, axum::body::Body::from(text));
            }
            return ApiError::new(Code::RequestInvalidPath).into_response();
        }
        _ => return resp,
    };
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut out = ApiError::new(code).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

pub async fn not_found() -> ApiError {
    ApiError::new(Code::RouteNotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Code::all()` is written by hand; this holds it to the enum, so the catalog tests over it
    /// see every code.
    #[test]
    fn every_code_is_listed() {
        let src = include_str!("error.rs");
        let body = &src[src.find("pub enum Code {").unwrap()..];
        let body = &body[..body.find("\n}").unwrap()];
        let variants: Vec<&str> = body
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.starts_with("//") && !l.is_empty())
            .map(|l| l.split(['(', ',']).next().unwrap())
            .collect();
        let all: Vec<String> = Code::all()
            .iter()
            .map(|c| format!("{c:?}").split('(').next().unwrap().to_string())
            .collect();
        for v in &variants {
            assert!(
                all.iter().any(|a| a == v),
                "Code::{v} is missing from Code::all()"
            );
        }
        assert!(variants.len() > 30, "read the enum: {variants:?}");
    }
}
