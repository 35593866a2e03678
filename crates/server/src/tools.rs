//! The media tools M-Station runs (ffprobe and ffmpeg, from the system's packages), all spawned
//! here: each with a time limit, killed if its caller goes away (and by the kernel if the process
//! that started it dies, even by `kill -9`), and its error output kept for the reason a job
//! failed.

use std::time::Duration;

use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{0} is not installed on this machine (install the ffmpeg package)")]
    Missing(&'static str),
    #[error("{tool} did not finish within {secs} s")]
    TimedOut { tool: &'static str, secs: u64 },
    #[error("{tool} failed: {stderr}")]
    Failed { tool: &'static str, stderr: String },
    #[error("{tool} was killed before it finished")]
    Killed { tool: &'static str },
    #[error("the tool's working folder could not be made: {0}")]
    Folder(#[from] std::io::Error),
    #[error("{tool} could not be started: {source}")]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
}

/// The exit code of `setpriv` when the program it is to run does not exist (util-linux's
/// `EX_EXEC_ENOENT`).
const EXEC_NOT_FOUND: i32 = 127;

/// Whether `setpriv` (util-linux) is here to start tools.
static PDEATHSIG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The command that starts `tool`. Through `setpriv --pdeathsig KILL` where it is installed
/// (every Debian and most Linux systems): the kernel kills the tool when the thread that started
/// it dies, so a server or agent killed mid-job (kill -9, the out-of-memory killer) leaves no
/// ffmpeg running on, orphaned; ffmpeg ignores the broken pipes it would otherwise notice. The
/// tools are started on the runtime's worker threads, which live as long as the process.
fn command(tool: &'static str) -> Command {
    let wrap = *PDEATHSIG.get_or_init(|| {
        std::process::Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if wrap {
        let mut c = Command::new("setpriv");
        c.args(["--pdeathsig", "KILL", "--", tool]);
        c
    } else {
        Command::new(tool)
    }
}

/// Starts `tool` as `c` says: no input, its output and error output piped to us, killed when
/// dropped, in a process group of its own (a Ctrl-C meant for the process running it, an agent
/// stopping gracefully, does not kill the tool half-way).
fn spawn(tool: &'static str, mut c: Command) -> Result<tokio::process::Child, ToolError> {
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ToolError::Missing(tool),
            _ => ToolError::Spawn { tool, source },
        })
}

/// Runs `tool` with `args`, answering its standard output; a non-zero exit is `Failed` with its
/// error output.
pub async fn run(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    limit: Duration,
) -> Result<Vec<u8>, ToolError> {
    let mut c = command(tool);
    c.args(args);
    let child = spawn(tool, c)?;
    let out = match tokio::time::timeout(limit, child.wait_with_output()).await {
        // The child is killed as it is dropped.
        Err(_) => {
            return Err(ToolError::TimedOut {
                tool,
                secs: limit.as_secs(),
            });
        }
        Ok(out) => out.map_err(|source| ToolError::Spawn { tool, source })?,
    };
    if out.status.success() {
        Ok(out.stdout)
    } else if out.status.code() == Some(EXEC_NOT_FOUND) && PDEATHSIG.get() == Some(&true) {
        // `setpriv` found no tool to run.
        Err(ToolError::Missing(tool))
    } else if out.status.code().is_none() {
        // Killed by a signal (an operator, the out-of-memory killer): not the file's fault.
        Err(ToolError::Killed { tool })
    } else {
        Err(ToolError::Failed {
            tool,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// What ffprobe says of the file at `path`, as its JSON.
pub async fn ffprobe(path: &std::path::Path) -> Result<Vec<u8>, ToolError> {
    let args: [&std::ffi::OsStr; 10] = [
        "-v".as_ref(),
        "error".as_ref(),
        // A blob is a file: no playlist in it may send ffprobe anywhere else.
        "-protocol_whitelist".as_ref(),
        "file".as_ref(),
        "-print_format".as_ref(),
        "json".as_ref(),
        "-show_format".as_ref(),
        "-show_streams".as_ref(),
        "-i".as_ref(),
        path.as_os_str(),
    ];
    run("ffprobe", &args, Duration::from_secs(60)).await
}

/// Runs ffmpeg with `args` (its input and output among them).
pub async fn ffmpeg(args: &[&std::ffi::OsStr], limit: Duration) -> Result<(), ToolError> {
    run("ffmpeg", args, limit).await.map(|_| ())
}

/// Decodes the first picture stream of the file at `path` to small pictures, `width` by `height`
/// in `rgb24` (whatever the picture's own size and aspect), handing each to `each` in order, and
/// answers how many there were. The decoding stops with an error after `limit`.
pub async fn frames(
    path: &std::path::Path,
    width: usize,
    height: usize,
    limit: Duration,
    mut each: impl FnMut(&[u8]),
) -> Result<i64, ToolError> {
    use tokio::io::AsyncReadExt;
    let tool = "ffmpeg";
    let scale = format!("scale={width}:{height}:flags=area,format=rgb24");
    let mut c = command(tool);
    c.args([
        "-v",
        "error",
        "-nostdin",
        "-protocol_whitelist",
        "file",
        "-i",
    ])
    .arg(path)
    // The first picture stream that moves (`V`: not a cover picture).
    .args(["-map", "0:V:0", "-an", "-sn", "-dn", "-vf", &scale])
    .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
    let mut child = spawn(tool, c)?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    // Its error output, read as it comes (a full pipe would stall it), the first 64 KB kept.
    let said = tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if kept.len() < 65_536 {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        kept
    });
    let read = async {
        let mut frame = vec![0u8; width * height * 3];
        let mut count = 0i64;
        loop {
            match out.read_exact(&mut frame).await {
                Ok(_) => {
                    each(&frame);
                    count += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(source) => return Err(ToolError::Spawn { tool, source }),
            }
        }
        let status = child
            .wait()
            .await
            .map_err(|source| ToolError::Spawn { tool, source })?;
        Ok((count, status))
    };
    let (count, status) = match tokio::time::timeout(limit, read).await {
        Err(_) => {
            return Err(ToolError::TimedOut {
                tool,
                secs: limit.as_secs(),
            });
        }
        Ok(r) => r?,
    };
    let stderr = String::from_utf8_lossy(&said.await.unwrap_or_default()).into_owned();
    if status.success() {
        Ok(count)
    } else if status.code() == Some(EXEC_NOT_FOUND) && PDEATHSIG.get() == Some(&true) {
        Err(ToolError::Missing(tool))
    } else if status.code().is_none() {
        Err(ToolError::Killed { tool })
    } else {
        Err(ToolError::Failed { tool, stderr })
    }
}
