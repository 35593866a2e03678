//! The first start of servers that share one PostgreSQL database (several `serve` processes
//! behind one load balancer, started together on an empty database).

use std::io::Read;
use std::process::Stdio;

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_started_at_once_on_an_empty_database_all_run_and_one_makes_the_admin() {
    mstation_server::init_tls();
    let Some(pg) = pg_database().await else {
        return;
    };
    let dirs: Vec<_> = (0..3)
        .map(|i| std::env::temp_dir().join(format!("mstation-first-{i}-{}", uuid::Uuid::now_v7())))
        .collect();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut servers: Vec<_> = dirs
        .iter()
        .zip(&ports)
        .map(|(dir, port)| serve_to(dir, Some(&pg), *port, Stdio::piped()))
        .collect();
    for port in &ports {
        wait_ready(&format!("http://127.0.0.1:{port}")).await;
    }
    let mut banners = 0;
    for s in &mut servers {
        assert!(
            s.try_wait().unwrap().is_none(),
            "every server is still running"
        );
        s.kill().unwrap();
        s.wait().unwrap();
        let mut out = String::new();
        s.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        banners += out
            .matches("First start: created the platform admin")
            .count();
    }
    assert_eq!(
        banners, 1,
        "exactly one server made the admin and showed its password"
    );
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `serve` says where to open it, in plain text when its output is not a terminal (a log file,
/// a service manager), with the log lines at INFO.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_says_where_to_open_it_without_colour_codes_in_a_pipe() {
    mstation_server::init_tls();
    let dir = std::env::temp_dir().join(format!("mstation-open-{}", uuid::Uuid::now_v7()));
    let port = free_port();
    let mut s = std::process::Command::new(BIN)
        .args(["serve", "--data"])
        .arg(&dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("MSTATION_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&format!("http://127.0.0.1:{port}")).await;
    s.kill().unwrap();
    s.wait().unwrap();
    let mut out = String::new();
    s.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(
        out.contains(&format!("Open http://127.0.0.1:{port}")),
        "{out}"
    );
    assert!(
        out.contains("M-Station is listening"),
        "the log is there too: {out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "no terminal colour codes in a pipe: {out:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
