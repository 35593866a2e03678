//! Request decoding that never panics and always explains itself: JSON bodies, query strings,
//! `If-Match`, `Idempotency-Key`, and the list parameters every list shares.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mstation_core::TenantScope;
use mstation_core::page::{self, Cursor};
use mstation_store::ListQuery;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::State;
use crate::error::{ApiError, ApiResult, Code};

/// A JSON body. Wrong content type, bad syntax, wrong types, unknown fields and oversized bodies
/// each get their own 4xx problem.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(r) => Err(json_rejection(r)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(Code::RequestContentType),
        JsonRejection::JsonSyntaxError(e) => {
            let text = inner_text(&e);
            match position(&text) {
                Some((_, line, column)) => ApiError::new(Code::RequestMalformedJson)
                    .message("problem-request-malformed_json-at")
                    .arg("line", line)
                    .arg("column", column),
                None => ApiError::new(Code::RequestMalformedJson),
            }
        }
        JsonRejection::JsonDataError(e) => decoding(Code::RequestInvalidBody, &inner_text(&e)),
        JsonRejection::BytesRejection(_) => too_large(crate::MAX_EDIT_BODY),
        _ => ApiError::new(Code::RequestUnreadable),
    }
}

/// What a rejection wraps, as serde put it (`path: message at line L column C`), without
/// axum's preamble.
fn inner_text(e: &dyn std::error::Error) -> String {
    e.source().map_or_else(|| e.to_string(), |s| s.to_string())
}

/// Splits serde_json's ` at line L column C` off a message.
fn position(text: &str) -> Option<(&str, u64, u64)> {
    let (msg, at) = text.rsplit_once(" at line ")?;
    let (line, column) = at.split_once(" column ")?;
    Some((msg, line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// The refusal of a value serde could not decode, from its error (`path: message`): the field
/// (a JSON path or a query parameter) and why, as a stable reason with a catalog sentence.
/// serde's errors are not typed beyond their text; their shapes ("missing field …",
/// "invalid type: …") are serde's own and stable.
fn decoding(code: Code, text: &str) -> ApiError {
    let text = position(text).map_or(text, |(msg, _, _)| msg);
    let (path, msg) = match text.split_once(": ") {
        Some((path, msg)) if !path.is_empty() && !path.contains(' ') => (Some(path), msg),
        _ => (None, text),
    };
    let named = |prefix: &str| {
        let name = msg.strip_prefix(prefix)?.split('`').next()?;
        Some(match path {
            Some(p) if p != name && !p.ends_with(&format!(".{name}")) => format!("{p}.{name}"),
            Some(p) => p.to_string(),
            None => name.to_string(),
        })
    };
    let refused = if let Some(f) = named("missing field `") {
        Some(ApiError::invalid(&f, "missing"))
    } else if let Some(f) = named("unknown field `") {
        Some(ApiError::invalid(&f, "unknown_field"))
    } else if let Some(f) = named("duplicate field `") {
        Some(ApiError::invalid(&f, "duplicate_field"))
    } else {
        path.map(|f| {
            if msg.starts_with("invalid type:") {
                ApiError::invalid(f, "wrong_type")
            } else if msg.starts_with("unknown variant `") || msg.starts_with("invalid value:") {
                ApiError::invalid(f, "unknown_value")
            } else if msg.starts_with("invalid length ") {
                ApiError::invalid(f, "wrong_length")
            } else {
                ApiError::invalid(f, "invalid_value")
            }
        })
    };
    match refused {
        Some(mut e) => {
            e.code = code;
            e
        }
        None => ApiError::new(code),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(Code::RequestTooLarge).arg("limit", limit)
}

/// A query parameter whose value is not one of `allowed` (listed as the API spells them).
pub fn bad_param(param: &'static str, allowed: &'static str) -> ApiError {
    ApiError::new(Code::RequestInvalidQuery)
        .message("problem-request-invalid_query-one_of")
        .arg("param", param)
        .arg("allowed", allowed)
}

/// The `limit` of a list: 1 to `MAX_LIMIT`, `DEFAULT_LIMIT` when absent.
pub fn page_limit(requested: Option<u32>) -> ApiResult<u32> {
    page::limit(requested).ok_or_else(|| {
        ApiError::new(Code::RequestInvalidQuery)
            .message("problem-request-invalid_query-limit")
            .arg("param", "limit")
            .arg("max", page::MAX_LIMIT)
    })
}

/// A query parameter that takes a user id or `me`.
pub fn bad_person(param: &'static str) -> ApiError {
    ApiError::new(Code::RequestInvalidQuery)
        .message("problem-request-invalid_query-person")
        .arg("param", param)
}

/// A `sort` that is not one of `allowed` (each may be preceded by `-` for the reverse order).
pub fn bad_sort(allowed: &'static str) -> ApiError {
    ApiError::new(Code::RequestInvalidSort).arg("allowed", allowed)
}

/// A query string that could not be decoded. The detail names the parameter; `field` and
/// `reason` stay for the body's fields and the filters (a 422), as they always have.
pub fn bad_query(e: &QueryRejection) -> ApiError {
    let mut e = decoding(Code::RequestInvalidQuery, &inner_text(e));
    e.field = None;
    e.reason = None;
    e
}

/// A query string, decoded strictly (unknown parameters are refused, so typos are noticed).
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Q(v)),
            Err(e) => Err(bad_query(&e)),
        }
    }
}

/// `If-Match: "7"` (or `W/"7"`, or a bare 7): the version the caller last saw.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let s = v.to_str().unwrap_or("").trim();
        if s == "*" {
            return Ok(IfMatch(None));
        }
        let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
        s.parse::<i64>()
            .map(|n| IfMatch(Some(n)))
            .map_err(|_| ApiError::new(Code::RequestInvalidIfMatch))
    }
}

/// The ETag of a versioned entity.
pub fn etag(version: i64) -> [(axum::http::HeaderName, String); 1] {
    [(axum::http::header::ETAG, format!("\"{version}\""))]
}

/// `Idempotency-Key`: 1 to 255 visible ASCII characters; kept with the method and path it was
/// sent to, so the same key on another endpoint is another request.
pub struct IdempotencyKey(pub Option<String>, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let target = format!("{} {}", parts.method, parts.uri.path());
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None, target));
        };
        match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()) => {
                Ok(IdempotencyKey(Some(s.to_string()), target))
            }
            _ => Err(ApiError::new(Code::RequestInvalidIdempotencyKey)),
        }
    }
}

/// Runs a creating request at most once per idempotency key: a retry with the same key and the
/// same body gets the first answer; the same key with another body is refused.
pub async fn idempotent<I, F, Fut>(
    state: &State,
    scope: &TenantScope,
    key: IdempotencyKey,
    input: I,
    run: F,
) -> Response
where
    I: Serialize,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, serde_json::Value)>>,
{
    let IdempotencyKey(key, target) = key;
    let Some(key) = key else {
        return match run(input).await {
            Ok((status, body)) => (status, axum::Json(body)).into_response(),
            Err(e) => e.into_response(),
        };
    };
    let hash = {
        let mut h = Sha256::new();
        h.update(target.as_bytes());
        h.update(b"\n");
        h.update(serde_json::to_vec(&input).unwrap_or_default());
        let d = h.finalize();
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    use mstation_store::idempotency::Idem;
    match state.store.tenant(scope).idem_reserve(&key, &hash).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Idem::Mismatch) => ApiError::new(Code::RequestIdempotencyKeyReused).into_response(),
        Ok(Idem::InFlight) => ApiError::new(Code::RequestIdempotencyInFlight).into_response(),
        Ok(Idem::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut r = (status, body).into_response();
            let ct = if status.is_success() {
                "application/json"
            } else {
                "application/problem+json"
            };
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static(ct),
            );
            r.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            r
        }
        Ok(Idem::Reserved { reservation }) => {
            let outcome = run(input).await;
            let (status, text) = match &outcome {
                Ok((s, b)) => (*s, without_secrets(b).to_string()),
                Err(e) => (e.status(), String::new()),
            };
            // Only a success is kept; an error releases the key so that a corrected retry with
            // the same key can run.
            let answer = status
                .is_success()
                .then_some((status.as_u16(), text.as_str()));
            if let Err(e) = state
                .store
                .tenant(scope)
                .idem_finish(&key, reservation, answer)
                .await
            {
                tracing::warn!(error = %e, "could not store the idempotent answer");
            }
            match outcome {
                Ok((status, body)) => (status, axum::Json(body)).into_response(),
                Err(e) => e.into_response(),
            }
        }
    }
}

/// Turns `limit`, `cursor` and `sort` into a checked list query. Lists sort by creation time.
pub fn list_query(
    limit: Option<u32>,
    cursor: Option<&str>,
    sort: Option<&str>,
) -> ApiResult<ListQuery> {
    let (_, dir) =
        page::sort(sort, &["created_at"], "created_at").ok_or_else(|| bad_sort("created_at"))?;
    let after = match cursor {
        None | Some("") => None,
        Some(c) => Some(
            Cursor::decode(c)
                .ok_or_else(|| ApiError::new(Code::RequestInvalidCursor))?
                .id,
        ),
    };
    Ok(ListQuery {
        limit: page_limit(limit)?,
        after,
        descending: dir == page::Direction::Desc,
    })
}

/// Reads one cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').find_map(|kv| {
                let (k, val) = kv.trim().split_once('=')?;
                (k == name).then(|| val.to_string())
            })
        })
}

/// How much of a refused body is read and dropped, so that the client, still sending, receives
/// the 413 instead of a reset connection; a larger body is cut off.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Refuses a body over the limit before any handler runs, whether its length is declared or it
/// comes in chunks (read here up to the limit, then handed on whole). Up to 16 MiB of a refused
/// body is read and dropped first, so the client receives the 413 rather than a broken pipe.
pub async fn refuse_large_bodies(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use futures_util::StreamExt;
    // Media bytes stream to disk with their own limits: tus uploads, and what agents made.
    let path = req.uri().path();
    if path.starts_with("/files")
        || (path.starts_with("/api/v1/agent/") && path.ends_with("/outputs"))
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = declared.is_none() && headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    let limit = crate::body_limit(req.uri().path());
    match declared {
        Some(n) if n > limit as u64 => {
            if n <= DRAIN_LIMIT as u64 {
                let _ = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT).await;
            }
            too_large(limit).into_response()
        }
        None if chunked => {
            // Gathered here, before anyone is signed in: never more than an edit's worth. A
            // larger body (an ingest's end) declares its length.
            let limit = limit.min(crate::MAX_EDIT_BODY);
            let (parts, body) = req.into_parts();
            let mut stream = body.into_data_stream();
            let mut kept = Vec::new();
            let mut seen = 0usize;
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else {
                    return ApiError::new(Code::RequestUnreadable).into_response();
                };
                seen += chunk.len();
                if seen > DRAIN_LIMIT {
                    break;
                }
                if seen <= limit {
                    kept.extend_from_slice(&chunk);
                }
            }
            if seen > limit {
                return too_large(limit).into_response();
            }
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(kept),
            ))
            .await
        }
        _ => next.run(req).await,
    }
}

/// The answer kept for replays, without the one-time secrets it carried (token and webhook
/// secrets, invitation tokens): those are shown once and stored only as hashes. A replay says
/// what was created; a lost secret is replaced by revoking and creating again.
fn without_secrets(body: &serde_json::Value) -> serde_json::Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("secret");
        o.remove("accept_path");
        if o.get("token").is_some_and(|t| t.is_string()) {
            o.remove("token");
        }
    }
    b
}

/// For PATCH bodies: tells a field that is absent (leave as is, `None`) from one that is null
/// (clear it, `Some(None)`). Use with `#[serde(default, deserialize_with = "…")]`.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> (Option<String>, Option<String>) {
        let e = decoding(Code::RequestInvalidBody, text);
        (e.field, e.reason)
    }

    #[test]
    fn serde_errors_name_the_field_and_why() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            refused("name: invalid type: integer `5`, expected a string at line 1 column 9"),
            (some("name"), some("wrong_type"))
        );
        assert_eq!(
            refused("unknown field `colour`, expected `name` or `scopes` at line 1 column 40"),
            (some("colour"), some("unknown_field"))
        );
        assert_eq!(
            refused("updates[0]: missing field `id` at line 1 column 20"),
            (some("updates[0].id"), some("missing"))
        );
        assert_eq!(
            refused("scopes[0]: unknown variant `root`, expected one of `read`, `write`"),
            (some("scopes[0]"), some("unknown_value"))
        );
        assert_eq!(
            refused("limit: invalid digit found in string"),
            (some("limit"), some("invalid_value"))
        );
        assert_eq!(
            refused("invalid type: sequence, expected struct TokenInput at line 1 column 1"),
            (None, None)
        );
        assert_eq!(
            position("EOF while parsing a value at line 3 column 14"),
            Some(("EOF while parsing a value", 3, 14))
        );
    }
}
