//! `mstation`: the one binary. `serve` runs the platform; `admin` manages organisations, users
//! and tokens from the command line, for scripts and operations.

mod agent;
mod cuts;
mod ingest;
mod mhl;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use mstation_core::{OrgKind, Role, TokenScope};
use mstation_store::identity::{NewOrg, NewUser, readable_password};
use mstation_store::{Actor, Store};

/// mimalloc gives memory a big write used back to the system once it is freed (glibc's
/// allocator keeps it for the process), so a large conform's peak does not stay.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mstation",
    version,
    about = "M-Station: the shared platform for film and TV production"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Folder for everything M-Station keeps on the embedded default (database, media).
    #[arg(long, env = "MSTATION_DATA", default_value = "mstation-data")]
    data: PathBuf,
    /// Metadata database: `postgres://…` to scale out; SQLite in the data folder when absent.
    #[arg(long, env = "MSTATION_DATABASE")]
    database: Option<String>,
    /// Where media blobs are kept: `s3://bucket` (or `s3://bucket/prefix`) on S3-compatible
    /// storage, its endpoint and keys from `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`; the data folder's `media` folder when absent.
    /// Uploads in flight are gathered in the data folder either way.
    #[arg(long, env = "MSTATION_STORAGE")]
    storage: Option<String>,
}

impl StoreArgs {
    async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating the data folder {}", self.data.display()))?;
        std::fs::create_dir_all(self.data.join("media"))?;
        let url = match &self.database {
            Some(u) => u.clone(),
            None => self.data.join("mstation.db").display().to_string(),
        };
        Store::open(&url)
            .await
            .with_context(|| "opening the metadata store")
    }

    /// The blob store: S3-compatible storage when `--storage` names it, else the data folder's
    /// `media` folder.
    fn blobs(&self) -> anyhow::Result<mstation_store::media::blobs::BlobStore> {
        use mstation_store::media::blobs::BlobStore;
        let root = self.data.join("media");
        match self.storage.as_deref() {
            Some(url) if url.starts_with("s3://") => {
                // Its requests go out over rustls.
                mstation_server::init_tls();
                BlobStore::s3(url, &root.join("uploads"))
                    .with_context(|| format!("opening the blob store {url}"))
            }
            Some(other) => bail!(
                "--storage takes s3://bucket (or leave it out for the data folder), not {other}"
            ),
            None => BlobStore::local(&root)
                .with_context(|| format!("opening the media folder {}", root.display())),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: API, pages, event stream and workers.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on.
        #[arg(long, env = "MSTATION_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Job workers inside this process (0 for an API-only node).
        #[arg(long, env = "MSTATION_WORKERS", default_value_t = 2)]
        workers: usize,
        /// Mark cookies Secure (when served over HTTPS).
        #[arg(long, env = "MSTATION_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Let webhooks reach loopback and private networks (closed installations, tests).
        #[arg(long, env = "MSTATION_ALLOW_PRIVATE_WEBHOOKS")]
        allow_private_webhooks: bool,
        /// A reverse proxy (address or network, such as 10.0.0.0/8) whose X-Forwarded-For
        /// names the client; repeat it, or list them with commas. None by default: the header
        /// is then ignored.
        #[arg(
            long = "trusted-proxy",
            env = "MSTATION_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<mstation_core::net::Cidr>,
        /// Keep `/metrics` to those who send this secret as `Authorization: Bearer …` (a
        /// Prometheus scraper); open to anyone who reaches the port when absent.
        #[arg(long, env = "MSTATION_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// The address people reach this server at, such as https://m-station.example.com:
        /// licence certificates print their verification address under it. Without it, a page
        /// names the address its request came to.
        #[arg(long, env = "MSTATION_PUBLIC_URL", value_parser = public_url)]
        public_url: Option<String>,
        /// The folder of the sentence model behind search by meaning (all-MiniLM-L6-v2, as
        /// `scripts/model` installs it): the data folder's models/all-MiniLM-L6-v2 when absent.
        /// Without the model, search by words works and search by meaning is refused.
        #[arg(long, env = "MSTATION_MODEL_DIR")]
        model_dir: Option<PathBuf>,
        /// Load the demo studio (a feature film in production, three companies) unless it is
        /// there already, and print its sign-in accounts.
        #[arg(long)]
        demo: bool,
    },
    /// Manage organisations, users and tokens directly in the store.
    Admin {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        what: AdminCommand,
    },
    /// Ingest a camera card (or any folder) into a project: every file read once, hashed
    /// (BLAKE3 for the platform, xxh64 for the card's ASC MHL history) and uploaded, then a new
    /// generation written into PATH/ascmhl. Run it again after an interruption: what arrived
    /// is not sent again.
    Ingest {
        path: PathBuf,
        /// The project, by its code or id.
        #[arg(long)]
        project: String,
        /// The platform's address.
        #[arg(long, env = "MSTATION_SERVER")]
        server: String,
        /// An API token with the write scope (`mstation admin create-token`, or your profile).
        #[arg(long, env = "MSTATION_TOKEN", hide_env_values = true)]
        token: String,
        /// Hash formats the history records besides xxh64, comma-separated: xxh3, xxh128,
        /// md5, sha1, c4.
        #[arg(short = 'H', long = "hash", default_value = "xxh64")]
        hash: String,
    },
    /// Run the platform's media jobs (probes, proxies) on this machine, pulled from a server's
    /// job queue over HTTP with leases and heartbeats; needs ffmpeg and ffprobe here.
    Agent {
        /// The platform's address.
        #[arg(long, env = "MSTATION_SERVER")]
        server: String,
        /// An API token of a platform operator that may manage its organisation (admin scope).
        #[arg(long, env = "MSTATION_TOKEN", hide_env_values = true)]
        token: String,
        /// This agent's name among the running agents (the host name and process id when
        /// absent).
        #[arg(long)]
        name: Option<String>,
        /// How many jobs it runs at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// How long a job stays this agent's without a heartbeat, in seconds (5 to 600).
        #[arg(long, default_value_t = 30)]
        lease: u64,
        /// Where sources and outputs are kept while a job runs.
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// Find where the shots of an edit or a reference movie change (hard cuts, fades through
    /// black, dissolves), each named by the first frame of the incoming shot; needs ffmpeg.
    Cuts {
        file: PathBuf,
        /// How to say them: a table, JSON, or a CMX 3600 EDL or an OTIO timeline with one event
        /// a shot, on the movie's own timecode.
        #[arg(long, value_enum, default_value = "text")]
        format: cuts::Format,
    },
    /// An ASC MHL v2 history of any folder: create a new generation, verify, or show it.
    Mhl {
        #[command(subcommand)]
        what: MhlCommand,
    },
}

#[derive(Subcommand)]
enum MhlCommand {
    /// Hash every file and write a new generation into PATH/ascmhl (a mismatch or a missing
    /// file still writes it, marked failed, and the command fails).
    Create {
        path: PathBuf,
        /// Hash formats besides xxh64, comma-separated: xxh3, xxh128, md5, sha1, c4.
        #[arg(short = 'H', long = "hash", default_value = "xxh64")]
        hash: String,
    },
    /// Check PATH against its history, naming every missing, new and mismatching file.
    Verify { path: PathBuf },
    /// Show the generations of PATH's history.
    Info { path: PathBuf },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (prints a one-time password unless --password is given).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: Option<String>,
        /// A platform operator may create organisations.
        #[arg(long)]
        operator: bool,
    },
    /// Create an organisation owned by an existing user.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
        /// production_company, post_house, vfx_studio, animation_studio, university, financier,
        /// distributor, platform_operator
        #[arg(long, default_value = "production_company")]
        kind: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Add an existing user to an organisation with a role.
    AddMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "artist")]
        role: String,
    },
    /// Create an API token for a member; prints the secret once.
    CreateToken {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "script")]
        name: String,
        /// Comma-separated: read, write, admin.
        #[arg(long, default_value = "read,write")]
        scopes: String,
    },
    /// Set how many bytes of media an organisation may keep (`none`: no limit).
    SetMediaQuota {
        #[arg(long)]
        org: String,
        /// Bytes, or with a unit: 500G, 2T (powers of 1000, as the pages show sizes); `none`
        /// for no limit.
        #[arg(long)]
        quota: String,
    },
    /// Set a new password for a user (prints it when --password is not given).
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Erase a person at their request, when they cannot do it themselves signed in: their
    /// name and e-mail address leave every record, their memberships, sessions, tokens and
    /// talent profiles go; what others rely on stays under an opaque id.
    EraseUser {
        #[arg(long)]
        email: String,
    },
}

/// The sentence model's arithmetic (candle) asks before every matrix product how many threads
/// to share it between; unless `RAYON_NUM_THREADS` says, it works that out from
/// `/proc/cpuinfo` each time: some 60 µs, thirty-six times for one query. `serve` sets the
/// variable to the cores it may use and becomes itself again (exec: the same process, the same
/// arguments), once; should that fail, it goes on as it is.
#[cfg(unix)]
fn settle_model_threads() {
    use std::os::unix::process::CommandExt;
    const THREADS: &str = "RAYON_NUM_THREADS";
    if std::env::var_os(THREADS).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        again.arg0(name);
    }
    let failed = again.args(args).env(THREADS, cores.to_string()).exec();
    tracing::warn!(error = %failed, "serve goes on without {THREADS}");
}

#[cfg(not(unix))]
fn settle_model_threads() {}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colours only for a person at a terminal: a log file or a pipe gets plain text.
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MSTATION_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info")
            }),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            store,
            listen,
            workers,
            secure_cookies,
            allow_private_webhooks,
            trusted_proxies,
            metrics_token,
            public_url,
            model_dir,
            demo,
        } => {
            settle_model_threads();
            let db = store.open().await?;
            first_start(&db).await?;
            if demo {
                load_demo(&db).await?;
            }
            let blobs = store.blobs()?;
            let state = mstation_server::AppState::with_options(
                db,
                blobs,
                secure_cookies,
                allow_private_webhooks,
                trusted_proxies,
            );
            if let Some(t) = metrics_token.filter(|t| !t.trim().is_empty()) {
                let _ = state.metrics_token.set(t.trim().to_string());
            }
            let model_dir = model_dir
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| store.data.join("models").join("all-MiniLM-L6-v2"));
            let with_model = mstation_server::model_at(&model_dir);
            match with_model {
                true => {
                    tracing::info!(model = %model_dir.display(), "search by meaning uses the sentence model")
                }
                false => {
                    tracing::info!(model = %model_dir.display(), "search by meaning is off: no sentence model there (scripts/model installs it)")
                }
            }
            let _ = state.model_dir.set(model_dir);
            if with_model {
                // Loaded now, so the first search by meaning does not wait for it.
                let s = state.clone();
                tokio::task::spawn_blocking(move || s.sentence_model());
            }
            if let Some(u) = public_url.filter(|u| !u.is_empty()) {
                let _ = state.public_url.set(u);
            }
            mstation_server::serve(
                state,
                mstation_server::Config {
                    listen,
                    secure_cookies,
                    workers,
                },
            )
            .await
        }
        Command::Admin { store, what } => admin(&store.open().await?, what).await,
        Command::Ingest {
            path,
            project,
            server,
            token,
            hash,
        } => {
            let code = ingest::run(ingest::Options {
                path,
                project,
                server,
                token,
                formats: mhl::asked_formats(&hash)?,
            })
            .await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Command::Agent {
            server,
            token,
            name,
            jobs,
            lease,
            work,
        } => {
            if !(5..=600).contains(&lease) {
                bail!("--lease is in seconds, from 5 to 600");
            }
            let name = name.unwrap_or_else(|| {
                let host = std::fs::read_to_string("/etc/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| "agent".into());
                format!("{host}-{}", std::process::id())
            });
            if name.is_empty()
                || name.len() > 90
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
            {
                bail!("--name takes letters, digits, ., _, : and - (at most 90)");
            }
            let work =
                work.unwrap_or_else(|| std::env::temp_dir().join(format!("mstation-agent-{name}")));
            agent::run(agent::Options {
                server,
                token,
                name,
                jobs,
                lease_ms: (lease * 1000) as i64,
                work,
            })
            .await
        }
        Command::Cuts { file, format } => cuts::run(&file, format).await,
        Command::Mhl { what } => {
            let bad = match what {
                MhlCommand::Create { path, hash } => {
                    mhl::create(&path, &mhl::asked_formats(&hash)?)?
                }
                MhlCommand::Verify { path } => mhl::verify(&path)?,
                MhlCommand::Info { path } => {
                    mhl::info(&path)?;
                    0
                }
            };
            if bad > 0 {
                // Each was named above; the exit status says it to scripts.
                eprintln!("{bad} files failed");
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Loads the demo studio and says how to sign in to it.
async fn load_demo(db: &Store) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    match mstation_server::demo::load(db).await? {
        None => println!("The demo studio is already loaded."),
        Some(l) => {
            println!(
                "Loaded the demo studio in {:.1} s: {} shots, {} tasks. Sign in as any of these, password {}:",
                started.elapsed().as_secs_f64(),
                l.shots,
                l.tasks,
                mstation_server::demo::PASSWORD
            );
            for (email, who) in l.accounts {
                println!("  {email:<34} {who}");
            }
        }
    }
    Ok(())
}

/// On the very first start, make the platform operator's organisation and its admin, and print
/// the admin's one-time password: the only time it is ever shown.
async fn first_start(store: &Store) -> anyhow::Result<()> {
    let db = store.platform();
    if db.user_count().await? > 0 {
        return Ok(());
    }
    let password = readable_password();
    let email =
        std::env::var("MSTATION_ADMIN_EMAIL").unwrap_or_else(|_| "admin@m-station.local".into());
    let created = db
        .bootstrap_platform(
            &Actor::system(),
            NewUser {
                email: email.clone(),
                display_name: "Platform admin".into(),
                password: password.clone(),
                locale: None,
                is_operator: true,
            },
            NewOrg {
                name: "M-Station Operations".into(),
                slug: Some("operations".into()),
                kind: OrgKind::PlatformOperator,
                timezone: None,
            },
        )
        .await?;
    if created.is_none() {
        // Another server on the same database made them a moment ago.
        return Ok(());
    }
    println!(
        "\n  First start: created the platform admin.\n    e-mail:   {email}\n    password: {password}\n  This password is shown only now. Sign in and change it.\n"
    );
    Ok(())
}

async fn admin(store: &Store, what: AdminCommand) -> anyhow::Result<()> {
    let db = store.platform();
    let actor = Actor::system();
    match what {
        AdminCommand::CreateUser {
            email,
            name,
            password,
            operator,
        } => {
            let shown = password.is_none();
            let password = password.unwrap_or_else(readable_password);
            let u = db
                .create_user(
                    &actor,
                    NewUser {
                        email,
                        display_name: name,
                        password: password.clone(),
                        locale: None,
                        is_operator: operator,
                    },
                )
                .await?;
            println!(
                "{}",
                serde_json::json!({"id": u.id, "email": u.email, "password": if shown { Some(password) } else { None }})
            );
        }
        AdminCommand::CreateOrg {
            name,
            slug,
            kind,
            owner_email,
            timezone,
        } => {
            let kind = OrgKind::parse(&kind)
                .with_context(|| format!("unknown organisation kind {kind:?}"))?;
            let owner = db
                .user_by_email(&owner_email)
                .await?
                .with_context(|| format!("no user with e-mail {owner_email}"))?;
            let o = db
                .create_org(
                    &actor,
                    NewOrg {
                        name,
                        slug,
                        kind,
                        timezone,
                    },
                    owner.id,
                )
                .await?;
            println!("{}", serde_json::json!({"id": o.id, "slug": o.slug}));
        }
        AdminCommand::AddMember { org, email, role } => {
            let org = db
                .org_by_slug(&org)
                .await?
                .with_context(|| format!("no organisation with slug {org}"))?;
            let user = db
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with e-mail {email}"))?;
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            db.add_member(&actor, org.id, user.id, role).await?;
            println!(
                "{}",
                serde_json::json!({"org_id": org.id, "user_id": user.id, "role": role})
            );
        }
        AdminCommand::CreateToken {
            org,
            email,
            name,
            scopes,
        } => {
            let org = db
                .org_by_slug(&org)
                .await?
                .with_context(|| format!("no organisation with slug {org}"))?;
            let user = db
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with e-mail {email}"))?;
            if db.role_in(user.id, org.id).await?.is_none() {
                bail!("{email} is not a member of {}", org.slug);
            }
            let scopes: Vec<TokenScope> = scopes
                .split(',')
                .map(|s| {
                    TokenScope::parse(s.trim()).with_context(|| format!("unknown scope {s:?}"))
                })
                .collect::<anyhow::Result<_>>()?;
            let (t, secret) = db
                .create_token_for(&actor, org.id, user.id, &name, &scopes, None)
                .await?;
            println!("{}", serde_json::json!({"id": t.id, "secret": secret}));
        }
        AdminCommand::SetMediaQuota { org, quota } => {
            let org = db
                .org_by_slug(&org)
                .await?
                .with_context(|| format!("no organisation with slug {org}"))?;
            let bytes = parse_bytes(&quota)?;
            db.set_media_quota(&actor, org.id, bytes).await?;
            match bytes {
                Some(b) => println!("{} may keep {b} bytes of media", org.slug),
                None => println!("{} may keep media without limit", org.slug),
            }
        }
        AdminCommand::ResetPassword { email, password } => {
            let user = db
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with e-mail {email}"))?;
            if user.email.ends_with("@erased.invalid") {
                anyhow::bail!("{email} was erased at its person's word: it cannot sign in again");
            }
            let shown = password.is_none();
            let password = password.unwrap_or_else(readable_password);
            db.reset_password(user.id, &password).await?;
            println!(
                "{}",
                serde_json::json!({"id": user.id, "password": if shown { Some(password) } else { None }})
            );
        }
        AdminCommand::EraseUser { email } => {
            let user = db
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with e-mail {email}"))?;
            let erased = db.erase_person_for_operator(user.id).await?;
            println!("{}", serde_json::to_string(&erased)?);
        }
    }
    Ok(())
}

/// `500G`, `2T`, `1000000` (powers of 1000, as the pages show sizes) as bytes; `none` as no
/// limit.
fn parse_bytes(text: &str) -> anyhow::Result<Option<i64>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let unit: i64 = match c.to_ascii_uppercase() {
                'K' => 1_000,
                'M' => 1_000_000,
                'G' => 1_000_000_000,
                'T' => 1_000_000_000_000,
                _ => bail!("{text:?}: a unit is K, M, G or T"),
            };
            (&t[..i], unit)
        }
        _ => (t, 1),
    };
    let n: i64 = digits
        .parse()
        .with_context(|| format!("{text:?} is not a number of bytes"))?;
    n.checked_mul(unit)
        .filter(|b| *b >= 0)
        .map(Some)
        .with_context(|| format!("{text:?} is out of range"))
}

/// `--public-url`: an http(s) address of a host, without a path, query or spaces; kept without
/// its trailing slash. Empty is none (an unset variable in a service file).
fn public_url(v: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    if v.is_empty() {
        return Ok(String::new());
    }
    let host = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or("it must start with https:// or http://")?;
    let fine = |b: u8| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b);
    if host.is_empty() || !host.bytes().all(fine) {
        return Err("it must be a scheme and a host (and port), with no path".into());
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::public_url;

    #[test]
    fn a_public_url_is_a_scheme_and_a_host() {
        assert_eq!(
            public_url("https://m-station.example.com/").as_deref(),
            Ok("https://m-station.example.com")
        );
        assert_eq!(
            public_url("http://10.0.0.5:8080").as_deref(),
            Ok("http://10.0.0.5:8080")
        );
        for bad in [
            "m-station.example.com",
            "https://",
            "https://a.example/x",
            "ftp://a",
            "https://a b",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }

    use super::parse_bytes;

    #[test]
    fn quotas_read_in_bytes_or_units() {
        assert_eq!(parse_bytes("none").unwrap(), None);
        assert_eq!(parse_bytes("1048576").unwrap(), Some(1 << 20));
        assert_eq!(parse_bytes("500G").unwrap(), Some(500_000_000_000));
        assert_eq!(parse_bytes("2t").unwrap(), Some(2_000_000_000_000));
        for bad in ["", "-1", "12X", "G", "99999999999T", "1.5G"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
    }
}
