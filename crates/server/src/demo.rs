//! The demo studio: `mstation serve --demo` fills an empty platform with a living production, so
//! a newcomer sees a film in progress in the first minute. Several organisations share the
//! platform; the feature "The Long Night" has twelve sequences of about forty shots, each
//! sequence conformed from a generated CMX 3600 EDL exactly as an editor's list would be, six
//! pipeline steps per shot in varied states, people assigned, and notes with status changes.
//!
//! Everything goes through the store's ordinary writes (audit log and events included), and the
//! same seed gives the same studio every time.

use mstation_core::tracking::edl;
use mstation_core::tracking::export::{Export, ExportShot};
use mstation_core::tracking::timecode::Rate;
use mstation_core::{OrgKind, Role, TenantScope};
use mstation_store::identity::{NewOrg, NewUser};
use mstation_store::tracking::NewProject;
use mstation_store::tracking::tasks::{NewTask, TaskChanges};
use mstation_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Every demo account signs in with this password.
pub const PASSWORD: &str = "m-station-demo";

const STUDIO_SLUG: &str = "jade-dragon";

/// (e-mail, name, role, pipeline step they work on)
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

/// What was loaded, for the start-up message.
pub struct Loaded {
    pub accounts: Vec<(String, String)>,
    pub shots: usize,
    pub tasks: usize,
}

/// Loads the demo studio unless it is there already. `None` when it was.
pub async fn load(store: &Store) -> anyhow::Result<Option<Loaded>> {
    if store.org_by_slug(STUDIO_SLUG).await?.is_some() {
        return Ok(None);
    }
    let mut rng = StdRng::seed_from_u64(20_261_123);
    let sys = Actor::system();
    let mut users = Vec::new();
    for (email, name, _, _) in CREW {
        let u = match store.user_by_email(email).await? {
            Some(u) => u,
            None => {
                store
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
    let producer = &users[0];
    let studio = store
        .create_org(
            &sys,
            NewOrg {
                name: "Jade Dragon Pictures".into(),
                slug: Some(STUDIO_SLUG.into()),
                kind: OrgKind::ProductionCompany,
                timezone: Some("Asia/Shanghai".into()),
            },
            producer.id,
        )
        .await?;
    for (u, (_, _, role, _)) in users.iter().zip(CREW).skip(1) {
        store.add_member(&sys, studio.id, u.id, role).await?;
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
        .create_project(
            &scope(producer.id, Role::Owner),
            NewProject {
                name: "The Long Night".into(),
                code: "LONGNIGHT".into(),
                rate,
                width: 4096,
                height: 1716,
                start_frame: None,
                head_handles: None,
                tail_handles: None,
                start_date: Some("2026-09-01".into()),
                end_date: Some("2027-04-30".into()),
            },
        )
        .await?;
    let statuses = store.task_statuses(&coordinator, project.id).await?;
    let status = |short: &str| {
        statuses
            .iter()
            .find(|s| s.short_name == short)
            .map(|s| s.id)
            .expect("the default workflow")
    };
    let types = store.task_types(&coordinator, project.id).await?;
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
    let mut reel = 1;
    for (i, (name, description)) in SEQUENCES.iter().enumerate() {
        let seq = store
            .create_sequence(&coordinator, project.id, name, description)
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
            .conform_sequence(&coordinator, seq.id, &parsed, true)
            .await?;
        let (shots, _) = store.shots(&coordinator, seq.id, false, None, 1000).await?;
        shots_total += shots.len();

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
                    due_date: Some(format!(
                        "2027-{:02}-{:02}",
                        1 + (i * 3 + rng.gen_range(0..3)) / 3 % 12,
                        rng.gen_range(1..29)
                    )),
                });
            }
        }
        let mut tasks = Vec::with_capacity(new.len());
        for chunk in new.chunks(mstation_store::tracking::tasks::MAX_BULK) {
            tasks.extend(store.create_tasks(&coordinator, chunk).await?);
        }
        tasks_total += tasks.len();

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
        for chunk in changes.chunks(mstation_store::tracking::tasks::MAX_BULK) {
            store.update_tasks(&coordinator, chunk).await?;
        }
        // Reviews and retakes come with their notes, as they would from the people doing them.
        for id in to_review {
            let task = store.task(&coordinator, id).await?;
            let author = task
                .assignees
                .split_whitespace()
                .next()
                .and_then(|u| Uuid::parse_str(u).ok())
                .unwrap_or(users[1].id);
            let body = NOTES_WFA[rng.gen_range(0..NOTES_WFA.len())];
            store
                .add_note(
                    &scope(author, Role::Artist),
                    id,
                    body,
                    None,
                    None,
                    Some((status("wfa"), None)),
                )
                .await?;
        }
        for id in to_retake {
            let body = NOTES_RETAKE[rng.gen_range(0..NOTES_RETAKE.len())];
            let frame = 1001 + rng.gen_range(8..120);
            store
                .add_note(
                    &scope(users[2].id, Role::Supervisor),
                    id,
                    body,
                    Some(frame),
                    None,
                    Some((status("retake"), None)),
                )
                .await?;
        }
    }
    let accounts = CREW
        .iter()
        .map(|(email, name, role, _)| (email.to_string(), format!("{name} ({})", role.as_str())))
        .collect();
    Ok(Some(Loaded {
        accounts,
        shots: shots_total,
        tasks: tasks_total,
    }))
}
