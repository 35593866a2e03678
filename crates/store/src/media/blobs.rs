//! The blob store: the bytes of media, addressed by their BLAKE3 hash, through `object_store`
//! (a local folder by default). An upload's bytes are kept in a staging folder of their own
//! until complete, then hashed in full and put under their hash: a blob is never in the store
//! under a name its bytes do not hash to.
//!
//! Layout: `<root>/blobs/ab/cd/abcd…` (the hash's first two bytes fan the folders out) and
//! `<root>/uploads/<upload id>` for uploads in flight.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

/// How much of a file one read or one put of a blob carries.
const PIECE: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    #[error("blob store: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob store: {0}")]
    Config(String),
}

/// Where media bytes are kept.
#[derive(Clone)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
    staging: PathBuf,
    /// The folder of the blobs, when they are local files: a finished upload is linked there
    /// instead of copied.
    local: Option<PathBuf>,
    /// The bucket and the prefix inside it, when the blobs are kept in S3: what signs an address
    /// a remote agent reads a blob from, straight from the bucket.
    s3: Option<(object_store::aws::AmazonS3, String)>,
}

/// A blob's bytes, piece by piece.
pub type BlobStream = futures_util::stream::BoxStream<'static, Result<bytes::Bytes, BlobError>>;

impl BlobStore {
    /// The blob store in the local folder `root` (created if missing).
    pub fn local(root: &Path) -> Result<BlobStore, BlobError> {
        let blobs = root.join("blobs");
        let staging = root.join("uploads");
        std::fs::create_dir_all(&blobs)?;
        std::fs::create_dir_all(&staging)?;
        Ok(BlobStore {
            objects: Arc::new(LocalFileSystem::new_with_prefix(&blobs)?),
            staging,
            local: Some(blobs),
            s3: None,
        })
    }

    /// The blob store in an S3-compatible bucket, `s3://bucket` or `s3://bucket/prefix`; the
    /// endpoint and keys come from the environment (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`; `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
    /// Uploads in flight are gathered in the local folder `staging` (created if missing).
    pub fn s3(url: &str, staging: &Path) -> Result<BlobStore, BlobError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| BlobError::Config(format!("{url} is not an s3:// address")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::Config(format!("{url} names no bucket")));
        }
        // No limit on a whole request: a proxy played slowly, or a camera file copied for a
        // tool, streams for as long as it takes; a connection that stalls is cut instead.
        let client = object_store::ClientOptions::new()
            .with_timeout_disabled()
            .with_connect_timeout(std::time::Duration::from_secs(10))
            .with_read_timeout(std::time::Duration::from_secs(60));
        // The environment's AWS_ settings (endpoint, keys, region, AWS_ALLOW_HTTP, a proxy, a
        // timeout of its own) apply over these, as `from_env` would apply them.
        let mut builder = object_store::aws::AmazonS3Builder::new().with_client_options(client);
        for (key, value) in std::env::vars_os() {
            if let (Some(key), Some(value)) = (key.to_str(), value.to_str())
                && key.starts_with("AWS_")
                && let Ok(k) = key
                    .to_ascii_lowercase()
                    .parse::<object_store::aws::AmazonS3ConfigKey>()
            {
                builder = builder.with_config(k, value);
            }
        }
        let s3 = builder.with_bucket_name(bucket).build()?;
        let prefix = prefix.trim_matches('/').to_string();
        let objects: Arc<dyn ObjectStore> = match prefix.as_str() {
            "" => Arc::new(s3.clone()),
            p => Arc::new(object_store::prefix::PrefixStore::new(s3.clone(), p)),
        };
        std::fs::create_dir_all(staging)?;
        Ok(BlobStore {
            objects,
            staging: staging.to_path_buf(),
            local: None,
            s3: Some((s3, prefix)),
        })
    }

    /// An address that reads the blob `hash` straight from the S3 bucket for `valid_for`, signed
    /// with the store's keys (SigV4 in the query); none when the blobs are not in S3.
    pub async fn signed_read(
        &self,
        hash: &str,
        valid_for: std::time::Duration,
    ) -> Result<Option<String>, BlobError> {
        use object_store::signer::Signer;
        let Some((s3, prefix)) = &self.s3 else {
            return Ok(None);
        };
        let path = match prefix.as_str() {
            "" => Self::path(hash),
            p => ObjectPath::from(format!("{p}/{}", Self::path(hash))),
        };
        let url = s3
            .signed_url(object_store::signer::Method::GET, &path, valid_for)
            .await?;
        Ok(Some(url.to_string()))
    }

    /// The file an upload's bytes are gathered in until it is complete.
    pub fn staging_file(&self, upload: Uuid) -> PathBuf {
        self.staging.join(upload.simple().to_string())
    }

    fn path(hash: &str) -> ObjectPath {
        ObjectPath::from(format!("{}/{}/{hash}", &hash[0..2], &hash[2..4]))
    }

    /// Puts the file at `file` (of `size` bytes, hashed to `hash`) in the store as the blob
    /// `hash`: in a local store a second name of the same file (no copy; `file` may then be
    /// deleted, and is never written again), else a piece at a time.
    pub async fn put_file(&self, hash: &str, file: &Path, size: i64) -> Result<(), BlobError> {
        if let Some(root) = &self.local {
            let target = root.join(Self::path(hash).as_ref());
            let (from, dir) = (file.to_path_buf(), target.parent().map(Path::to_path_buf));
            let linked = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
                if let Some(d) = &dir {
                    std::fs::create_dir_all(d)?;
                }
                match std::fs::hard_link(&from, &target) {
                    Ok(()) => {}
                    // The same bytes are there already, unless a crash left a wrong file.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if std::fs::metadata(&target)?.len() != size as u64 {
                            std::fs::remove_file(&target)?;
                            std::fs::hard_link(&from, &target)?;
                        }
                    }
                    // A file system without hard links: copied below.
                    Err(_) => return Ok(false),
                }
                // The new name lasts a crash.
                if let Some(d) = &dir {
                    std::fs::File::open(d)?.sync_all()?;
                }
                Ok(true)
            })
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
            if linked {
                return Ok(());
            }
        }
        // Parts of 8 MiB, larger for files past 80 GiB: S3 takes at most 10,000 parts.
        let piece = PIECE.max(
            (size.max(0) as usize)
                .div_ceil(9_000)
                .next_multiple_of(1 << 20),
        );
        let mut upload = self.objects.put_multipart(&Self::path(hash)).await?;
        let sent = async {
            let mut f = tokio::fs::File::open(file).await?;
            loop {
                let mut part = vec![0u8; piece];
                let mut filled = 0;
                while filled < piece {
                    let n = tokio::io::AsyncReadExt::read(&mut f, &mut part[filled..]).await?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    break;
                }
                part.truncate(filled);
                upload.put_part(PutPayload::from(part)).await?;
                if filled < piece {
                    break;
                }
            }
            upload.complete().await?;
            Ok::<(), BlobError>(())
        };
        let outcome = sent.await;
        if outcome.is_err() {
            // Parts already sent are not left in the bucket.
            let _ = upload.abort().await;
        }
        outcome
    }

    /// The bytes `from..to` (end excluded) of the blob `hash`.
    pub async fn get_range(&self, hash: &str, from: u64, to: u64) -> Result<BlobStream, BlobError> {
        let opts = object_store::GetOptions::default().with_range(Some(from..to));
        let got = self.objects.get_opts(&Self::path(hash), opts).await?;
        Ok(got
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed())
    }

    /// The bytes of the blob `hash`.
    pub async fn get(&self, hash: &str) -> Result<BlobStream, BlobError> {
        let got = self.objects.get(&Self::path(hash)).await?;
        Ok(got
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed())
    }

    /// A file holding the blob `hash` for a tool to read (ffprobe, ffmpeg): the blob itself in a
    /// local store, else a copy in the staging folder, deleted when the answer is dropped.
    pub async fn readable(&self, hash: &str) -> Result<Readable, BlobError> {
        if let Some(root) = &self.local {
            return Ok(Readable {
                path: root.join(Self::path(hash).as_ref()),
                temporary: false,
            });
        }
        let path = self
            .staging
            .join(format!("read-{}-{}", &hash[..16], Uuid::now_v7().simple()));
        // Deleted when dropped, also when the copy fails half-way.
        let copy = Readable {
            path,
            temporary: true,
        };
        let mut out = tokio::fs::File::create(&copy.path).await?;
        let mut bytes = self.get(hash).await?;
        while let Some(piece) = bytes.next().await {
            tokio::io::AsyncWriteExt::write_all(&mut out, &piece?).await?;
        }
        // Every byte on disk before a tool opens it.
        tokio::io::AsyncWriteExt::flush(&mut out).await?;
        out.sync_all().await?;
        Ok(copy)
    }

    /// Deletes the blob `hash` (after the database forgot it).
    pub async fn delete(&self, hash: &str) -> Result<(), BlobError> {
        match self.objects.delete(&Self::path(hash)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an upload's staging file, if there is one.
    pub async fn drop_staging(&self, upload: Uuid) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.staging_file(upload)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// The BLAKE3 hash (64 hex digits) and size of the first `length` bytes of `file`, read once, off
/// the async threads. Fails if the file holds fewer.
pub async fn hash_file(file: PathBuf, length: u64) -> Result<String, BlobError> {
    tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&file)?;
        let mut hasher = blake3::Hasher::new();
        let mut limited = f.take(length);
        let copied = std::io::copy(&mut limited, &mut hasher)?;
        if copied != length {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} holds {copied} of {length} bytes", file.display()),
            )
            .into());
        }
        Ok(hasher.finalize().to_hex().to_string())
    })
    .await
    .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
}

/// The BLAKE3 hash and the xxh64 (16 hex digits, as ASC MHL writes it) of the first `length`
/// bytes of `file`, read once, off the async threads. Fails if the file holds fewer.
pub async fn hash_file_xxh64(file: PathBuf, length: u64) -> Result<(String, String), BlobError> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&file)?.take(length);
        let mut blake = blake3::Hasher::new();
        let mut xxh = mstation_core::media::mhl::Hasher::new(["xxh64"]);
        let mut buf = vec![0u8; 1 << 20];
        let mut copied = 0u64;
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)?;
            if n == 0 {
                break;
            }
            blake.update(&buf[..n]);
            xxh.update(&buf[..n]);
            copied += n as u64;
        }
        if copied != length {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} holds {copied} of {length} bytes", file.display()),
            )
            .into());
        }
        let xxh64 = xxh.finish().remove("xxh64").unwrap_or_default();
        Ok((blake.finalize().to_hex().to_string(), xxh64))
    })
    .await
    .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
}

/// A blob as a file on this machine (`BlobStore::readable`).
pub struct Readable {
    pub path: PathBuf,
    temporary: bool,
}

impl Readable {
    /// Whether this is a copy made for the tool (deleted when dropped), not the blob itself.
    pub fn is_copy(&self) -> bool {
        self.temporary
    }
}

impl Drop for Readable {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
