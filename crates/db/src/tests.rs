//! The writer thread's promises, on a scratch SQLite file.

use std::sync::Arc;
use std::time::Duration;

use crate::{Arg, BoxFuture, DbError, Readers, WriteTx, Writer};

struct Fixture {
    writer: Arc<Writer>,
    read: Readers,
    path: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for end in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{end}", self.path.display())).ok();
        }
    }
}

fn fixture() -> Fixture {
    let path = std::env::temp_dir().join(format!("mstation-writer-{}.db", uuid::Uuid::now_v7()));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, by TEXT NOT NULL)",
    )
    .unwrap();
    drop(conn);
    Fixture {
        writer: Arc::new(Writer::start(&path).unwrap()),
        read: Readers::new(&path, 2),
        path,
    }
}

fn insert_body<'t>(tx: &'t mut WriteTx<'_>, id: i64) -> BoxFuture<'t, Result<i64, DbError>> {
    Box::pin(async move {
        tx.execute("INSERT INTO t (id, by) VALUES ($1, 'w')", &[id.into()])
            .await?;
        Ok(id)
    })
}

async fn insert(w: &Writer, id: i64) -> Result<i64, DbError> {
    w.write(None, move |tx| insert_body(tx, id)).await
}

fn ids(f: &Fixture) -> Vec<i64> {
    f.read
        .read::<(i64,)>("SELECT id FROM t ORDER BY id", &[])
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_writes_share_a_commit_and_a_failing_one_undoes_only_itself() {
    let f = fixture();
    assert_eq!(insert(&f.writer, 1).await.unwrap(), 1);
    assert_eq!(f.writer.stats(), (1, 1), "a lone write commits at once");
    assert_eq!(ids(&f), vec![1], "and is there once answered");

    // Hold the writer thread inside a write so that the others queue behind it.
    let (entered, inside) = std::sync::mpsc::channel();
    let (release, go) = std::sync::mpsc::channel::<()>();
    let w = f.writer.clone();
    let first = tokio::spawn(async move {
        w.write(None, move |tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO t (id, by) VALUES (2, 'first')", &[])
                    .await?;
                entered.send(()).unwrap();
                go.recv().unwrap();
                Ok::<_, DbError>(())
            })
        })
        .await
    });
    tokio::task::spawn_blocking(move || inside.recv().unwrap())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for id in 10..30 {
        let w = f.writer.clone();
        // One of them inserts a row that exists: it fails, alone, as a duplicate.
        let id = if id == 20 { 1 } else { id };
        tasks.push(tokio::spawn(async move { insert(&w, id).await }));
    }
    // Let every write reach the queue before the thread goes on: the thread is held, so the
    // queue fills; nothing here decides the outcome, only how many commits carry it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.send(()).unwrap();
    first.await.unwrap().unwrap();
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert_eq!(failures.len(), 1, "only the duplicate fails: {failures:?}");
    assert!(matches!(failures[0], DbError::Duplicate), "{failures:?}");
    let mut want = vec![1, 2];
    want.extend((10..30).filter(|i| *i != 20));
    assert_eq!(ids(&f), want);
    assert_eq!(
        f.writer.stats(),
        (2, 21),
        "the queued writes went in with the one that held the thread"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_fails_half_way_leaves_nothing_and_others_commit_beside_it() {
    let f = fixture();
    let mut tasks = Vec::new();
    for id in 0..200i64 {
        let w = f.writer.clone();
        tasks.push(tokio::spawn(async move {
            w.write(None, move |tx| {
                Box::pin(async move {
                    tx.execute("INSERT INTO t (id, by) VALUES ($1, 'w')", &[id.into()])
                        .await?;
                    // Every third write then breaks a rule on its caller's input, after its
                    // first statement ran: that statement is undone with it.
                    if id % 3 == 0 {
                        tx.execute(
                            "INSERT INTO t (id, by) VALUES ($1, NULL)",
                            &[(id + 1000).into()],
                        )
                        .await?;
                    }
                    Ok::<_, DbError>(id)
                })
            })
            .await
        }));
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 67);
    assert_eq!(ids(&f), (0..200).filter(|i| i % 3 != 0).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_panics_is_an_error_undone_and_the_thread_goes_on() {
    let f = fixture();
    let got = f
        .writer
        .write(None, |tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO t (id, by) VALUES (7, 'panics')", &[])
                    .await?;
                panic!("a bug in a write");
            })
        })
        .await;
    let got: Result<(), DbError> = got;
    assert!(got.is_err(), "{got:?}");
    assert_eq!(insert(&f.writer, 8).await.unwrap(), 8);
    assert_eq!(ids(&f), vec![8], "nothing of the panicked write stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_would_wait_fails_instead_of_blocking_the_thread() {
    let f = fixture();
    let got: Result<(), DbError> = f
        .writer
        .write(None, |_tx| {
            Box::pin(async move {
                std::future::pending::<()>().await;
                Ok(())
            })
        })
        .await;
    assert!(matches!(got, Err(DbError::WriteFailed(_))), "{got:?}");
    assert_eq!(insert(&f.writer, 3).await.unwrap(), 3);
}

#[test]
fn rows_read_in_select_order_with_parameters_bound_by_number() {
    let f = fixture();
    let rows: Vec<(i64, String, Option<String>)> = f
        .read
        .read(
            "SELECT $2 - $1, $3, $4",
            &[Arg::from(10i64), 3i64.into(), "x".into(), Arg::Text(None)],
        )
        .unwrap();
    assert_eq!(rows, vec![(-7, "x".to_string(), None)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_goes_away_runs_to_its_end() {
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (done, finished) = tokio::sync::oneshot::channel::<&str>();
    let work = crate::RunToEnd::new(async move {
        let _ = wait.await;
        let _ = done.send("committed");
        Ok::<_, DbError>(())
    });
    // The caller gives up while the work waits (a request cancelled mid-write).
    let gave_up = tokio::time::timeout(Duration::from_millis(20), work).await;
    assert!(gave_up.is_err(), "the work was still under way");
    go.send(()).unwrap();
    assert_eq!(
        finished.await.unwrap(),
        "committed",
        "and it finished all the same"
    );
}

#[tokio::test]
async fn a_write_that_panics_in_place_is_an_error_not_a_lost_request() {
    let got: Result<(), DbError> = crate::RunToEnd::new(async {
        if true {
            panic!("a bug in a write");
        }
        Ok(())
    })
    .await;
    assert!(matches!(got, Err(DbError::WriteFailed(_))), "{got:?}");
}

#[tokio::test]
async fn a_tenant_write_refuses_a_statement_or_record_that_does_not_bind_its_organisation() {
    let f = fixture();
    let org = uuid::Uuid::now_v7();
    let other = uuid::Uuid::now_v7();
    let (a, b) = (org, other);
    f.writer
        .write(None, move |tx| {
            Box::pin(async move {
                tx.execute("CREATE TABLE s (org_id BLOB NOT NULL, n INTEGER)", &[])
                    .await?;
                tx.execute(
                    "INSERT INTO s (org_id, n) VALUES ($1, 1), ($2, 2)",
                    &[a.into(), b.into()],
                )
                .await?;
                Ok::<_, DbError>(())
            })
        })
        .await
        .unwrap();
    let run = |text: &'static str, bind: uuid::Uuid| {
        f.writer.write(Some(org), move |tx| {
            Box::pin(async move { tx.execute(text, &[bind.into()]).await })
        })
    };
    assert_eq!(
        run("UPDATE s SET n = n + 10 WHERE org_id = $1", org)
            .await
            .unwrap(),
        1
    );
    for (text, bind) in [
        // Binds the organisation but filters by nothing of it.
        ("UPDATE s SET n = n + 10 WHERE n > length($1)", org),
        // Names org_id with another organisation's id.
        ("UPDATE s SET n = n + 10 WHERE org_id = $1", other),
    ] {
        let got = run(text, bind).await;
        assert!(matches!(got, Err(DbError::Unscoped(_))), "{text}: {got:?}");
    }
    let got = f
        .writer
        .write(Some(org), move |tx| {
            Box::pin(async move {
                let change = crate::Change::new(Some(other), "s.changed", "s", other);
                tx.record(&crate::Actor::system(), change).await
            })
        })
        .await;
    assert!(matches!(got, Err(DbError::Unscoped(_))), "{got:?}");
    let rows: Vec<(i64,)> = f.read.read("SELECT n FROM s ORDER BY n", &[]).unwrap();
    assert_eq!(
        rows,
        vec![(2,), (11,)],
        "only the scoped statement changed a row"
    );
}
