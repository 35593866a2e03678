//! The role walk over the pages: every page route, opened or posted by a signed-in member of each
//! role, gets what the table below says. A refusal is a 403 drawn inside the page frame (the
//! navigation stays) and a refused form changes nothing; the navigation and the forms a page shows
//! are only those the role may use. The table is checked against the routes the page modules
//! register, so a new page route fails this test until it has a row.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::common::*;
use crate::pages::Browser;
use crate::roles::{
    ADMINS, AUDITORS, BUYERS, EVERYONE, LEDGER_KEEPERS, LEDGER_READERS, LICENCE_USERS, MAKERS,
    ORDER_READERS, PLANNERS, PRODUCERS, REVIEWERS, SELLERS, TALENT_FINDERS, TALENT_KEEPERS,
};
use crate::tenant_isolation::one_of_everything;
use mstation_core::{Role, TokenScope};
use mstation_store::Actor;
use serde_json::{Value, json};
use uuid::Uuid;

use Role::*;

/// The owner role itself: only an owner gives it or takes it away (`Role::may_assign`).
const OWNERS: &[Role] = &[Owner];
/// The productions overview: planners, and those who read the audit log (`Ctx::may_see_overview`).
const OVERVIEW: &[Role] = &[Owner, Admin, Producer, Coordinator, Finance];

/// One row of the table: a page route as registered, who may use it, and for a form what it
/// posts. `{name}` in the route or the form is a fixture; `{role}` the poster's role. A route
/// may have several rows, told apart by what they post or the record they post to (a path
/// parameter's name then says which record).
struct Page {
    method: &'static str,
    route: &'static str,
    who: Result<&'static [Role], &'static str>,
    form: &'static [(&'static str, &'static str)],
}

const fn get(route: &'static str, who: &'static [Role]) -> Page {
    Page {
        method: "GET",
        route,
        who: Ok(who),
        form: &[],
    }
}

const fn post(
    route: &'static str,
    who: &'static [Role],
    form: &'static [(&'static str, &'static str)],
) -> Page {
    Page {
        method: "POST",
        route,
        who: Ok(who),
        form,
    }
}

/// A route this walk leaves to another test, with the reason.
const fn elsewhere(method: &'static str, route: &'static str, why: &'static str) -> Page {
    Page {
        method,
        route,
        who: Err(why),
        form: &[],
    }
}

const EDL: &str =
    "TITLE: ALPHA\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";

/// Who may use each page, in the order the walk takes them: reads, then forms, then the forms
/// that take something away, and signing out last of all.
const PAGES: &[Page] = &[
    // The stylesheet, icons and scripts: anyone's, signed in or not.
    get("/assets/app.css", EVERYONE),
    get("/assets/favicon.svg", EVERYONE),
    get("/favicon.ico", EVERYONE),
    get("/assets/grid.js", EVERYONE),
    get("/assets/import.js", EVERYONE),
    get("/assets/upload.js", EVERYONE),
    get("/assets/tus.js", EVERYONE),
    get("/assets/card.js", EVERYONE),
    get("/assets/player.js", EVERYONE),
    get("/assets/draw.js", EVERYONE),
    get("/assets/cuts.js", EVERYONE),
    get("/assets/session.js", EVERYONE),
    get("/assets/report.js", EVERYONE),
    get("/assets/guest.js", EVERYONE),
    // A signed-in browser is sent on to its home.
    get("/", EVERYONE),
    get("/signin", EVERYONE),
    // An invitation's acceptance form, outside any organisation.
    get("/invite/{token}", EVERYONE),
    // The organisation: its home (artists and producers land elsewhere), members, tokens,
    // the audit log and webhooks.
    get("/app", EVERYONE),
    get("/app/members", EVERYONE),
    get("/app/tokens", EVERYONE),
    get("/app/account", EVERYONE),
    get("/app/account/data.json", EVERYONE),
    // Without the tick: refused before the password is tried.
    post(
        "/app/account/erase",
        EVERYONE,
        &[("password", "not the {role}'s password")],
    ),
    get("/app/audit", AUDITORS),
    get("/app/finance", LEDGER_READERS),
    get("/app/finance/accounts/{account_id}", LEDGER_READERS),
    post(
        "/app/finance/accounts",
        LEDGER_KEEPERS,
        &[
            ("name", "Wallet of the {role}"),
            ("purpose", "wallet"),
            ("currency", "CNY"),
        ],
    ),
    post(
        "/app/finance/transfers",
        LEDGER_KEEPERS,
        &[
            ("from", "{account_id}"),
            ("to", "{bank_id}"),
            ("amount", "1.00"),
            ("description", "From the {role}"),
        ],
    ),
    get("/app/talent", TALENT_FINDERS),
    get("/app/talent/new", TALENT_KEEPERS),
    get("/app/talent/match", TALENT_FINDERS),
    get("/app/talent/profiles/{profile_id}", TALENT_FINDERS),
    get("/app/talent/profiles/{profile_id}/edit", TALENT_KEEPERS),
    get("/app/talent/training", TALENT_KEEPERS),
    post(
        "/app/talent/profiles/{profile_id}/showreel",
        TALENT_KEEPERS,
        &[("media_id", "{media_id}"), ("note", "Reel of the {role}")],
    ),
    post(
        "/app/talent/profiles/{profile_id}/showreel/remove",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/talent/training",
        TALENT_KEEPERS,
        &[
            ("email", "artist@alpha-pictures.example"),
            ("programme", "Course of the {role}"),
            ("kind", "course"),
            ("ends_on", "2026-06-30"),
        ],
    ),
    post(
        "/app/talent/training/{training_id}/withdraw",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/talent",
        TALENT_KEEPERS,
        &[
            ("name", "Talent of the {role}"),
            ("role", "colourist"),
            ("lang-zh", "on"),
            ("lang-en", "on"),
            ("visibility", "private"),
        ],
    ),
    post(
        "/app/talent/profiles/{profile_id}",
        TALENT_KEEPERS,
        &[
            ("name", "Alpha Compositor, by the {role}"),
            ("role", "compositor"),
            ("visibility", "private"),
        ],
    ),
    post(
        "/app/talent/profiles/{profile_id}/calendar",
        TALENT_KEEPERS,
        &[
            ("kind", "off"),
            ("starts_on", "2027-06-01"),
            ("what", "Off, says the {role}"),
        ],
    ),
    post(
        "/app/talent/profiles/{profile_id}/calendar/{entry_id}/confirm",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/talent/profiles/{profile_id}/credits",
        TALENT_KEEPERS,
        &[
            ("title", "Feature of the {role}"),
            ("role", "compositor"),
            ("year", "2023"),
        ],
    ),
    post("/app/projects/{project_id}/credits", PRODUCERS, &[]),
    post(
        "/app/projects/{project_id}/credits/{credit_id}/withdraw",
        PRODUCERS,
        &[],
    ),
    // Work orders: their readers open the pages, producers post, bid, award, deliver and
    // accept. The fixture is A's order awarded to C, so most of A's steps are refused by a
    // rule of the order (never by the role).
    get("/app/work-orders", ORDER_READERS),
    get("/app/work-orders/new", PRODUCERS),
    elsewhere(
        "GET",
        "/app/work-orders/disputes",
        "the platform operator's only: orders pages tests",
    ),
    elsewhere(
        "POST",
        "/app/work-orders/{order_id}/ruling",
        "the platform operator's only: orders pages tests",
    ),
    get("/app/work-orders/{order_id}", ORDER_READERS),
    post(
        "/app/work-orders",
        PRODUCERS,
        &[
            ("project_id", "{project_id}"),
            ("title", "Order of the {role}"),
            ("currency", "CNY"),
            ("budget_min", "100.00"),
            ("budget_max", "200.00"),
            ("due_on", "2027-06-30"),
        ],
    ),
    post(
        "/app/work-orders/{order_id}/publish",
        PRODUCERS,
        &[("audience", "platform")],
    ),
    post(
        "/app/work-orders/{order_id}/bid",
        PRODUCERS,
        &[("price", "10.00"), ("days", "5")],
    ),
    post(
        "/app/work-orders/{order_id}/bids/{bid_id}/withdraw",
        PRODUCERS,
        &[],
    ),
    post(
        "/app/work-orders/{order_id}/award",
        PRODUCERS,
        &[("bid_id", "{bid_id}"), ("price", "3000")],
    ),
    post(
        "/app/work-orders/{order_id}/milestones/{milestone_id}/deliver",
        PRODUCERS,
        &[("note", "From the {role}")],
    ),
    post(
        "/app/work-orders/{order_id}/milestones/{milestone_id}/accept",
        PRODUCERS,
        &[],
    ),
    post(
        "/app/work-orders/{order_id}/milestones/{milestone_id}/changes",
        PRODUCERS,
        &[("note", "Changes, asks the {role}")],
    ),
    post(
        "/app/work-orders/{order_id}/dispute",
        PRODUCERS,
        &[("note", "Disputed by the {role}")],
    ),
    post(
        "/app/work-orders/{order_id}/dispute/withdraw",
        PRODUCERS,
        &[],
    ),
    post("/app/work-orders/{order_id}/cancel", PRODUCERS, &[]),
    post("/app/work-orders/{order_id}/delete", PRODUCERS, &[]),
    post(
        "/app/work-orders/{order_id}/changes",
        PRODUCERS,
        &[("title", "Change of the {role}")],
    ),
    post(
        "/app/work-orders/{order_id}/changes/{change_id}/quote",
        PRODUCERS,
        &[("price", "10.00"), ("days", "5")],
    ),
    post(
        "/app/work-orders/{order_id}/changes/{change_id}/approve",
        PRODUCERS,
        &[("price", "1000")],
    ),
    post(
        "/app/work-orders/{order_id}/changes/{change_id}/close",
        PRODUCERS,
        &[],
    ),
    // The work an award shares: its page for those who read work orders (a vendor's artist on
    // the task too, which this walk of the production's members does not meet); notes by
    // reviewers, versions by makers, artists put on by planners: the production's steps the
    // vendor's to take are refused by a rule of the order.
    get("/app/work-orders/{order_id}/work/{item_id}", ORDER_READERS),
    post(
        "/app/work-orders/{order_id}/work/{item_id}/note",
        REVIEWERS,
        &[("body", "Note of the {role}")],
    ),
    post(
        "/app/work-orders/{order_id}/work/{item_id}/hand-in",
        MAKERS,
        &[],
    ),
    post(
        "/app/work-orders/{order_id}/work/{item_id}/artists",
        PLANNERS,
        &[],
    ),
    get("/app/webhooks", ADMINS),
    // The market: everyone browses; a licence's users download, its buyers buy and refund;
    // sellers list, offer and publish.
    get("/app/market", EVERYONE),
    get("/app/market/store/{on_sale_id}", EVERYONE),
    get("/app/market/licences", LICENCE_USERS),
    get("/app/market/selling", SELLERS),
    get("/app/market/earnings", SELLERS),
    get("/app/market/selling/{listing_id}", SELLERS),
    post(
        "/app/market/checkout",
        BUYERS,
        &[("offer_id", "{on_sale_offer_id}"), ("key", "walk-{role}")],
    ),
    get(
        "/app/market/licences/{licence_id}/certificate",
        LICENCE_USERS,
    ),
    get(
        "/app/market/licences/{licence_id}/certificate.pdf",
        LICENCE_USERS,
    ),
    post(
        "/app/market/licences/{licence_id}/download",
        LICENCE_USERS,
        &[],
    ),
    post("/app/market/licences/{licence_id}/refund", BUYERS, &[]),
    // A member's own cart: those who buy.
    get("/app/market/cart", BUYERS),
    post(
        "/app/market/cart",
        BUYERS,
        &[("offer_id", "{on_sale_offer_id}")],
    ),
    post(
        "/app/market/cart/checkout",
        BUYERS,
        &[("key", "cart-{role}")],
    ),
    post("/app/market/cart/{offer_id}/remove", BUYERS, &[]),
    post(
        "/app/market/selling",
        SELLERS,
        &[
            ("media_file_id", "{media_id}"),
            ("category", "footage"),
            ("title_en", "Plate of the {role}"),
            ("title_zh", "{role} 的素材"),
        ],
    ),
    post(
        "/app/market/selling/{listing_id}/offers",
        SELLERS,
        &[
            ("kind", "rf_standard"),
            ("price", "10.00"),
            ("currency", "CNY"),
        ],
    ),
    post(
        "/app/market/selling/{listing_id}/releases",
        SELLERS,
        &[
            ("kind", "model"),
            ("name", "Model of the {role}"),
            ("media_file_id", "{media_id}"),
        ],
    ),
    post(
        "/app/market/licences/{licence_id}/releases/{release_id}/download",
        LICENCE_USERS,
        &[],
    ),
    post(
        "/app/market/selling/{listing_id}/releases/{release_id}/remove",
        SELLERS,
        &[],
    ),
    post(
        "/app/market/selling/{listing_id}/offers/{offer_id}/withdraw",
        SELLERS,
        &[],
    ),
    post("/app/market/selling/{listing_id}/publish", SELLERS, &[]),
    post("/app/market/selling/{listing_id}/withdraw", SELLERS, &[]),
    // Production.
    get("/app/overview", OVERVIEW),
    get("/app/my-tasks", EVERYONE),
    get("/app/mentions", EVERYONE),
    get("/app/people/{user}/activity", EVERYONE),
    get("/app/projects", EVERYONE),
    get("/app/projects/{project_id}", EVERYONE),
    get("/app/projects/{project_id}/shots", EVERYONE),
    get("/app/projects/{project_id}/assets", EVERYONE),
    get("/app/projects/{project_id}/playlists", EVERYONE),
    // The upload area is for those who make the work; everyone reads the files.
    get("/app/projects/{project_id}/media", EVERYONE),
    get("/app/media/{media_id}/cuts", EVERYONE),
    get("/app/projects/{project_id}/fields", EVERYONE),
    get("/app/projects/{project_id}/activity", EVERYONE),
    get("/app/sequences/{sequence_id}/import", EVERYONE),
    get("/app/shots/{shot_id}", EVERYONE),
    get("/app/assets/{asset_id}", EVERYONE),
    get("/app/versions/{version_id}/review", EVERYONE),
    get("/app/tasks/{task_id}", EVERYONE),
    get("/app/playlists/{playlist_id}", EVERYONE),
    // A review session: followed by everyone; moved, taken over and ended through the API
    // (roles.rs), by its page's script.
    get("/app/review-sessions/{session_id}", EVERYONE),
    get("/app/review-sessions/{session_id}/report", EVERYONE),
    elsewhere(
        "POST",
        "/signin",
        "signing in has no session yet: pages.rs and the identity tests",
    ),
    // A guest's pages of a share link: no account, no role (the share tests).
    elsewhere(
        "GET",
        "/share/{token}",
        "a guest's, with no account: the share tests",
    ),
    elsewhere(
        "POST",
        "/share/{token}",
        "a guest's password: the share tests",
    ),
    elsewhere(
        "GET",
        "/share/{token}/{version_id}",
        "a guest's player: the share tests",
    ),
    elsewhere(
        "POST",
        "/share/{token}/{version_id}/notes",
        "a guest's note: the share tests",
    ),
    elsewhere(
        "GET",
        "/share/{token}/{version_id}/media",
        "a guest's copy: the share tests",
    ),
    // A certificate's public page: no session, its address is the key (the market's tests).
    elsewhere(
        "GET",
        "/licences/verify/{code}",
        "a certificate's public page, for whoever holds its address: the market page tests",
    ),
    elsewhere(
        "GET",
        "/licences/verify/{code}/certificate.pdf",
        "a certificate's public PDF, for whoever holds its address: the market page tests",
    ),
    // A licence's download link: no session, the link is the key (the market's tests).
    elsewhere(
        "GET",
        "/market/downloads/{token}",
        "a licence's download link, for whoever holds it: the market tests",
    ),
    // The market's books are the platform operator's: its finance announces terms and pays out
    // months; every other organisation is refused (the market page tests).
    elsewhere(
        "GET",
        "/app/market/payouts",
        "the platform operator's: the market page tests",
    ),
    elsewhere(
        "POST",
        "/app/market/payouts",
        "the platform operator's: the market page tests",
    ),
    elsewhere(
        "POST",
        "/app/market/payouts/terms",
        "the platform operator's: the market page tests",
    ),
    elsewhere(
        "GET",
        "/app/market/review",
        "the platform operator's: the market page tests",
    ),
    elsewhere(
        "POST",
        "/app/market/review/{listing_id}",
        "the platform operator's: the market page tests",
    ),
    elsewhere(
        "POST",
        "/invite/{token}",
        "accepted by the invitee before they have a session: the identity tests",
    ),
    // A member's own settings and organisations.
    post("/app/language", EVERYONE, &[("locale", "en")]),
    post("/app/switch", EVERYONE, &[("org_id", "{org_id}")]),
    post(
        "/app/tokens",
        EVERYONE,
        &[("name", "walk {role}"), ("scope_read", "on")],
    ),
    // Administration. No page removes a member, lists or revokes invitations, or changes or
    // deletes a webhook: the API does (roles.rs walks it).
    post(
        "/app/members/invite",
        ADMINS,
        &[
            ("email", "invitee.{role}@alpha-pictures.example"),
            ("role", "viewer"),
        ],
    ),
    post("/app/members/{user_id}/role", ADMINS, &[("role", "artist")]),
    // Only an owner gives or takes away the owner role: an admin's try is refused by the store,
    // and the members page says so with a 403.
    post("/app/members/{owner_id}/role", OWNERS, &[("role", "owner")]),
    post(
        "/app/members/invite",
        OWNERS,
        &[
            ("email", "owner.{role}@alpha-pictures.example"),
            ("role", "owner"),
        ],
    ),
    post(
        "/app/webhooks",
        ADMINS,
        &[("url", "http://127.0.0.1:9/walk-{role}"), ("events", "*")],
    ),
    // Production. The plan form first, while the task is at the version the form names.
    post(
        "/app/tasks/{task_id}/plan",
        PLANNERS,
        &[
            ("version", "{task_version}"),
            ("priority", "1"),
            ("was_priority", "0"),
            ("due_date", ""),
            ("was_due_date", ""),
            ("description", ""),
            ("was_description", ""),
        ],
    ),
    post(
        "/app/projects",
        PRODUCERS,
        &[
            ("name", "Walk {role}"),
            ("code", "W-{role}"),
            ("fps", "24"),
            ("width", "1920"),
            ("height", "1080"),
        ],
    ),
    // Custom field definitions are setting a production up.
    post(
        "/app/projects/{project_id}/fields",
        PRODUCERS,
        &[
            ("entity", "shot"),
            ("key", "walk_{role}"),
            ("name", "Walk {role}"),
            ("kind", "text"),
        ],
    ),
    post(
        "/app/fields/{field_id}",
        PRODUCERS,
        &[("version", "1"), ("name", "Bid ({role})")],
    ),
    post(
        "/app/projects/{project_id}/sequences",
        PLANNERS,
        &[("name", "SQ-{role}")],
    ),
    post(
        "/app/projects/{project_id}/views",
        EVERYONE,
        &[("name", "walk {role}"), ("query", "show=due")],
    ),
    // A preview of a cut writes nothing and is anyone's; applying it is planning.
    post(
        "/app/sequences/{sequence_id}/import",
        EVERYONE,
        &[("edl", EDL), ("action", "preview")],
    ),
    post(
        "/app/sequences/{sequence_id}/import",
        PLANNERS,
        &[("edl", EDL), ("action", "apply")],
    ),
    post("/app/sequences/{sequence_id}/add-tasks", PLANNERS, &[]),
    post(
        "/app/tasks/{task_id}/notes",
        REVIEWERS,
        &[("body", "A note from the {role}."), ("version", "1")],
    ),
    post(
        "/app/tasks/{task_id}/versions",
        MAKERS,
        &[("comment", "The {role}'s pass.")],
    ),
    post(
        "/app/tasks/{task_id}/time-logs",
        MAKERS,
        &[("date", "2027-01-05"), ("minutes", "0:30")],
    ),
    post(
        "/app/tasks/{task_id}/assignees",
        PLANNERS,
        &[("user_id", "{member_id}"), ("action", "add")],
    ),
    post(
        "/app/shots/{shot_id}/notes",
        REVIEWERS,
        &[("body", "On the shot, from the {role}.")],
    ),
    post(
        "/app/shots/{shot_id}/fields",
        PLANNERS,
        &[("f.lens", "35mm {role}"), ("was.lens", "")],
    ),
    post(
        "/app/projects/{project_id}/assets",
        PLANNERS,
        &[("name", "Kite {role}"), ("kind", "prop")],
    ),
    post("/app/projects/{project_id}/assets/add-tasks", PLANNERS, &[]),
    post(
        "/app/assets/{asset_id}/cast",
        PLANNERS,
        &[("shot_id", "{shot_id}"), ("count", "2")],
    ),
    post(
        "/app/assets/{asset_id}/notes",
        REVIEWERS,
        &[("body", "On the asset, from the {role}.")],
    ),
    post(
        "/app/versions/{version_id}/notes",
        REVIEWERS,
        &[("body", "On the version, from the {role}.")],
    ),
    post(
        "/app/projects/{project_id}/playlists",
        MAKERS,
        &[("name", "Dailies {role}")],
    ),
    post("/app/media/{media_id}/cuts", MAKERS, &[]),
    post(
        "/app/playlists/{playlist_id}/items",
        MAKERS,
        &[("action", "up"), ("version_id", "{version_id}")],
    ),
    post("/app/playlists/{playlist_id}/sessions", MAKERS, &[]),
    post(
        "/app/playlists/{playlist_id}/share-links",
        PLANNERS,
        &[("recipient", "The {role}'s client"), ("days", "3")],
    ),
    post("/app/guest-notes/{guest_note_id}/publish", PLANNERS, &[]),
    post("/app/notes/{note_id}/publish", PLANNERS, &[]),
    post("/app/share-links/{link_id}/remake", PLANNERS, &[]),
    post("/app/share-links/{link_id}/revoke", PLANNERS, &[]),
    // Taking away: the casting, one's own saved view and one's own token.
    post(
        "/app/assets/{asset_id}/uncast",
        PLANNERS,
        &[("shot_id", "{shot_id}")],
    ),
    post("/app/views/{view_id}/delete", EVERYONE, &[]),
    post(
        "/app/talent/profiles/{profile_id}/credits/{credit_id}/delete",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/talent/profiles/{profile_id}/calendar/{entry_id}/delete",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/talent/profiles/{profile_id}/delete",
        TALENT_KEEPERS,
        &[],
    ),
    post(
        "/app/fields/{field_id}/delete",
        PRODUCERS,
        &[("version", "2")],
    ),
    post("/app/tokens/{token_id}/revoke", EVERYONE, &[]),
    post("/signout", EVERYONE, &[]),
];

/// Where a role that may open a page is sent on (303) rather than shown it: `/` and the sign-in
/// page to a signed-in browser, and the home page to the roles that start elsewhere.
fn sent_on(route: &str, role: Role) -> bool {
    matches!(
        (route, role),
        ("/" | "/signin", _) | ("/app", Artist | Producer)
    )
}

/// Whether a form takes something away: such rows run after all others, signing out last.
fn takes_away(p: &Page) -> u8 {
    match p.route {
        "/signout" => 2,
        r if r.ends_with("/delete") || r.ends_with("/revoke") || r.ends_with("/uncast") => 1,
        _ => 0,
    }
}

/// The links the navigation may show, each shown exactly when its page lets the role open it.
const NAV: [&str; 12] = [
    "/app/overview",
    "/app/projects",
    "/app/my-tasks",
    "/app/mentions",
    "/app/market",
    "/app/talent",
    "/app/work-orders",
    "/app/members",
    "/app/tokens",
    "/app/webhooks",
    "/app/finance",
    "/app/audit",
];

/// Whether `path` (an address, or a route as registered) is an instance of `route`.
fn matches_route(route: &str, path: &str) -> bool {
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

/// Whether the table lets `role` use `path` with `method` (any of the route's rows).
fn may(role: Role, method: &str, path: &str) -> Option<bool> {
    let rows: Vec<&Page> = PAGES
        .iter()
        .filter(|p| p.method == method && matches_route(p.route, path))
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(
        rows.iter()
            .any(|p| p.who.is_ok_and(|who| who.contains(&role))),
    )
}

/// Every page route the server registers, as (method, route): the `.route("…", get(…).post(…))`
/// calls in the files under `src/pages/`. Read at run time rather than with `include_str!`, so
/// that a new file of pages (a new context's) is read too.
fn registered() -> BTreeSet<(String, String)> {
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for other in [".nest(", ".merge(", ".route_service(", ".fallback("] {
            assert!(
                !text.contains(other),
                "{}: pages added with `{other}`, which this walk does not read; teach it",
                file.display()
            );
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let args = &rest[at + ".route(".len()..];
            let mut depth = 1;
            let end = args
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("{}: an unclosed `.route(`", file.display()));
            let call = &args[..end];
            rest = &args[end..];
            assert!(
                call.trim_start().starts_with('"'),
                "{}: a route whose path is not written out: {call}",
                file.display()
            );
            let mut parts = call.splitn(3, '"');
            let route = parts.nth(1).unwrap();
            let handlers = parts.next().unwrap();
            let before = routes.len();
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    !handlers[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if called {
                    routes.insert((method.to_uppercase(), route.to_string()));
                }
            }
            assert!(
                routes.len() > before,
                "{}: no method read for {route}: {call}",
                file.display()
            );
        }
    }
    routes
}

/// The page's top bar, the frame a refusal is drawn in.
fn header(page: &str) -> Option<&str> {
    let at = page.find("<header class=\"top\">")?;
    let end = at + page[at..].find("</header>")?;
    Some(&page[at..end])
}

/// The links of the page's navigation.
fn nav_links(page: &str) -> Vec<String> {
    let Some(top) = header(page) else {
        return Vec::new();
    };
    let Some(at) = top.find("<nav>") else {
        return Vec::new();
    };
    let nav = &top[at..at + top[at..].find("</nav>").unwrap_or(top.len() - at)];
    nav.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The addresses the page's forms post to.
fn form_actions(page: &str) -> Vec<String> {
    page.split("<form")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            if !tag.contains("method=\"post\"") {
                return None;
            }
            let action = tag.split("action=\"").nth(1)?.split('"').next()?;
            Some(
                action
                    .split(['?', '#'])
                    .next()
                    .unwrap_or(action)
                    .to_string(),
            )
        })
        .collect()
}

/// A page drawn for `role`: its navigation shows exactly the links the table lets it open, and
/// every form on it posts where the table lets it post.
fn check_frame(role: Role, what: &str, page: &str) {
    let links = nav_links(page);
    let want: Vec<String> = NAV
        .iter()
        .filter(|href| may(role, "GET", href) == Some(true))
        .map(|h| h.to_string())
        .collect();
    assert_eq!(
        links, want,
        "{what}: the navigation a {role:?} sees is not the pages the table lets them open"
    );
    for action in form_actions(page) {
        match may(role, "POST", &action) {
            Some(true) => {}
            Some(false) => {
                panic!("{what}: a {role:?} is shown a form posting to {action}, which refuses them")
            }
            None => panic!("{what}: a form posts to {action}, which the table does not know"),
        }
    }
}

/// A route with its path parameters' names left out: `/app/tasks/{}`.
fn unnamed(route: &str) -> String {
    route
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// `text` with `{name}` replaced by each of `vars`.
fn fill(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[test]
fn the_table_knows_every_page_route() {
    let known: BTreeSet<(String, String)> = PAGES
        .iter()
        .map(|p| (p.method.to_string(), unnamed(p.route)))
        .collect();
    let registered: BTreeSet<(String, String)> = registered()
        .into_iter()
        .map(|(m, r)| (m, unnamed(&r)))
        .collect();
    assert!(
        registered.len() >= 50,
        "read {} page routes: is the parser still reading src/pages?",
        registered.len()
    );
    let missing: Vec<_> = registered.difference(&known).collect();
    assert!(
        missing.is_empty(),
        "page routes without a row in the page role table (say who may use them): {missing:?}"
    );
    let stale: Vec<_> = known.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "rows of the page role table for routes no page module registers: {stale:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_gets_the_pages_the_table_says_and_nothing_more() {
    on_every_backend(|srv| async move {
        let a = srv.tenant("Alpha Pictures", "alpha-pictures").await;
        let c = srv.tenant("Charlie VFX", "charlie-vfx").await;
        let fixtures = one_of_everything(&srv, &a, &c).await;
        let project_id = &fixtures["project_id"];
        // A custom field of shots, for the shot page's values form.
        let (s, v) = srv
            .post(&a.token, &format!("/api/v1/projects/{project_id}/fields"), json!({"entity": "shot", "key": "lens", "name": "Lens", "kind": "text"}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (_, task) = srv.get(&a.token, &format!("/api/v1/tasks/{}", fixtures["task_id"])).await;
        // What the storefront sells: C's listing and its offer.
        let (_, store) = srv.get(&a.token, "/api/v1/market/store").await;
        let on_sale = store["items"][0]["id"].as_str().unwrap().to_string();
        let on_sale_offer = store["items"][0]["offers"][0]["id"].as_str().unwrap().to_string();

        // A member of each role, signed in; the artist is the one the task is assigned to.
        let all = [TokenScope::Read, TokenScope::Write, TokenScope::Admin];
        let artist: Uuid = fixtures["member_id"].parse().unwrap();
        let (_, artist_token) = srv
            .store()
            .platform()
            .create_token_for(&Actor::system(), a.org.id, artist, "walk", &all, None)
            .await
            .unwrap();
        let mut members: Vec<(Role, String, String)> = vec![(Owner, a.owner.email.clone(), a.token.clone())];
        // Who each role is: a refused form must leave no change of theirs (the platform's own
        // work, such as a job ending, goes on meanwhile).
        let mut who: HashMap<Role, Uuid> = HashMap::from([(Owner, a.owner.id), (Artist, artist)]);
        for role in Role::ALL.into_iter().filter(|r| *r != Owner) {
            if role == Artist {
                members.push((Artist, "artist@alpha-pictures.example".into(), artist_token.clone()));
                continue;
            }
            let email = format!("{}.pages@alpha-pictures.example", role.as_str());
            let (user, token) = srv.member(&a, &email, role, &all).await;
            who.insert(role, user.id);
            members.push((role, email, token));
        }
        let mut browsers: Vec<(Role, Browser)> = Vec::new();
        let mut vars: HashMap<Role, HashMap<String, String>> = HashMap::new();
        for (role, email, token) in &members {
            // What each member takes away at the end is their own: a token and a saved view.
            let (s, tok) = srv.post(token, "/api/v1/tokens", json!({"name": "to revoke", "scopes": ["read"]})).await;
            assert_eq!(s, 201, "{tok}");
            let (s, view) = srv
                .post(token, &format!("/api/v1/projects/{project_id}/views"), json!({"grid": "shots", "name": format!("own {}", role.as_str()), "query": "show=due"}))
                .await;
            assert_eq!(s, 201, "{view}");
            let mut v: HashMap<String, String> = fixtures.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            v.insert("role".into(), role.as_str().into());
            v.insert("org_id".into(), a.org.id.to_string());
            v.insert("owner_id".into(), a.owner.id.to_string());
            v.insert("user".into(), artist.to_string());
            v.insert("token".into(), "msi_not-an-invitation".into());
            v.insert("task_version".into(), task["version"].to_string());
            v.insert("on_sale_id".into(), on_sale.clone());
            v.insert("on_sale_offer_id".into(), on_sale_offer.clone());
            v.insert("token_id".into(), tok["token"]["id"].as_str().unwrap().into());
            v.insert("view_id".into(), view["id"].as_str().unwrap().into());
            vars.insert(*role, v);
            browsers.push((*role, Browser::sign_in(&srv, email, "correct horse battery").await));
        }

        let mut pages: Vec<&Page> = PAGES.iter().collect();
        pages.sort_by_key(|p| takes_away(p));
        let (mut refused, mut let_through, mut skipped) = (0, 0, 0);
        for page in pages {
            let Ok(allowed) = page.who else {
                skipped += 1;
                continue;
            };
            // Refusals first: they must change nothing the allowed posts then find.
            let (no, yes): (Vec<_>, Vec<_>) = browsers.iter().partition(|(r, _)| !allowed.contains(r));
            for (role, browser) in no.into_iter().chain(yes) {
                let role = *role;
                let vars = &vars[&role];
                let path = fill(page.route, vars);
                assert!(!path.contains('{'), "{}: a path parameter without a fixture", page.route);
                let what = format!("{} {} as {role:?}", page.method, page.route);
                let lets = allowed.contains(&role);
                let theirs = format!("/api/v1/audit?limit=1&actor_id={}", who[&role]);
                let last_change = if lets { Value::Null } else { srv.get(&a.token, &theirs).await.1["items"][0]["id"].clone() };
                let (status, body) = if page.method == "GET" {
                    browser.get(&path).await
                } else {
                    let form: Vec<(String, String)> = page.form.iter().map(|(k, v)| (k.to_string(), fill(v, vars))).collect();
                    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    browser.post(&path, &form).await
                };
                assert!(status < 500, "{what}: {status} {body}");
                if lets {
                    assert_ne!(status, 403, "{what}: refused, but the table lets them: {body}");
                    if page.method == "GET" {
                        let want = if sent_on(page.route, role) { 303 } else { 200 };
                        assert_eq!(status, want, "{what}: {body}");
                        if path.starts_with("/app") && status == 200 && !path.ends_with(".pdf") && !path.ends_with(".json") {
                            assert!(header(&body).is_some(), "{what}: a page without its frame: {body}");
                        }
                    }
                    let_through += 1;
                } else {
                    assert_eq!(status, 403, "{what}: the table refuses them: {body}");
                    // Inside the frame: the refusal's card, or the form's page saying why (a rule
                    // the store holds, such as who gives the owner role).
                    let said = body.contains("data-testid=\"refused\"") || body.contains("class=\"flash error\"");
                    assert!(header(&body).is_some() && said, "{what}: refused outside the page frame: {body}");
                    let now = srv.get(&a.token, &theirs).await.1["items"][0]["id"].clone();
                    assert_eq!(now, last_change, "{what}: a refused form changed something");
                    refused += 1;
                }
                if header(&body).is_some() {
                    check_frame(role, &what, &body);
                }
            }
        }
        assert!(refused > 100 && let_through > 380 && skipped == 17, "refused {refused}, let through {let_through}, skipped {skipped}");

        // Every browser signed out at the end, and the planners' and admins' posts landed.
        for (role, browser) in &browsers {
            assert_eq!(browser.get("/app/projects").await.0, 303, "{role:?} is signed out");
        }
        let (_, t) = srv.get(&a.token, &format!("/api/v1/tasks/{}", fixtures["task_id"])).await;
        assert_eq!(t["priority"], 1, "the plan form's change landed: {t}");
        let (_, invitations) = srv.get(&a.token, "/api/v1/invitations").await;
        assert_eq!(invitations["total"], 4, "the fixture's, the admins' two and the owner's owner, not the admin's: {invitations}");
        let (_, owner) = srv.get(&a.token, &format!("/api/v1/members/{}", a.owner.id)).await;
        assert_eq!(owner["role"], "owner", "{owner}");
        let (_, hooks) = srv.get(&a.token, "/api/v1/webhooks").await;
        assert_eq!(hooks["total"], 3, "the fixture's webhook and the admins' two: {hooks}");
        let (_, projects) = srv.get(&a.token, "/api/v1/projects").await;
        assert_eq!(projects["total"], 4, "the fixture's project and the producers' three: {projects}");
        let (_, views) = srv.get(&a.token, &format!("/api/v1/projects/{project_id}/views")).await;
        assert!(
            !views.to_string().contains("own owner"),
            "the owner's own view was deleted: {views}"
        );
    })
    .await;
}
