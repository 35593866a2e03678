//! The demo studio: `mstation serve --demo` fills an empty platform with a living production, so
//! a newcomer sees a film in progress in the first minute. Several organisations share the
//! platform; the feature "The Long Night" has twelve sequences of about forty shots, each
//! sequence conformed from a generated CMX 3600 EDL exactly as an editor's list would be, six
//! pipeline steps per shot in varied states, people assigned, and notes with status changes; the
//! film's characters, props and environments cast into the shots they appear in, with their own
//! tasks; versions handed in on the work in review or done, and time logged on the work under way.
//!
//! Everything goes through the store's ordinary writes (audit log and events included), and the
//! same seed gives the same studio every time.

use futures_util::{StreamExt, TryStreamExt, stream};
use mstation_core::tracking::edl;
use mstation_core::tracking::export::{Export, ExportShot};
use mstation_core::tracking::timecode::Rate;
use mstation_core::{OrgKind, Role, TenantScope};
use mstation_store::identity::{NewOrg, NewUser};
use mstation_store::tracking::NewProject;
use mstation_store::tracking::assets::AssetKind;
use mstation_store::tracking::tasks::{NewTask, TaskChanges};
use mstation_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Every demo account signs in with this password.
pub const PASSWORD: &str = "m-station-demo";

const STUDIO_SLUG: &str = "jade-dragon";

/// (e-mail, name, role, pipeline step they work on)
/// The studio's head and owner: (e-mail, name).
const HEAD: (&str, &str) = ("huang.jun@jadedragon.demo", "Huang Jun");

const CREW: [(&str, &str, Role, &str); 11] = [
    ("chen.jing@jadedragon.demo", "Chen Jing", Role::Producer, ""),
    (
        "sophie.martin@jadedragon.demo",
        "Sophie Martin",
        Role::Coordinator,
        "",
    ),
    ("wang.lei@jadedragon.demo", "Wang Lei", Role::Supervisor, ""),
    ("li.na@jadedragon.demo", "Li Na", Role::Artist, "layout"),
    (
        "zhang.wei@jadedragon.demo",
        "Zhang Wei",
        Role::Artist,
        "anim",
    ),
    (
        "priya.raman@jadedragon.demo",
        "Priya Raman",
        Role::Artist,
        "anim",
    ),
    ("liu.yang@jadedragon.demo", "Liu Yang", Role::Artist, "fx"),
    (
        "marco.rossi@jadedragon.demo",
        "Marco Rossi",
        Role::Artist,
        "light",
    ),
    ("zhao.min@jadedragon.demo", "Zhao Min", Role::Artist, "comp"),
    (
        "emma.clarke@jadedragon.demo",
        "Emma Clarke",
        Role::Artist,
        "comp",
    ),
    ("sun.hao@jadedragon.demo", "Sun Hao", Role::Artist, "grade"),
];

const SEQUENCES: [(&str, &str); 12] = [
    ("SQ010", "Opening: the harbour at dusk"),
    ("SQ020", "The tea house"),
    ("SQ030", "Rooftop chase"),
    ("SQ040", "Night market"),
    ("SQ050", "The archive"),
    ("SQ060", "Flooded tunnel"),
    ("SQ070", "Interrogation"),
    ("SQ080", "Lantern festival"),
    ("SQ090", "Train to Suzhou"),
    ("SQ100", "The warehouse fire"),
    ("SQ110", "Dawn on the Bund"),
    ("SQ120", "Epilogue"),
];

const NOTES_WFA: [&str; 4] = [
    "Ready for review: new pass with the timing notes addressed.",
    "Up for review. Motion blur matches the plate now.",
    "Please take a look, the edge work around the hair is done.",
    "New version up; render is the full frame range with handles.",
];

const NOTES_RETAKE: [&str; 4] = [
    "The lantern flicker is too regular, it reads as CG. Break up the rhythm.",
    "Black levels are lifted against the neighbouring shots, match SQ030_0040.",
    "The character's weight shift lands two frames late, see the frame noted.",
    "Smoke sim pops on the frame noted, please look at the cache.",
];

/// One of the film's assets: kind, name, description, the sequences it appears in (by index),
/// in how many of their shots out of ten, and how many appear when it is a crowd of them.
type DemoAsset = (
    AssetKind,
    &'static str,
    &'static str,
    &'static [usize],
    u32,
    Option<i64>,
);

const ASSETS: [DemoAsset; 24] = [
    (
        AssetKind::Character,
        "Inspector Shen",
        "Harbour police inspector, our lead",
        &[0, 1, 2, 4, 6, 7, 8, 9, 10, 11],
        7,
        None,
    ),
    (
        AssetKind::Character,
        "Mei Lin",
        "Night-club singer who saw too much",
        &[1, 3, 7, 8, 10, 11],
        6,
        None,
    ),
    (
        AssetKind::Character,
        "Old Wu",
        "Tea-house owner and informant",
        &[1, 6],
        5,
        None,
    ),
    (
        AssetKind::Character,
        "The Collector",
        "The antagonist; never seen in full light",
        &[4, 5, 9],
        4,
        None,
    ),
    (
        AssetKind::Character,
        "Sergeant Gao",
        "Shen's partner",
        &[0, 2, 6, 9],
        5,
        None,
    ),
    (
        AssetKind::Character,
        "Ah Fu",
        "Street kid who runs messages",
        &[3, 7],
        4,
        None,
    ),
    (
        AssetKind::Character,
        "Dock Workers",
        "Crowd: harbour labourers",
        &[0, 10],
        3,
        Some(40),
    ),
    (
        AssetKind::Prop,
        "Paper Lantern",
        "Red paper lantern, hero and crowd versions",
        &[3, 7],
        5,
        Some(12),
    ),
    (
        AssetKind::Prop,
        "Webley Revolver",
        "Shen's service revolver",
        &[2, 6, 9],
        3,
        None,
    ),
    (
        AssetKind::Prop,
        "Archive Ledger",
        "The ledger everyone is after",
        &[4, 6, 11],
        4,
        None,
    ),
    (
        AssetKind::Prop,
        "Pocket Watch",
        "Engraved; Mei Lin's father's",
        &[1, 8],
        3,
        None,
    ),
    (
        AssetKind::Prop,
        "Jade Seal",
        "Stolen seal of the Collector",
        &[4, 9, 11],
        3,
        None,
    ),
    (
        AssetKind::Vehicle,
        "Rickshaw",
        "Period rickshaw, drivable rig",
        &[3, 10],
        3,
        Some(3),
    ),
    (
        AssetKind::Vehicle,
        "Steam Train",
        "Shanghai–Suzhou express, 1937",
        &[8],
        8,
        None,
    ),
    (
        AssetKind::Vehicle,
        "Harbour Sampan",
        "Wooden sampan with sail",
        &[0, 5],
        4,
        None,
    ),
    (
        AssetKind::Environment,
        "Harbour at Dusk",
        "Huangpu waterfront, wet cobbles",
        &[0],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "Tea House",
        "Two-storey tea house interior",
        &[1],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "Hongkou Rooftops",
        "Tiled roofs, laundry lines, water tanks",
        &[2],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "Night Market",
        "Stalls, steam, neon signs",
        &[3],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "Municipal Archive",
        "Stacks, ladders and dust",
        &[4, 6],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "Lantern Festival Street",
        "Festival street, thousands of lanterns",
        &[7],
        10,
        None,
    ),
    (
        AssetKind::Environment,
        "The Bund at Dawn",
        "The Bund skyline, morning haze",
        &[10, 11],
        10,
        None,
    ),
    (
        AssetKind::Fx,
        "Rain",
        "Rain layers: heavy, drizzle, splashes",
        &[0, 2, 5],
        6,
        None,
    ),
    (
        AssetKind::Fx,
        "Warehouse Fire",
        "Fire, smoke and embers",
        &[9],
        9,
        None,
    ),
];

/// Which pipeline steps an asset of a kind goes through.
fn asset_steps(kind: AssetKind) -> &'static [&'static str] {
    match kind {
        AssetKind::Character => &["concept", "model", "rig", "tex", "lookdev"],
        AssetKind::Vehicle => &["model", "rig", "tex", "lookdev"],
        AssetKind::Fx => &["concept", "lookdev"],
        _ => &["model", "tex", "lookdev"],
    }
}

/// The shot step whose artists also do an asset step in the demo's small crew.
fn crew_step(asset_step: &str) -> &'static str {
    match asset_step {
        "concept" | "model" => "layout",
        "rig" => "anim",
        _ => "light",
    }
}

const VERSION_COMMENTS: [&str; 6] = [
    "First pass, blocking only.",
    "Timing notes addressed.",
    "Full frame range with handles.",
    "Fixed the edge flicker on the left of frame.",
    "Denoised render, new light rig.",
    "Final, matched to the neighbouring shots.",
];

const TIME_COMMENTS: [&str; 4] = ["", "Blocking", "Notes from dailies", "Render wrangling"];

/// How many writes of the demo's casting, versions and time logs run at once; concurrent
/// writes share a commit on SQLite and overlap on PostgreSQL, which keeps the load quick.
const AT_ONCE: usize = 32;

/// The studio's today (it works in Shanghai): the demo's dates are laid out from it, so its
/// overview, My tasks and time sheets read as a production under way whenever it is loaded.
fn studio_today() -> jiff::civil::Date {
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(zone).date()
}

/// The day `n` days from `today`, `YYYY-MM-DD`.
fn day_from(today: jiff::civil::Date, n: i64) -> String {
    today
        .checked_add(jiff::Span::new().days(n))
        .unwrap_or(today)
        .to_string()
}

/// What was loaded, for the start-up message.
pub struct Loaded {
    pub accounts: Vec<(String, String)>,
    pub shots: usize,
    /// Shot and asset tasks.
    pub tasks: usize,
    pub assets: usize,
    pub asset_tasks: usize,
    pub castings: usize,
    pub versions: usize,
    pub time_logs: usize,
}

/// Loads the demo studio unless it is there already. `None` when it was.
pub async fn load(store: &Store) -> anyhow::Result<Option<Loaded>> {
    if store.platform().org_by_slug(STUDIO_SLUG).await?.is_some() {
        return Ok(None);
    }
    let mut rng = StdRng::seed_from_u64(20_261_123);
    let today = studio_today();
    let sys = Actor::system();
    let mut users = Vec::new();
    for (email, name, _, _) in CREW {
        let u = match store.platform().user_by_email(email).await? {
            Some(u) => u,
            None => {
                store
                    .platform()
                    .create_user(
                        &sys,
                        NewUser {
                            email: email.into(),
                            display_name: name.into(),
                            password: PASSWORD.into(),
                            locale: None,
                            is_operator: false,
                        },
                    )
                    .await?
            }
        };
        users.push(u);
    }
    // The studio belongs to its head, who takes no part in the film's daily work; the producer
    // runs the production as a producer.
    let head = match store.platform().user_by_email(HEAD.0).await? {
        Some(u) => u,
        None => {
            store
                .platform()
                .create_user(
                    &sys,
                    NewUser {
                        email: HEAD.0.into(),
                        display_name: HEAD.1.into(),
                        password: PASSWORD.into(),
                        locale: None,
                        is_operator: false,
                    },
                )
                .await?
        }
    };
    let producer = &users[0];
    let studio = store
        .platform()
        .create_org(
            &sys,
            NewOrg {
                name: "Jade Dragon Pictures".into(),
                slug: Some(STUDIO_SLUG.into()),
                kind: OrgKind::ProductionCompany,
                timezone: Some("Asia/Shanghai".into()),
            },
            head.id,
        )
        .await?;
    for (u, (_, _, role, _)) in users.iter().zip(CREW) {
        store
            .platform()
            .add_member(&sys, studio.id, u.id, role)
            .await?;
    }
    let scope = |user: Uuid, role: Role| TenantScope {
        org_id: studio.id,
        user_id: user,
        role,
        token_scopes: None,
        token_id: None,
    };
    let coordinator = scope(users[1].id, Role::Coordinator);

    // Two more companies on the same platform, each with its own people.
    for (name, slug, kind, email, person) in [
        (
            "Bund Post",
            "bund-post",
            OrgKind::PostHouse,
            "guo.fang@bundpost.demo",
            "Guo Fang",
        ),
        (
            "Lumen VFX",
            "lumen-vfx",
            OrgKind::VfxStudio,
            "tom.weber@lumenvfx.demo",
            "Tom Weber",
        ),
    ] {
        let owner = store
            .platform()
            .create_user(
                &sys,
                NewUser {
                    email: email.into(),
                    display_name: person.into(),
                    password: PASSWORD.into(),
                    locale: None,
                    is_operator: false,
                },
            )
            .await?;
        store
            .platform()
            .create_org(
                &sys,
                NewOrg {
                    name: name.into(),
                    slug: Some(slug.into()),
                    kind,
                    timezone: Some("Asia/Shanghai".into()),
                },
                owner.id,
            )
            .await?;
    }

    let rate = Rate::new(24, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
    let project = store
        .tenant(&scope(producer.id, Role::Producer))
        .create_project(NewProject {
            name: "The Long Night".into(),
            code: "LONGNIGHT".into(),
            rate,
            width: 4096,
            height: 1716,
            start_frame: None,
            head_handles: None,
            tail_handles: None,
            start_date: Some(day_from(today, -96)),
            end_date: Some(day_from(today, 145)),
        })
        .await?;
    let statuses = store.tenant(&coordinator).task_statuses(project.id).await?;
    let status = |short: &str| {
        statuses
            .iter()
            .find(|s| s.short_name == short)
            .map(|s| s.id)
            .expect("the default workflow")
    };
    let (asset_types, types): (Vec<_>, Vec<_>) = store
        .tenant(&coordinator)
        .task_types(project.id)
        .await?
        .into_iter()
        .partition(|t| t.is_for_assets());
    let artists_for = |step: &str| -> Vec<Uuid> {
        users
            .iter()
            .zip(CREW)
            .filter(|(_, c)| c.3 == step)
            .map(|(u, _)| u.id)
            .collect()
    };

    let mut shots_total = 0;
    let mut tasks_total = 0;
    // What the later steps need: each sequence's shots, each task's artist, the work in review,
    // done in the first sequence, and under way.
    let mut sequence_shots: Vec<Vec<Uuid>> = Vec::new();
    let mut artist_of: std::collections::HashMap<Uuid, Uuid> = std::collections::HashMap::new();
    let mut in_review: Vec<Uuid> = Vec::new();
    let mut finished: Vec<Uuid> = Vec::new();
    let mut under_way: Vec<Uuid> = Vec::new();
    let mut reel = 1;
    for (i, (name, description)) in SEQUENCES.iter().enumerate() {
        let seq = store
            .tenant(&coordinator)
            .create_sequence(project.id, name, description)
            .await?;
        // The editor's list: about forty cuts, camera-card reels, source timecode of the day.
        let count = 34 + rng.gen_range(0..13usize);
        let mut record = 86_400; // 01:00:00:00
        let mut cuts = Vec::with_capacity(count);
        for n in 0..count {
            if n % 9 == 0 {
                reel += 1;
            }
            let len = rng.gen_range(30..200);
            let source = rng.gen_range(10..20) * 86_400 + rng.gen_range(0..80_000);
            cuts.push(ExportShot {
                name: format!("{name}_{:04}", (n + 1) * 10),
                clip_name: Some(format!(
                    "A{reel:03}C{:03}_{:06}.MOV",
                    n % 9 + 1,
                    261_000 + i * 100 + n
                )),
                reel: format!("A{reel:03}C{:03}", n % 9 + 1),
                record_in: record,
                record_out: record + len,
                source_in: source,
                source_out: source + len,
                locators: Vec::new(),
            });
            record += len;
        }
        let text = edl::write(&Export {
            title: format!("THE LONG NIGHT {name} v1"),
            rate,
            drop_frame: false,
            shots: cuts,
        })?;
        let parsed = edl::parse(&text, rate)?;
        store
            .tenant(&coordinator)
            .conform_sequence(seq.id, &parsed, true)
            .await?;
        let (shots, _) = store
            .tenant(&coordinator)
            .shots(seq.id, false, None, 1000)
            .await?;
        shots_total += shots.len();
        sequence_shots.push(shots.iter().map(|s| s.id).collect());

        // Six pipeline steps per shot; the earlier sequences are further along.
        let mut new = Vec::with_capacity(shots.len() * types.len());
        for s in &shots {
            for t in &types {
                let pool = artists_for(&t.short_name);
                new.push(NewTask {
                    shot_id: Some(s.id),
                    asset_id: None,
                    task_type_id: t.id,
                    status_id: None,
                    assignees: if pool.is_empty() {
                        Vec::new()
                    } else {
                        vec![pool[rng.gen_range(0..pool.len())]]
                    },
                    priority: rng.gen_range(0..4),
                    estimate_minutes: Some(rng.gen_range(4..40) * 60),
                    start_date: None,
                    // The early sequences were due weeks ago, the last ones months ahead.
                    due_date: Some(day_from(today, -35 + i as i64 * 14 + rng.gen_range(0..10))),
                });
            }
        }
        let mut tasks = Vec::with_capacity(new.len());
        for chunk in new.chunks(mstation_store::tracking::tasks::MAX_BULK) {
            tasks.extend(store.tenant(&coordinator).create_tasks(chunk).await?);
        }
        tasks_total += tasks.len();
        artist_of.extend(
            tasks
                .iter()
                .filter_map(|t| Some((t.id, artist_of_task(t)?))),
        );

        let ahead = 6.5 - i as f64 * 0.5;
        let mut changes = Vec::new();
        let mut to_review = Vec::new();
        let mut to_retake = Vec::new();
        for shot_tasks in tasks.chunks(types.len()) {
            let p = (ahead + rng.gen_range(-1.5..1.5_f64)).clamp(0.0, 6.99);
            let at = p as usize;
            for (k, t) in shot_tasks.iter().enumerate() {
                let short = if k < at {
                    if k + 1 == types.len() || rng.gen_bool(0.15) {
                        "approved"
                    } else {
                        "done"
                    }
                } else if k == at {
                    under_way.push(t.id);
                    match rng.gen_range(0..10) {
                        0..=4 => "wip",
                        5..=7 => {
                            to_review.push(t.id);
                            continue;
                        }
                        _ => {
                            to_retake.push(t.id);
                            continue;
                        }
                    }
                } else {
                    continue;
                };
                if i == 0 && k < at {
                    finished.push(t.id);
                }
                changes.push((
                    t.id,
                    None,
                    TaskChanges {
                        status_id: Some(status(short)),
                        ..Default::default()
                    },
                ));
            }
        }
        // The history of the work so far, as the supervisor approved it.
        let supervisor = scope(users[2].id, Role::Supervisor);
        for chunk in changes.chunks(mstation_store::tracking::tasks::MAX_BULK) {
            store.tenant(&supervisor).update_tasks(chunk).await?;
        }
        in_review.extend(&to_review);
        // Reviews and retakes come with their notes, as they would from the people doing them.
        for id in to_review {
            let task = store.tenant(&coordinator).task(id).await?;
            // The artist hands in their own work; an unassigned task, its supervisor.
            let author = task
                .assignees
                .split_whitespace()
                .next()
                .and_then(|u| Uuid::parse_str(u).ok())
                .map(|u| scope(u, Role::Artist))
                .unwrap_or_else(|| scope(users[2].id, Role::Supervisor));
            let body = NOTES_WFA[rng.gen_range(0..NOTES_WFA.len())];
            store
                .tenant(&author)
                .add_note(id, body, None.into(), None, Some((status("wfa"), None)))
                .await?;
        }
        for id in to_retake {
            let body = NOTES_RETAKE[rng.gen_range(0..NOTES_RETAKE.len())];
            let frame = 1001 + rng.gen_range(8..120);
            store
                .tenant(&scope(users[2].id, Role::Supervisor))
                .add_note(
                    id,
                    body,
                    Some(frame).into(),
                    None,
                    Some((status("retake"), None)),
                )
                .await?;
        }
    }
    // The film's assets, each cast into some shots of the sequences it appears in, with the
    // pipeline steps of its kind; assets are built ahead of the shots that use them.
    let mut castings = Vec::new();
    let mut asset_tasks = Vec::new();
    for (kind, name, description, sequences, in_ten, count) in ASSETS {
        let asset = store
            .tenant(&coordinator)
            .create_asset(project.id, None, kind, name, description)
            .await?;
        for &i in sequences {
            for &shot in &sequence_shots[i] {
                if rng.gen_range(0..10) < in_ten {
                    castings.push((shot, asset.id, count));
                }
            }
        }
        for step in asset_steps(kind) {
            let Some(t) = asset_types.iter().find(|t| t.short_name == *step) else {
                continue;
            };
            let pool = artists_for(crew_step(step));
            asset_tasks.push(NewTask {
                shot_id: None,
                asset_id: Some(asset.id),
                task_type_id: t.id,
                status_id: None,
                assignees: vec![pool[rng.gen_range(0..pool.len())]],
                priority: rng.gen_range(1..4),
                estimate_minutes: Some(rng.gen_range(8..60) * 60),
                start_date: None,
                due_date: Some(day_from(today, rng.gen_range(-40..30))),
            });
        }
    }
    let castings_total = castings.len();
    stream::iter(castings)
        .map(|(shot, asset, count)| {
            let coordinator = &coordinator;
            async move { store.tenant(coordinator).cast(shot, asset, count).await }
        })
        .buffer_unordered(AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;
    let asset_tasks = store
        .tenant(&coordinator)
        .create_tasks(&asset_tasks)
        .await?;
    let mut changes = Vec::new();
    for t in &asset_tasks {
        artist_of.insert(t.id, artist_of_task(t).unwrap_or(users[1].id));
        let short = match rng.gen_range(0..10) {
            0..=4 => "approved",
            5..=6 => "done",
            7 => "wip",
            _ => "wfa",
        };
        match short {
            "wfa" => in_review.push(t.id),
            "wip" => under_way.push(t.id),
            _ => finished.push(t.id),
        }
        changes.push((
            t.id,
            None,
            TaskChanges {
                status_id: Some(status(short)),
                ..Default::default()
            },
        ));
    }
    store
        .tenant(&scope(users[2].id, Role::Supervisor))
        .update_tasks(&changes)
        .await?;

    // Versions: one to three on the work in review, one or two on what is finished. Each
    // task's versions are written in turn so their numbers follow their comments.
    let mut handed_in = Vec::new();
    let most = in_review
        .iter()
        .map(|id| (id, 3))
        .chain(finished.iter().map(|id| (id, 2)));
    for (id, most) in most {
        let n = rng.gen_range(1..=most);
        let start = rng.gen_range(0..VERSION_COMMENTS.len());
        let comments: Vec<&str> = (0..n)
            .map(|k| VERSION_COMMENTS[(start + k) % VERSION_COMMENTS.len()])
            .collect();
        handed_in.push((
            *id,
            artist_of.get(id).copied().unwrap_or(users[1].id),
            comments,
        ));
    }
    let versions_total: usize = handed_in.iter().map(|h| h.2.len()).sum();
    let studio_id = studio.id;
    stream::iter(handed_in)
        .map(|(task, author, comments)| async move {
            let artist = TenantScope {
                org_id: studio_id,
                user_id: author,
                role: Role::Artist,
                token_scopes: None,
                token_id: None,
            };
            for c in comments {
                store.tenant(&artist).create_version(task, c).await?;
            }
            Ok::<_, mstation_store::StoreError>(())
        })
        .buffer_unordered(AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;

    // Time logged by the artists on their work under way, over the last three weeks: six to
    // nine hours a working day (a weekend day now and then), spread over two to four tasks.
    let mut work_of: std::collections::BTreeMap<Uuid, Vec<Uuid>> =
        std::collections::BTreeMap::new();
    for id in &under_way {
        if let Some(&who) = artist_of.get(id) {
            work_of.entry(who).or_default().push(*id);
        }
    }
    let mut logs = Vec::new();
    for (who, tasks) in &work_of {
        for back in 0..21 {
            let day = today
                .checked_sub(jiff::Span::new().days(back))
                .unwrap_or(today);
            let weekend = day.weekday().to_monday_zero_offset() >= 5;
            if weekend && rng.gen_range(0..10) < 8 {
                continue;
            }
            let parts = rng.gen_range(2..=4).min(tasks.len() as i64);
            let quarters = rng.gen_range(24..=36);
            for k in 0..parts {
                // The day's quarter hours shared out, the last part taking what is left.
                let share = if k + 1 == parts {
                    quarters - quarters / parts * (parts - 1)
                } else {
                    quarters / parts
                };
                logs.push((
                    tasks[rng.gen_range(0..tasks.len())],
                    *who,
                    day.to_string(),
                    share * 15,
                    TIME_COMMENTS[rng.gen_range(0..TIME_COMMENTS.len())],
                ));
            }
        }
    }
    let time_logs_total = logs.len();
    stream::iter(logs)
        .map(|(task, who, day, minutes, comment)| async move {
            let artist = TenantScope {
                org_id: studio_id,
                user_id: who,
                role: Role::Artist,
                token_scopes: None,
                token_id: None,
            };
            store
                .tenant(&artist)
                .log_time(task, &day, minutes, comment)
                .await
        })
        .buffer_unordered(AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;

    let accounts = std::iter::once((HEAD.0, HEAD.1, Role::Owner))
        .chain(
            CREW.iter()
                .map(|(email, name, role, _)| (*email, *name, *role)),
        )
        .map(|(email, name, role)| (email.to_string(), format!("{name} ({})", role.as_str())))
        .collect();
    Ok(Some(Loaded {
        accounts,
        shots: shots_total,
        tasks: tasks_total + asset_tasks.len(),
        assets: ASSETS.len(),
        asset_tasks: asset_tasks.len(),
        castings: castings_total,
        versions: versions_total,
        time_logs: time_logs_total,
    }))
}

fn artist_of_task(t: &mstation_store::tracking::tasks::Task) -> Option<Uuid> {
    Uuid::parse_str(t.assignees.split_whitespace().next()?).ok()
}
