//! One story per context, run against the store directly on both backends: what a context's
//! functions promise, without HTTP in between. Each story also holds the tenant boundary: a
//! second organisation's handle sees none of it.

use mstation_core::tracking::drawing::Shape;
use mstation_core::tracking::edl;
use mstation_core::tracking::timecode::Rate;
use mstation_core::{OrgKind, Role, TenantScope, TokenScope};
use mstation_store::identity::{NewOrg, NewUser};
use mstation_store::jobs::NewJob;
use mstation_store::tracking::NewProject;
use mstation_store::tracking::notes::OnFrames;
use mstation_store::tracking::tasks::{NewTask, TaskChanges};
use mstation_store::{Actor, ListQuery, Store, StoreError};
use uuid::Uuid;

/// Runs `story` on a fresh SQLite file and, when `MSTATION_TEST_PG` names a server, on a fresh
/// PostgreSQL database.
async fn on_both_backends<F, Fut>(story: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(format!("mstation-story-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    story(Store::open_sqlite(&dir.join("m.db")).await.unwrap()).await;
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(admin) = std::env::var("MSTATION_TEST_PG") else {
        assert!(
            std::env::var("MSTATION_REQUIRE_PG").as_deref() != Ok("1"),
            "MSTATION_REQUIRE_PG=1 but MSTATION_TEST_PG is not set"
        );
        eprintln!("note: the PostgreSQL pass is not run here; scripts/test runs it");
        return;
    };
    use sqlx::Connection;
    let name = format!("mst_{}", Uuid::now_v7().simple());
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    story(Store::open(&url).await.unwrap()).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}

/// A user who owns a new organisation, as the scope they act in.
async fn owner(store: &Store, slug: &str) -> TenantScope {
    let p = store.platform();
    let user = p
        .create_user(
            &Actor::system(),
            NewUser {
                email: format!("owner@{slug}.example"),
                display_name: format!("Owner of {slug}"),
                password: "correct horse battery".into(),
                locale: None,
                is_operator: false,
            },
        )
        .await
        .unwrap();
    let org = p
        .create_org(
            &Actor::system(),
            NewOrg {
                name: slug.to_uppercase(),
                slug: Some(slug.into()),
                kind: OrgKind::ProductionCompany,
                timezone: None,
            },
            user.id,
        )
        .await
        .unwrap();
    TenantScope {
        org_id: org.id,
        user_id: user.id,
        role: Role::Owner,
        token_scopes: None,
        token_id: None,
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

#[tokio::test]
async fn identity_members_invitations_and_tokens() {
    on_both_backends(|store| async move {
        let a = owner(&store, "alpha").await;
        let b = owner(&store, "beta").await;
        let alpha = store.tenant(&a);
        let members = alpha.members(&ListQuery::default(), None).await.unwrap();
        assert_eq!(members.total, 1, "the owner");
        let (inv, _secret) = alpha
            .invite("artist@alpha.example", Role::Artist)
            .await
            .unwrap();
        assert!(alpha.invitation(inv.id).await.is_ok());
        assert!(not_found(store.tenant(&b).invitation(inv.id).await));

        let (token, secret) = alpha
            .create_token("render farm", &[TokenScope::Read], None)
            .await
            .unwrap();
        let (scope, _) = store
            .platform()
            .authenticate_token(&secret)
            .await
            .unwrap()
            .expect("a live token signs in");
        assert_eq!((scope.org_id, scope.user_id), (a.org_id, a.user_id));
        assert!(not_found(
            store.tenant(&b).revoke_token(token.id, true).await
        ));
        alpha.revoke_token(token.id, false).await.unwrap();
        // The token cache of this process is voided by the revocation.
        let after = store.platform().authenticate_token(&secret).await.unwrap();
        assert!(after.is_none(), "a revoked token signs nobody in");
        store.close().await;
    })
    .await;
}

const CUT: &str = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
002  A002 V C 10:00:00:00 10:00:02:00 01:00:01:00 01:00:03:00
";

#[tokio::test]
async fn tracking_a_cut_its_tasks_notes_and_time() {
    on_both_backends(|store| async move {
        let a = owner(&store, "alpha").await;
        let b = owner(&store, "beta").await;
        let alpha = store.tenant(&a);
        let project = alpha
            .create_project(NewProject {
                name: "Moonlight".into(),
                code: "MOON".into(),
                rate: Rate::parse("24").unwrap(),
                width: 1920,
                height: 1080,
                start_frame: None,
                head_handles: None,
                tail_handles: None,
                start_date: None,
                end_date: None,
            })
            .await
            .unwrap();
        let seq = alpha
            .create_sequence(project.id, "SQ010", "")
            .await
            .unwrap();
        let cut = edl::parse(CUT, project.rate().unwrap()).unwrap();
        let applied = alpha.conform_sequence(seq.id, &cut, true).await.unwrap();
        assert_eq!(applied.new.len(), 2);
        let again = alpha.conform_sequence(seq.id, &cut, true).await.unwrap();
        assert!(
            again.new.is_empty() && again.changed.is_empty(),
            "a re-import changes nothing"
        );
        let (shots, total) = alpha.shots(seq.id, false, None, 100).await.unwrap();
        assert_eq!(total, 2);
        // Frames are inclusive: the second event runs two seconds, 48 frames.
        assert_eq!(shots[1].cut_out - shots[1].cut_in + 1, 48);
        assert_eq!(shots[1].frames(), 48, "what the pages show");

        let ty = alpha.task_types(project.id).await.unwrap()[0].id;
        let tasks = alpha
            .create_tasks(&[NewTask {
                shot_id: Some(shots[0].id),
                asset_id: None,
                task_type_id: ty,
                status_id: None,
                assignees: vec![a.user_id],
                priority: 1,
                estimate_minutes: None,
                start_date: None,
                due_date: None,
            }])
            .await
            .unwrap();
        let task = &tasks[0];
        let change = TaskChanges {
            priority: Some(3),
            ..Default::default()
        };
        let changed = alpha
            .update_task(task.id, Some(task.version), &change)
            .await
            .unwrap();
        assert_eq!((changed.priority, changed.version), (3, task.version + 1));
        let stale = alpha
            .update_task(task.id, Some(task.version), &change)
            .await;
        assert!(matches!(stale, Err(StoreError::Stale { .. })), "{stale:?}");

        let (note, _) = alpha
            .add_note(task.id, "tighter on the boom", Some(1012).into(), None, None)
            .await
            .unwrap();
        assert_eq!(alpha.notes(task.id).await.unwrap()[0].id, note.id);
        // A note on a range of frames with a drawing: kept canonical, read back as written.
        let shapes: Vec<Shape> = serde_json::from_str(
            r##"[{"kind":"rect","color":"#34C759","width":0.004,"from":[0.2,0.25],"to":[0.6,0.55]}]"##,
        )
        .unwrap();
        let on = OnFrames {
            frame: Some(1012),
            frame_out: Some(1020),
            drawing: Some(shapes.clone()),
        };
        let (drawn, _) = alpha
            .add_note(task.id, "hold the box", on.clone(), None, None)
            .await
            .unwrap();
        let read = alpha.notes(task.id).await.unwrap();
        let read = read.iter().find(|n| n.id == drawn.id).unwrap();
        assert_eq!((read.frame, read.frame_out), (Some(1012), Some(1020)));
        let Some([Shape::Rect { color, .. }]) = read.drawing.as_deref() else {
            panic!("{:?}", read.drawing)
        };
        assert_eq!(color, "#34c759");
        for (bad, field) in [
            (OnFrames { frame_out: Some(1000), ..on.clone() }, "frame_out"),
            (OnFrames { frame: None, frame_out: None, ..on.clone() }, "drawing"),
            (OnFrames { frame: None, drawing: None, ..on.clone() }, "frame_out"),
            (OnFrames { drawing: Some(vec![]), ..on.clone() }, "drawing[0]"),
        ] {
            let got = alpha.add_note(task.id, "x", bad, None, None).await;
            let field_of = match &got {
                Err(StoreError::Invalid(f)) => f.field.to_string(),
                Err(StoreError::InvalidValue { field, .. }) => field.clone(),
                other => panic!("{other:?}"),
            };
            assert_eq!(field_of, field);
        }
        alpha
            .log_time(task.id, "2026-12-05", 90, "roto")
            .await
            .unwrap();
        assert_eq!(alpha.task_logged_minutes(task.id).await.unwrap(), 90);

        let beta = store.tenant(&b);
        assert!(not_found(beta.project(project.id).await));
        assert!(not_found(beta.task(task.id).await));
        assert!(not_found(beta.update_task(task.id, None, &change).await));
        assert!(not_found(beta.notes(task.id).await));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn events_every_change_is_announced_once_in_order() {
    on_both_backends(|store| async move {
        let a = owner(&store, "alpha").await;
        let b = owner(&store, "beta").await;
        let alpha = store.tenant(&a);
        let mut invited = Vec::new();
        for i in 0..5 {
            let (inv, _) = alpha
                .invite(&format!("p{i}@alpha.example"), Role::Artist)
                .await
                .unwrap();
            store
                .tenant(&b)
                .invite(&format!("p{i}@beta.example"), Role::Artist)
                .await
                .unwrap();
            invited.push(Some(inv.id));
        }
        // Each invitation announced once, in the order the writes committed.
        let announced = |events: &[mstation_store::events::Event]| -> Vec<Option<Uuid>> {
            events
                .iter()
                .filter(|e| e.kind == "invitation.created" && e.org_id == Some(a.org_id))
                .map(|e| e.entity_id)
                .collect()
        };
        let all = store.platform().events_after(0, 10_000).await.unwrap();
        assert_eq!(announced(&all), invited);
        assert_eq!(
            announced(&alpha.org_events_after(0, 10_000).await.unwrap()),
            invited
        );
        // Beta's stream holds Beta's invitations and none of Alpha's.
        let theirs = store.tenant(&b).org_events_after(0, 10_000).await.unwrap();
        assert!(announced(&theirs).is_empty());
        let beta_invitations = theirs
            .iter()
            .filter(|e| e.kind == "invitation.created")
            .count();
        assert_eq!(beta_invitations, 5);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn jobs_are_claimed_once_and_completed_by_their_worker() {
    on_both_backends(|store| async move {
        let a = owner(&store, "alpha").await;
        let b = owner(&store, "beta").await;
        let p = store.platform();
        let id = p
            .enqueue(NewJob {
                org_id: Some(a.org_id),
                kind: "story.test".into(),
                payload: serde_json::json!({"n": 1}),
                priority: 0,
                max_attempts: 3,
                run_after: None,
            })
            .await
            .unwrap();
        let job = p
            .claim_job("w1", &["story.test"], 30_000)
            .await
            .unwrap()
            .expect("queued");
        assert_eq!(job.id, id);
        assert!(
            p.claim_job("w2", &["story.test"], 30_000)
                .await
                .unwrap()
                .is_none(),
            "once"
        );
        let done = serde_json::json!({"ok": true});
        assert!(
            !p.complete_job(id, "w2", &done).await.unwrap(),
            "not w2's to complete"
        );
        assert!(p.complete_job(id, "w1", &done).await.unwrap());
        assert_eq!(store.tenant(&a).job(id).await.unwrap().status, "succeeded");
        assert!(not_found(store.tenant(&b).job(id).await));
        store.close().await;
    })
    .await;
}

/// A CMX 3600 cut of `n` one-second events.
fn cut_of(n: u32) -> String {
    let at =
        |hour: u32, s: u32| format!("{:02}:{:02}:{:02}:00", hour + s / 3600, s / 60 % 60, s % 60);
    let mut edl = String::from("TITLE: BIG\nFCM: NON-DROP FRAME\n");
    for i in 0..n {
        edl.push_str(&format!(
            "{:03}  A{:03}C001 V     C        {} {} {} {}\n",
            i % 1000 + 1,
            i % 1000,
            at(10, i),
            at(10, i + 1),
            at(1, i),
            at(1, i + 1)
        ));
    }
    edl
}

/// On SQLite a cut with more new shots than one transaction writes is staged out of sight and
/// shown at once: a conform cut off while staging shows nothing, records nothing, and leaves
/// nothing in the way of the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_a_big_cut_appears_at_once_or_not_at_all() {
    use std::sync::Arc;
    let dir = std::env::temp_dir().join(format!("mstation-story-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.db");
    // Each staged batch waits for a permit: the test stops the conform between two batches.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let store = Arc::new(
        Store::open_sqlite(&path)
            .await
            .unwrap()
            .with_conform_batch(400)
            .with_conform_gate(gate.clone()),
    );
    let a = owner(&store, "alpha").await;
    let alpha = store.tenant(&a);
    let project = alpha
        .create_project(NewProject {
            name: "Long".into(),
            code: "LONG".into(),
            rate: Rate::parse("24").unwrap(),
            width: 1920,
            height: 1080,
            start_frame: None,
            head_handles: None,
            tail_handles: None,
            start_date: None,
            end_date: None,
        })
        .await
        .unwrap();
    let seq = alpha
        .create_sequence(project.id, "SQ010", "")
        .await
        .unwrap();
    let cut = edl::parse(&cut_of(4_000), project.rate().unwrap()).unwrap();
    let mut peek = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true);
    peek = peek.busy_timeout(std::time::Duration::from_secs(5));
    let peek = sqlx::SqlitePool::connect_with(peek).await.unwrap();
    let staged = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM shots WHERE staged IS NOT NULL")
            .fetch_one(&peek)
            .await
            .unwrap()
    };
    let before = store
        .platform()
        .events_after(0, 100_000)
        .await
        .unwrap()
        .len();

    let conform = tokio::spawn({
        let (store, a, cut) = (store.clone(), a.clone(), cut.clone());
        async move { store.tenant(&a).conform_sequence(seq.id, &cut, true).await }
    });
    gate.add_permits(2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while staged().await < 800 {
        assert!(
            std::time::Instant::now() < deadline,
            "two batches were not staged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The conform now waits for its third batch's permit: it stops there.
    conform.abort();
    let _ = conform.await;
    assert_eq!(
        staged().await,
        800,
        "the cut-off conform left two batches staged"
    );
    let (_, total) = alpha.shots(seq.id, true, None, 10).await.unwrap();
    assert_eq!(total, 0, "a staged shot is out of sight");
    let events = store.platform().events_after(0, 100_000).await.unwrap();
    assert_eq!(events.len(), before, "a cut not shown is not announced");

    gate.add_permits(10);
    let applied = alpha.conform_sequence(seq.id, &cut, true).await.unwrap();
    assert_eq!(applied.new.len(), 4_000);
    assert_eq!(staged().await, 0, "the next conform cleared what was left");
    let (shots, total) = alpha.shots(seq.id, true, None, 5_000).await.unwrap();
    assert_eq!(total, 4_000);
    assert_eq!(shots.len(), 4_000);
    let conformed = store
        .platform()
        .events_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sequence.conformed")
        .count();
    assert_eq!(conformed, 10, "one event per 400 shots");
    let again = alpha.conform_sequence(seq.id, &cut, true).await.unwrap();
    assert!(again.new.is_empty() && again.changed.is_empty());
    // A server stopped while staging: opening the file again clears what was left.
    let seq2 = alpha
        .create_sequence(project.id, "SQ020", "")
        .await
        .unwrap();
    let stopped = tokio::spawn({
        let (store, a, cut) = (store.clone(), a.clone(), cut.clone());
        async move { store.tenant(&a).conform_sequence(seq2.id, &cut, true).await }
    });
    gate.add_permits(1);
    while staged().await < 400 {
        assert!(
            std::time::Instant::now() < deadline,
            "a batch was not staged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stopped.abort();
    let _ = stopped.await;
    assert_eq!(staged().await, 400);
    let reopened = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(
        staged().await,
        0,
        "opening the file cleared the staged shots"
    );
    reopened.close().await;
    peek.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An upload is its sender's, held by one writer at a time, and becomes a file of the
/// organisation whose blob is kept once across the platform.
#[tokio::test]
async fn media_an_upload_becomes_a_file_of_its_organisation() {
    use mstation_store::Rule;
    use mstation_store::media::{MediaRule, NewUpload};
    on_both_backends(|store| async move {
        let a = owner(&store, "alpha").await;
        let b = owner(&store, "beta").await;
        let (alpha, beta) = (store.tenant(&a), store.tenant(&b));
        let new = || NewUpload {
            ingest: None,
            project_id: None,
            name: "A001C003.mov".into(),
            content_type: None,
            metadata: String::new(),
            length: 10,
            partial: false,
        };
        let up = alpha.create_upload(new()).await.unwrap();
        assert!(
            not_found(beta.upload(up.id).await),
            "another organisation's upload"
        );
        alpha.hold_upload(up.id, 0, "first").await.unwrap();
        let busy = alpha.hold_upload(up.id, 0, "second").await;
        assert!(matches!(
            busy,
            Err(StoreError::Rule(Rule::Media(MediaRule::UploadBusy)))
        ));
        alpha
            .upload_progress(up.id, "first", 4, true)
            .await
            .unwrap();
        let stale = alpha.hold_upload(up.id, 0, "second").await;
        assert!(matches!(
            stale,
            Err(StoreError::Rule(Rule::Media(MediaRule::OffsetMismatch)))
        ));
        alpha.hold_upload(up.id, 4, "second").await.unwrap();
        assert!(
            alpha
                .upload_progress(up.id, "first", 10, true)
                .await
                .is_err(),
            "not its hold"
        );
        let hash = "ab".repeat(32);
        assert!(store.platform().add_blob(&hash, 10).await.unwrap());
        assert!(
            store.platform().add_blob(&hash, 10).await.unwrap(),
            "known: renewed"
        );
        // A blob being collected is not renewed until it is gone, then recorded anew.
        let crumb = "cd".repeat(32);
        store.platform().add_blob(&crumb, 3).await.unwrap();
        assert!(
            store
                .platform()
                .collect_blob(&crumb, i64::MAX)
                .await
                .unwrap()
        );
        assert!(!store.platform().add_blob(&crumb, 3).await.unwrap());
        store.platform().forget_blob(&crumb).await.unwrap();
        assert!(store.platform().add_blob(&crumb, 3).await.unwrap());
        assert!(store.platform().blob_known(&hash).await.unwrap());
        let file = alpha
            .finish_upload(up.id, "second", &hash, None)
            .await
            .unwrap()
            .expect("a file");
        assert_eq!((file.size, file.hash.as_str()), (10, hash.as_str()));
        assert!(not_found(beta.media_file(file.id).await));
        let page = beta.media_files(None, &ListQuery::default()).await.unwrap();
        assert!(page.items.is_empty());
        // Beta's own upload of the same bytes: its own file, the one blob.
        let theirs = beta.create_upload(new()).await.unwrap();
        beta.hold_upload(theirs.id, 0, "b").await.unwrap();
        let other = beta
            .finish_upload(theirs.id, "b", &hash, None)
            .await
            .unwrap()
            .expect("a file");
        assert_ne!(other.id, file.id);
        // A finished upload takes no more and cannot be ended.
        assert!(alpha.hold_upload(up.id, 10, "third").await.is_err());
        assert!(alpha.terminate_upload(up.id).await.is_err());
        // Parts joined by one final upload are its own until it ends.
        let part = || NewUpload {
            ingest: None,
            partial: true,
            ..new()
        };
        let p = alpha.create_upload(part()).await.unwrap();
        alpha.hold_upload(p.id, 0, "p").await.unwrap();
        alpha.upload_progress(p.id, "p", 10, true).await.unwrap();
        alpha
            .create_final_upload(vec![p.id], new(), "join 1")
            .await
            .unwrap();
        let twice = alpha.create_final_upload(vec![p.id], new(), "join 2").await;
        assert!(matches!(
            twice,
            Err(StoreError::Rule(Rule::Media(MediaRule::PartsUnfinished)))
        ));
        let open = alpha.create_upload(new()).await.unwrap();
        alpha.terminate_upload(open.id).await.unwrap();
        assert!(not_found(alpha.upload(open.id).await));
    })
    .await;
}
