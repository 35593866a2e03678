//! The demo studio loads a living production once, through the ordinary writes.

use crate::common::*;
use mstation_core::{Role, TenantScope};
use mstation_store::ListQuery;
use mstation_store::tracking::assets::AssetKind;
use mstation_store::tracking::tasks::TaskFilter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_studio_is_a_film_in_production() {
    on_every_backend(|srv| async move {
        let store = srv.store();
        let loaded = mstation_server::demo::load(store)
            .await
            .unwrap()
            .expect("loaded on an empty platform");
        assert!(
            mstation_server::demo::load(store).await.unwrap().is_none(),
            "a second load changes nothing"
        );
        assert!(
            (400..=600).contains(&loaded.shots),
            "{} shots",
            loaded.shots
        );
        assert_eq!(loaded.tasks, loaded.shots * 6 + loaded.asset_tasks);
        assert!(loaded.assets >= 20 && loaded.asset_tasks >= loaded.assets * 2);
        assert!(loaded.castings > 500, "{} castings", loaded.castings);
        assert!(loaded.versions > 200, "{} versions", loaded.versions);
        assert!(loaded.time_logs > 200, "{} time logs", loaded.time_logs);

        for slug in ["jade-dragon", "bund-post", "lumen-vfx"] {
            assert!(
                store.platform().org_by_slug(slug).await.unwrap().is_some(),
                "{slug}"
            );
        }
        let studio = store
            .platform()
            .org_by_slug("jade-dragon")
            .await
            .unwrap()
            .unwrap();
        let producer = store
            .platform()
            .user_by_email("chen.jing@jadedragon.demo")
            .await
            .unwrap()
            .unwrap();
        for (email, role) in [
            ("chen.jing@jadedragon.demo", Role::Producer),
            ("huang.jun@jadedragon.demo", Role::Owner),
        ] {
            let u = store
                .platform()
                .user_by_email(email)
                .await
                .unwrap()
                .unwrap();
            let m = store.platform().memberships(u.id).await.unwrap();
            assert_eq!(
                (m.len(), m[0].org.id, m[0].role),
                (1, studio.id, role),
                "{email}"
            );
        }
        let scope = TenantScope {
            org_id: studio.id,
            user_id: producer.id,
            role: Role::Producer,
            token_scopes: None,
            token_id: None,
        };
        let projects = store
            .tenant(&scope)
            .projects(None, &ListQuery::default())
            .await
            .unwrap();
        assert_eq!(projects.items.len(), 1);
        let project = &projects.items[0];
        let sequences = store
            .tenant(&scope)
            .sequences(project.id, &ListQuery::default())
            .await
            .unwrap();
        assert_eq!(sequences.total, 12);

        // Statuses are varied, people are assigned, and notes explain reviews and retakes.
        let statuses = store
            .tenant(&scope)
            .task_statuses(project.id)
            .await
            .unwrap();
        let q = ListQuery {
            limit: 1,
            ..Default::default()
        };
        for s in &statuses {
            let f = TaskFilter {
                project_id: Some(project.id),
                status_id: Some(s.id),
                ..Default::default()
            };
            let n = store.tenant(&scope).tasks(&f, &q).await.unwrap().total;
            assert!(n > 0, "some tasks are {}", s.short_name);
        }
        let artist = store
            .platform()
            .user_by_email("zhang.wei@jadedragon.demo")
            .await
            .unwrap()
            .unwrap();
        let mine = TaskFilter {
            assignee: Some(artist.id),
            ..Default::default()
        };
        assert!(store.tenant(&scope).tasks(&mine, &q).await.unwrap().total > 20);
        let retake = statuses.iter().find(|s| s.is_retake).unwrap();
        let f = TaskFilter {
            project_id: Some(project.id),
            status_id: Some(retake.id),
            ..Default::default()
        };
        let one = &store.tenant(&scope).tasks(&f, &q).await.unwrap().items[0];
        let notes = store.tenant(&scope).notes(one.id).await.unwrap();
        assert_eq!(notes.last().unwrap().status_to, Some(retake.id));
        assert!(
            notes.last().unwrap().frame.is_some(),
            "a retake note points at a frame"
        );

        // The film's assets are cast into its shots and have their own work.
        let all = ListQuery {
            limit: 500,
            ..Default::default()
        };
        let characters = store
            .tenant(&scope)
            .assets(project.id, Some(AssetKind::Character), &all)
            .await
            .unwrap();
        let shen = characters
            .items
            .iter()
            .find(|a| a.name == "Inspector Shen")
            .expect("the lead");
        let shots = store.tenant(&scope).asset_shots(shen.id).await.unwrap();
        assert!(shots.len() > 100, "the lead is in {} shots", shots.len());
        let tasks = store.tenant(&scope).asset_tasks(shen.id).await.unwrap();
        assert_eq!(tasks.len(), 5, "a character's pipeline steps");
        let types = store.tenant(&scope).task_types(project.id).await.unwrap();
        assert!(
            tasks.iter().all(|t| types
                .iter()
                .any(|y| y.id == t.task_type_id && y.is_for_assets())),
            "on asset steps"
        );
        let everything = store
            .tenant(&scope)
            .assets(project.id, None, &all)
            .await
            .unwrap();
        assert_eq!(everything.total as usize, loaded.assets);
        for kind in [AssetKind::Prop, AssetKind::Environment, AssetKind::Vehicle] {
            let some = store
                .tenant(&scope)
                .assets(project.id, Some(kind), &q)
                .await
                .unwrap();
            assert!(some.total > 0, "{kind:?}");
        }
        let first = &store
            .tenant(&scope)
            .shot_assets(shots[0].shot_id)
            .await
            .unwrap();
        assert!(first.iter().any(|a| a.asset_id == shen.id));

        // Work in review has versions numbered from 1, with comments; work under way has time.
        let review = statuses.iter().find(|s| s.short_name == "wfa").unwrap();
        let f = TaskFilter {
            project_id: Some(project.id),
            status_id: Some(review.id),
            ..Default::default()
        };
        let in_review = store.tenant(&scope).tasks(&f, &all).await.unwrap().items;
        let mut logged = 0;
        for t in &in_review {
            let v = store
                .tenant(&scope)
                .versions(t.id, &all)
                .await
                .unwrap()
                .items;
            assert!(!v.is_empty(), "a task in review has a version");
            let numbers: Vec<i64> = v.iter().map(|v| v.number).collect();
            assert_eq!(numbers, (1..=v.len() as i64).collect::<Vec<_>>());
            assert!(v.iter().all(|v| !v.comment.is_empty()));
            logged += store
                .tenant(&scope)
                .task_logged_minutes(t.id)
                .await
                .unwrap();
        }
        assert!(logged > 0, "time is logged on the work in review");
    })
    .await;
}
