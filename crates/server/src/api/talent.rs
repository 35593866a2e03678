//! The talent data center over HTTP: the crew-role taxonomy, the directory of profiles (the
//! platform's and the organisation's own), and the organisation's profiles with their credits.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mstation_core::Permission;
use mstation_core::talent::{DEPARTMENTS, LANGUAGES};
use mstation_store::Page;
use mstation_store::talent::calendar::{Calendar, Entry, NewEntry};
use mstation_store::talent::index::{Ask, TalentFacets};
use mstation_store::talent::matching::{Matches, Want};
use mstation_store::talent::showreel::{Showreel, ShowreelInput};
use mstation_store::talent::training::{NewTraining, Training};
use mstation_store::talent::{
    Credit, CrewCredits, Find, NewCredit, Profile, ProfileInput, WorkCredit,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::State;
use crate::api::Items;
use crate::auth::Member;
use crate::error::{ApiError, ApiResult, Code, Problem};
use crate::extract::{Body, IfMatch, Q, etag, list_query};
use crate::i18n::{Lang, text_in};

pub fn router() -> OpenApiRouter<State> {
    OpenApiRouter::new()
        .routes(routes!(taxonomy))
        .routes(routes!(find_profiles, create_profile))
        .routes(routes!(match_people))
        .routes(routes!(search_talent))
        .routes(routes!(get_profile, update_profile, delete_profile))
        .routes(routes!(add_credit))
        .routes(routes!(set_showreel, remove_showreel))
        .routes(routes!(showreel_video))
        .routes(routes!(showreel_poster))
        .routes(routes!(delete_credit))
        .routes(routes!(project_credits, credit_crew))
        .routes(routes!(withdraw_work_credit))
        .routes(routes!(school_training, issue_training))
        .routes(routes!(withdraw_training))
        .routes(routes!(calendar, add_entry))
        .routes(routes!(confirm_entry))
        .routes(routes!(delete_entry))
}

/// A name in each of the platform's languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct Names {
    pub en: String,
    pub zh: String,
}

fn names(key: &str) -> Names {
    Names {
        en: text_in(Lang::En, key),
        zh: text_in(Lang::ZhCn, key),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyRole {
    pub key: &'static str,
    pub name: Names,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyDepartment {
    pub key: &'static str,
    pub name: Names,
    pub roles: Vec<TaxonomyRole>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyLanguage {
    /// ISO 639.
    pub code: &'static str,
    pub name: Names,
}

/// The words profiles, credits and searches share.
#[derive(Debug, Serialize, ToSchema)]
pub struct Taxonomy {
    pub departments: Vec<TaxonomyDepartment>,
    pub languages: Vec<TaxonomyLanguage>,
}

/// The crew-role taxonomy (departments and their roles) and the languages, with their names.
#[utoipa::path(get, path = "/api/v1/talent/taxonomy", tag = "talent",
    responses((status = 200, body = Taxonomy), (status = 403, body = Problem)))]
async fn taxonomy(m: Member) -> ApiResult<Json<Taxonomy>> {
    m.may(Permission::FindTalent)?;
    Ok(Json(Taxonomy {
        departments: DEPARTMENTS
            .iter()
            .map(|d| TaxonomyDepartment {
                key: d.key,
                name: names(&format!("talent-dept-{}", d.key)),
                roles: d
                    .roles
                    .iter()
                    .map(|r| TaxonomyRole {
                        key: r,
                        name: names(&format!("talent-role-{r}")),
                    })
                    .collect(),
            })
            .collect(),
        languages: LANGUAGES
            .iter()
            .map(|l| TaxonomyLanguage {
                code: l,
                name: names(&format!("talent-lang-{l}")),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindParams {
    /// Words, each of which must be in the name, headline, skills, roles or city.
    pub q: Option<String>,
    /// A department key of the taxonomy.
    pub department: Option<String>,
    /// A crew-role key of the taxonomy.
    pub role: Option<String>,
    /// An ISO 639 code.
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The talent directory: the profiles shown to the platform and the organisation's own,
/// newest first, without anyone's birth date or e-mail address.
#[utoipa::path(get, path = "/api/v1/talent/profiles", tag = "talent", params(FindParams),
    responses((status = 200, body = Page<Profile>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn find_profiles(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<FindParams>,
) -> ApiResult<Json<Page<Profile>>> {
    let q = list_query(p.limit, p.cursor.as_deref(), Some("-created_at"))?;
    let find = Find {
        q: p.q.unwrap_or_default(),
        department: p.department,
        role: p.role,
        language: p.language,
        country: p.country,
    };
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::FindTalent)?)
            .find_profiles(&find, &q)
            .await?,
    ))
}

/// What a hirer looks for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchParams {
    /// A crew-role key of the taxonomy: people of its department are weighed, those with the
    /// role first. Required unless `skills` are given.
    pub role: Option<String>,
    /// Skills and software, separated by commas (`Nuke,Houdini`), at most 20.
    pub skills: Option<String>,
    /// ISO 639 codes, separated by commas.
    pub languages: Option<String>,
    /// ISO 3166-1 alpha-2: where the work is.
    pub country: Option<String>,
    /// The first and last day of the work, `YYYY-MM-DD`, inclusive; at most 400 days.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// The most a day may cost, as a person writes it (`2500`), in `currency`.
    pub max_rate: Option<String>,
    pub currency: Option<String>,
    /// 1 to 50; 10 by default.
    pub limit: Option<u32>,
}

/// Splits a comma-separated list, dropping empty items.
fn listed(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A search of the talent directory.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for, at most 200 characters: words (each must be found; a word also finds
    /// the words it begins), or, with `by=meaning`, a description of the person wanted.
    pub q: Option<String>,
    /// `words` (the default) or `meaning`: ranked by how near each profile's headline, roles,
    /// skills, bio and showreel's note come to `q` in meaning (all-MiniLM-L6-v2), not by its
    /// words.
    pub by: Option<String>,
    /// A department key of the taxonomy.
    pub department: Option<String>,
    /// A crew-role key of the taxonomy.
    pub role: Option<String>,
    /// An ISO 639 code.
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// How many of the best to pass over, at most 10,000.
    pub offset: Option<u32>,
    /// 1 to 100; 20 by default.
    pub limit: Option<u32>,
}

/// One person found, with how well they fit.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalentHit {
    /// As the directory lists it (without credits, birth date or e-mail address).
    pub profile: Profile,
    /// By words: the weight of the words found (where, and how rare); by meaning: the cosine
    /// of the query and the profile, 0.2 to 1.
    pub score: f32,
}

/// What a search of the directory found.
#[derive(Debug, Serialize, ToSchema)]
pub struct TalentSearch {
    /// Best first; without words or meaning, the newest first.
    pub items: Vec<TalentHit>,
    /// How many people were found, over all pages.
    pub total: usize,
    /// Each facet counted over what was found, without its own filter.
    pub facets: TalentFacets,
    /// `words` or `meaning`.
    pub by: String,
    /// By meaning: how many profiles still wait for their vector (new or changed a moment
    /// ago), and so are not yet found by meaning.
    pub waiting: usize,
}

/// Searches the directory through this server's talent index: the platform's profiles and the
/// organisation's own, by words or by meaning, with facets.
pub async fn search_directory(
    state: &State,
    scope: &mstation_core::TenantScope,
    q: &str,
    by_meaning: bool,
    mut ask: Ask,
) -> Result<TalentSearch, ApiError> {
    index_built(state).await?;
    let mut waiting = 0;
    if by_meaning {
        if q.trim().is_empty() {
            return Err(ApiError::invalid("q", "required"));
        }
        let text = q.trim().to_string();
        let s = state.clone();
        let vector = tokio::task::spawn_blocking(move || {
            s.sentence_model().map(|m| m.embed(&[text.as_str()]))
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the sentence model stopped");
            ApiError::new(Code::Internal)
        })?;
        match vector {
            None => return Err(ApiError::new(Code::SemanticSearchOff)),
            Some(Err(e)) => {
                tracing::error!(error = %e, "the sentence model failed");
                return Err(ApiError::new(Code::Internal));
            }
            Some(Ok(mut v)) => ask.meaning = v.pop(),
        }
        waiting = state.talent.waiting(scope.org_id);
    }
    let index = state.talent.clone();
    let org = scope.org_id;
    let found = tokio::task::spawn_blocking(move || index.search(org, &ask))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the talent index's search stopped");
            ApiError::new(Code::Internal)
        })?;
    let ids: Vec<Uuid> = found.hits.iter().map(|h| h.0).collect();
    // Read as they are now, and only those the organisation may still find.
    let profiles = state.store.tenant(scope).listed_profiles(&ids).await?;
    let score: std::collections::HashMap<Uuid, f32> = found.hits.iter().copied().collect();
    Ok(TalentSearch {
        items: profiles
            .into_iter()
            .map(|p| TalentHit {
                score: score.get(&p.id).copied().unwrap_or(0.0),
                profile: p,
            })
            .collect(),
        total: found.total,
        facets: found.facets,
        by: if by_meaning { "meaning" } else { "words" }.to_string(),
        waiting,
    })
}

/// Waits (up to 10 s) for this server's talent index to be built once after its start.
pub async fn index_built(state: &State) -> Result<(), ApiError> {
    let mut ready = state.talent_ready.subscribe();
    match tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ready.wait_for(|built| *built),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        _ => Err(ApiError::new(Code::StoreUnavailable)),
    }
}

/// Reads `by`: words unless `meaning`.
pub fn by_meaning(by: Option<&str>) -> Result<bool, ApiError> {
    match by.map(str::trim).unwrap_or("") {
        "" | "words" => Ok(false),
        "meaning" => Ok(true),
        _ => Err(ApiError::invalid("by", "not_a_search_mode")),
    }
}

/// Searches the talent directory (the platform's profiles and the organisation's own) by words
/// or by meaning, ranked, with facets; without either, the newest first.
#[utoipa::path(get, path = "/api/v1/talent/search", tag = "talent", params(SearchParams),
    responses((status = 200, body = TalentSearch), (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 503, description = "`by=meaning` on a server without the sentence model", body = Problem)))]
async fn search_talent(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<SearchParams>,
) -> ApiResult<Json<TalentSearch>> {
    let scope = m.may(Permission::FindTalent)?;
    let meaning = by_meaning(p.by.as_deref())?;
    let q = p.q.unwrap_or_default();
    let ask = Ask::checked(
        &q,
        p.department.as_deref(),
        p.role.as_deref(),
        p.language.as_deref(),
        p.country.as_deref(),
        p.offset.unwrap_or(0) as usize,
        p.limit.unwrap_or(20) as usize,
    )
    .map_err(mstation_store::StoreError::from)?;
    Ok(Json(
        search_directory(&state, scope, &q, meaning, ask).await?,
    ))
}

/// The people who fit a piece of work best, among the platform's profiles and the
/// organisation's own: ranked by role, skills, languages, place, free days and day rate, each
/// with the reasons for its rank and the points each gave.
#[utoipa::path(get, path = "/api/v1/talent/matches", tag = "talent", params(MatchParams),
    responses((status = 200, body = Matches), (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 503, description = "the server started a moment ago and its talent index is not built yet", body = Problem)))]
async fn match_people(
    AxState(state): AxState<State>,
    m: Member,
    Q(p): Q<MatchParams>,
) -> ApiResult<Json<Matches>> {
    let want = Want {
        role: p.role,
        skills: listed(p.skills.as_deref()),
        languages: listed(p.languages.as_deref()),
        country: p.country,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        max_rate: p.max_rate,
        currency: p.currency,
        limit: p.limit.map(|l| l as usize),
    };
    let scope = m.may(Permission::FindTalent)?;
    want.check()?;
    index_built(&state).await?;
    Ok(Json(
        state
            .store
            .tenant(scope)
            .match_people(&want, &state.talent)
            .await?,
    ))
}

/// Writes a new profile, kept by the organisation.
#[utoipa::path(post, path = "/api/v1/talent/profiles", tag = "talent", request_body = ProfileInput,
    responses((status = 201, body = Profile), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_profile(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .create_profile(input)
        .await?;
    state.index_profiles(&[p.id]).await;
    Ok((StatusCode::CREATED, etag(p.version), Json(p)).into_response())
}

/// A profile with its credits: all of it for the organisation that keeps it; what a hirer may
/// know for others, if it is shown to the platform.
#[utoipa::path(get, path = "/api/v1/talent/profiles/{profile_id}", tag = "talent", params(("profile_id" = Uuid, Path)),
    responses((status = 200, body = Profile), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_profile(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::FindTalent)?)
        .profile(profile_id)
        .await?;
    Ok((etag(p.version), Json(p)).into_response())
}

/// Writes all of one of the organisation's profiles again.
#[utoipa::path(put, path = "/api/v1/talent/profiles/{profile_id}", tag = "talent", request_body = ProfileInput,
    params(("profile_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Profile), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_profile(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    IfMatch(v): IfMatch,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Response> {
    let p = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .update_profile(profile_id, v, input)
        .await?;
    state.index_profiles(&[p.id]).await;
    Ok((etag(p.version), Json(p)).into_response())
}

/// Removes one of the organisation's profiles with its credits.
#[utoipa::path(delete, path = "/api/v1/talent/profiles/{profile_id}", tag = "talent", params(("profile_id" = Uuid, Path)),
    responses((status = 204, description = "Removed with its credits"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_profile(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .delete_profile(profile_id)
        .await?;
    state.index_profiles(&[profile_id]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives one of the organisation's profiles its showreel: a video of the organisation's own
/// media, with what it shows (its words count in the directory's search).
#[utoipa::path(put, path = "/api/v1/talent/profiles/{profile_id}/showreel", tag = "talent", request_body = ShowreelInput,
    params(("profile_id" = Uuid, Path)),
    responses((status = 200, body = Showreel), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_showreel(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    Body(input): Body<ShowreelInput>,
) -> ApiResult<Json<Showreel>> {
    let reel = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .set_showreel(profile_id, &input)
        .await?;
    state.index_profiles(&[profile_id]).await;
    Ok(Json(reel))
}

/// Takes the showreel off one of the organisation's profiles.
#[utoipa::path(delete, path = "/api/v1/talent/profiles/{profile_id}/showreel", tag = "talent",
    params(("profile_id" = Uuid, Path)),
    responses((status = 204, description = "No reel now"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_showreel(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .remove_showreel(profile_id)
        .await?;
    state.index_profiles(&[profile_id]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A profile's showreel, to play: its browser proxy (H.264 in MP4, seekable with `Range`), for
/// whoever may read the profile; not found until the proxy is made.
#[utoipa::path(get, path = "/api/v1/talent/profiles/{profile_id}/showreel/video", tag = "talent",
    params(("profile_id" = Uuid, Path)),
    responses((status = 200, content_type = "video/mp4", body = Vec<u8>),
        (status = 206, description = "The range asked for"),
        (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No such profile, no reel, or no proxy yet")))]
async fn showreel_video(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    reel_answer(
        &state,
        &m,
        profile_id,
        &headers,
        |f| f.proxy_hash.clone(),
        "video/mp4",
    )
    .await
}

/// What was made of a profile's reel (`pick`: its proxy, its poster) as `kind`, for whoever may
/// read the profile.
async fn reel_answer(
    state: &State,
    m: &Member,
    profile_id: Uuid,
    headers: &axum::http::HeaderMap,
    pick: impl Fn(&mstation_store::media::MediaFile) -> Option<String>,
    kind: &str,
) -> ApiResult<Response> {
    let file = state
        .store
        .tenant(m.may(Permission::FindTalent)?)
        .showreel_file(profile_id)
        .await?;
    crate::api::media::derived_answer(state, &file, headers, pick, kind).await
}

/// A profile's showreel's poster (JPEG), for whoever may read the profile.
#[utoipa::path(get, path = "/api/v1/talent/profiles/{profile_id}/showreel/poster", tag = "talent",
    params(("profile_id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>),
        (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No such profile, no reel, or no poster yet")))]
async fn showreel_poster(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    reel_answer(
        &state,
        &m,
        profile_id,
        &headers,
        |f| f.poster_hash.clone(),
        "image/jpeg",
    )
    .await
}

/// Adds a credit to one of the organisation's profiles (shown as self-declared).
#[utoipa::path(post, path = "/api/v1/talent/profiles/{profile_id}/credits", tag = "talent", request_body = NewCredit,
    params(("profile_id" = Uuid, Path)),
    responses((status = 201, body = Credit), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_credit(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    Body(input): Body<NewCredit>,
) -> ApiResult<(StatusCode, Json<Credit>)> {
    let c = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .add_credit(profile_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Removes a credit from one of the organisation's profiles.
#[utoipa::path(delete, path = "/api/v1/talent/profiles/{profile_id}/credits/{credit_id}", tag = "talent",
    params(("profile_id" = Uuid, Path), ("credit_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_credit(
    AxState(state): AxState<State>,
    m: Member,
    Path((profile_id, credit_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .delete_credit(profile_id, credit_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Credits everyone assigned to a task of the wrapped project with the kinds of task they did
/// and when: each profile linked to them shows it as verified. Those credited before are not
/// again.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/credits", tag = "talent", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = CrewCredits), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn credit_crew(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Json<CrewCredits>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageProduction)?)
            .credit_crew(project_id)
            .await?,
    ))
}

/// Withdraws a verified credit the project gave (a person credited by mistake): no profile
/// shows it again, and crediting the crew again does not give it back. Again: no change.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/credits/{credit_id}", tag = "talent",
    params(("project_id" = Uuid, Path), ("credit_id" = Uuid, Path)),
    responses((status = 200, body = WorkCredit), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn withdraw_work_credit(
    AxState(state): AxState<State>,
    m: Member,
    Path((project_id, credit_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<WorkCredit>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageProduction)?)
            .withdraw_work_credit(project_id, credit_id)
            .await?,
    ))
}

/// The credits the project gave its crew.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/credits", tag = "talent", params(("project_id" = Uuid, Path)),
    responses((status = 200, body = Items<WorkCredit>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn project_credits(
    AxState(state): AxState<State>,
    m: Member,
    Path(project_id): Path<Uuid>,
) -> ApiResult<Json<Items<WorkCredit>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::PlanProduction)?)
            .project_credits(project_id)
            .await?,
    }))
}

/// Records that a member of the school completed a programme there (a degree, a diploma, a
/// certificate, a course, a workshop): every profile linked to them shows it as verified,
/// naming the school. Only an organisation of kind `university` issues them (409
/// `talent.not_a_school` otherwise), only to its members.
#[utoipa::path(post, path = "/api/v1/talent/training", tag = "talent", request_body = NewTraining,
    responses((status = 201, body = Training), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn issue_training(
    AxState(state): AxState<State>,
    m: Member,
    Body(input): Body<NewTraining>,
) -> ApiResult<(StatusCode, Json<Training>)> {
    let t = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .issue_training(&input)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// The training records the school issued, the latest completed first; withdrawn ones are
/// marked.
#[utoipa::path(get, path = "/api/v1/talent/training", tag = "talent",
    responses((status = 200, body = Items<Training>), (status = 403, body = Problem)))]
async fn school_training(
    AxState(state): AxState<State>,
    m: Member,
) -> ApiResult<Json<Items<Training>>> {
    Ok(Json(Items {
        items: state
            .store
            .tenant(m.may(Permission::ManageTalent)?)
            .school_training()
            .await?,
    }))
}

/// Withdraws a training record the school issued (by mistake): no profile shows it again.
/// Again: no change.
#[utoipa::path(delete, path = "/api/v1/talent/training/{training_id}", tag = "talent",
    params(("training_id" = Uuid, Path)),
    responses((status = 200, body = Training), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn withdraw_training(
    AxState(state): AxState<State>,
    m: Member,
    Path(training_id): Path<Uuid>,
) -> ApiResult<Json<Training>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageTalent)?)
            .withdraw_training(training_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    /// `YYYY-MM-DD`; today by default.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive; 89 days after `from` by default, at most 400.
    pub to: Option<String>,
}

/// A profile's availability: every hold (ranked), booking and day off for the organisation
/// that keeps it; for anyone else who finds it, only the runs of days the person is busy.
#[utoipa::path(get, path = "/api/v1/talent/profiles/{profile_id}/calendar", tag = "talent",
    params(("profile_id" = Uuid, Path), CalendarParams),
    responses((status = 200, body = Calendar), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn calendar(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    Q(p): Q<CalendarParams>,
) -> ApiResult<Json<Calendar>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::FindTalent)?)
            .calendar(profile_id, p.from.as_deref(), p.to.as_deref())
            .await?,
    ))
}

/// Pencils, books or keeps free a run of days for one of the organisation's profiles. A
/// booking or a day off may not share a day with another booking or day off.
#[utoipa::path(post, path = "/api/v1/talent/profiles/{profile_id}/calendar", tag = "talent", request_body = NewEntry,
    params(("profile_id" = Uuid, Path)),
    responses((status = 201, body = Entry), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_entry(
    AxState(state): AxState<State>,
    m: Member,
    Path(profile_id): Path<Uuid>,
    Body(input): Body<NewEntry>,
) -> ApiResult<(StatusCode, Json<Entry>)> {
    let e = state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .add_entry(profile_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Confirms a hold into a booking.
#[utoipa::path(post, path = "/api/v1/talent/profiles/{profile_id}/calendar/{entry_id}/confirm", tag = "talent",
    params(("profile_id" = Uuid, Path), ("entry_id" = Uuid, Path)),
    responses((status = 200, body = Entry), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn confirm_entry(
    AxState(state): AxState<State>,
    m: Member,
    Path((profile_id, entry_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Entry>> {
    Ok(Json(
        state
            .store
            .tenant(m.may(Permission::ManageTalent)?)
            .confirm_entry(profile_id, entry_id)
            .await?,
    ))
}

/// Removes a run of days from the calendar.
#[utoipa::path(delete, path = "/api/v1/talent/profiles/{profile_id}/calendar/{entry_id}", tag = "talent",
    params(("profile_id" = Uuid, Path), ("entry_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_entry(
    AxState(state): AxState<State>,
    m: Member,
    Path((profile_id, entry_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(m.may(Permission::ManageTalent)?)
        .delete_entry(profile_id, entry_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
