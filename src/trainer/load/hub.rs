//! Optional download of a model from the Hugging Face Hub by id (`owner/name[@revision]`)
//! into the standard Hugging Face cache layout (`$HF_HOME/hub/models--owner--name/
//! snapshots/<commit>/…`), so files fetched by Python's huggingface_hub are reused and
//! vice versa. Nothing else in the trainer needs the network; tests use a local server.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Files smaller than this download without a progress bar.
const PROGRESS_MIN_BYTES: u64 = 8 * 1024 * 1024;
const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
const DEFAULT_REVISION: &str = "main";
const INDEX_FILE: &str = "model.safetensors.index.json";
const SINGLE_WEIGHTS_FILE: &str = "model.safetensors";
const REQUIRED_FILES: &[&str] = &["config.json", "tokenizer.json"];
const OPTIONAL_FILES: &[&str] = &["tokenizer_config.json", "generation_config.json"];

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{repo}@{revision}: file `{file}` not found on the Hub (404; is the repo id right?)")]
    NotFound { repo: String, revision: String, file: String },
    #[error("{repo}: access to `{file}` denied (HTTP {status}); for a gated or private repo set HF_TOKEN")]
    Unauthorized { repo: String, file: String, status: u16 },
    #[error("{url}: HTTP {status}")]
    Http { url: String, status: u16 },
    #[error("{url}: network error: {source}")]
    Network { url: String, source: Box<ureq::Error> },
    #[error("{url}: download interrupted: {source}")]
    Interrupted { url: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not found (no such file or folder){}", hub_hint(.path))]
    LocalNotFound { path: PathBuf },
    #[error("`{arg}` is not a Hub model id (hf:owner/name or hf:owner/name@revision)")]
    InvalidId { arg: String },
    #[error("{path}: invalid shard index: {message}")]
    InvalidIndex { path: PathBuf, message: String },
    #[error("{repo}@{revision}: offline (HF_HUB_OFFLINE) and `{file}` is not in the cache at {cache}")]
    Offline { repo: String, revision: String, file: String, cache: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
    move |source| HubError::Io { path: path.to_path_buf(), source }
}

/// Where and how to reach the Hub. [`HubSettings::from_env`] reads the usual variables;
/// tests build one directly so parallel tests never share process-global state.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// `HF_ENDPOINT`, default `https://huggingface.co` (no trailing slash).
    pub endpoint: String,
    /// The `hub` cache folder: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    pub cache_dir: PathBuf,
    /// `HF_TOKEN`, sent as `Authorization: Bearer`.
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE=1`: use the cache only.
    pub offline: bool,
    /// How downloads show their progress.
    pub progress: DownloadProgress,
}

/// `report(file, bytes received, total bytes if known)`.
pub type ProgressReport = std::sync::Arc<dyn Fn(&str, u64, Option<u64>) + Send + Sync>;

/// Where a download's progress goes.
#[derive(Clone, Default)]
pub enum DownloadProgress {
    #[default]
    Silent,
    /// Progress bars on stderr (the command line, when stderr is a terminal).
    Terminal,
    /// `report(file, bytes received, total bytes if known)` after every chunk (a game's progress bar).
    Report(ProgressReport),
}

impl std::fmt::Debug for DownloadProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DownloadProgress::Silent => "Silent",
            DownloadProgress::Terminal => "Terminal",
            DownloadProgress::Report(_) => "Report(..)",
        })
    }
}

impl HubSettings {
    pub fn from_env() -> HubSettings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let cache_dir = if let Some(dir) = var("HF_HUB_CACHE") {
            PathBuf::from(dir)
        } else if let Some(home) = var("HF_HOME") {
            PathBuf::from(home).join("hub")
        } else {
            let home =
                directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()).unwrap_or_else(|| PathBuf::from("."));
            home.join(".cache").join("huggingface").join("hub")
        };
        let offline = var("HF_HUB_OFFLINE")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
        HubSettings {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            cache_dir,
            token: var("HF_TOKEN"),
            offline,
            progress: match std::io::stderr().is_terminal() {
                true => DownloadProgress::Terminal,
                false => DownloadProgress::Silent,
            },
        }
    }
}

/// A Hub model id split into repo and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubId {
    pub repo: String,
    pub revision: String,
}

fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with('.')
        && !part.starts_with('-')
        && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parses `owner/name` or `owner/name@revision`; `None` for anything else (paths, files).
pub fn parse_hub_id(arg: &str) -> Option<HubId> {
    let (repo, revision) = match arg.split_once('@') {
        Some((repo, rev)) => (repo, rev),
        None => (arg, DEFAULT_REVISION),
    };
    let (owner, name) = repo.split_once('/')?;
    let revision_ok = !revision.is_empty()
        && !revision.contains("..")
        && revision.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    (valid_part(owner) && valid_part(name) && revision_ok)
        .then(|| HubId { repo: repo.to_string(), revision: revision.to_string() })
}

/// Whether `arg` looks like a Hub model id (`owner/name`, optional `@revision`, or `hf:` before it).
pub fn is_hub_id(arg: &str) -> bool {
    parse_hub_id(arg.strip_prefix(HUB_PREFIX).unwrap_or(arg)).is_some()
}

/// Asks for the Hub explicitly, whatever is on disk: `hf:owner/name`.
pub const HUB_PREFIX: &str = "hf:";

/// For a missing local path that could also be read as a Hub id: how to ask for the Hub.
fn hub_hint(path: &Path) -> String {
    let text = path.to_string_lossy();
    match parse_hub_id(&text) {
        Some(_) => format!("; to download `{text}` from the Hugging Face Hub instead, pass {HUB_PREFIX}{text}"),
        None => String::new(),
    }
}

/// Whether a `--model` argument reads as a local path rather than a Hub id: it is absolute or
/// relative (`/`, `./`, `../`, `~`), names a model file, or its first folder exists here
/// (`models/nothere` beside a `models/` folder).
fn looks_like_path(arg: &str) -> bool {
    let path = Path::new(arg);
    let first = path.components().next().map(|c| Path::new(c.as_os_str()).to_path_buf());
    arg.starts_with(['/', '.', '~', '\\'])
        || arg.contains('\\')
        || [".gguf", ".safetensors", ".json"].iter().any(|ext| arg.ends_with(ext))
        || (path.components().count() > 1 && first.is_some_and(|f| f.is_dir()))
}

/// What a `--model` argument names: a local path, or a Hub model to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelArg {
    Local(PathBuf),
    Hub(HubId),
}

/// Reads a `--model` argument: `hf:owner/name` is the Hub; an existing path is that path; a
/// missing one that reads as a path is "not found" (never a network error); `owner/name` is the
/// Hub; anything else is left to the loader to report.
pub fn classify_model_arg(arg: &str) -> Result<ModelArg, HubError> {
    if let Some(id) = arg.strip_prefix(HUB_PREFIX) {
        return parse_hub_id(id).map(ModelArg::Hub).ok_or_else(|| HubError::InvalidId { arg: arg.to_string() });
    }
    let path = PathBuf::from(arg);
    if path.exists() {
        return Ok(ModelArg::Local(path));
    }
    if looks_like_path(arg) {
        return Err(HubError::LocalNotFound { path });
    }
    Ok(parse_hub_id(arg).map_or(ModelArg::Local(path), ModelArg::Hub))
}

/// `--model` → a local path: an existing path as is; a Hub id → its downloaded snapshot
/// folder (settings from the environment); anything else as is (the loader reports it).
pub fn resolve_model(arg: &str) -> Result<PathBuf, HubError> {
    resolve_model_with(arg, &HubSettings::from_env())
}

/// [`resolve_model`] with explicit settings.
pub fn resolve_model_with(arg: &str, settings: &HubSettings) -> Result<PathBuf, HubError> {
    match classify_model_arg(arg)? {
        ModelArg::Local(path) => Ok(path),
        ModelArg::Hub(id) => download_model(&id, settings),
    }
}

fn repo_folder(settings: &HubSettings, repo: &str) -> PathBuf {
    settings.cache_dir.join(format!("models--{}", repo.replace('/', "--")))
}

fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}

/// The snapshot folder a revision points to, if it is known locally.
fn cached_snapshot(repo_dir: &Path, revision: &str) -> Option<PathBuf> {
    let commit = if is_commit_hash(revision) {
        revision.to_string()
    } else {
        std::fs::read_to_string(repo_dir.join("refs").join(revision)).ok()?.trim().to_string()
    };
    let dir = repo_dir.join("snapshots").join(commit);
    dir.is_dir().then_some(dir)
}

/// Shard file names listed by an index, sorted and deduplicated.
fn shards_of_index(index_path: &Path) -> Result<Vec<String>, HubError> {
    let text = std::fs::read_to_string(index_path).map_err(io_err(index_path))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| HubError::InvalidIndex { path: index_path.to_path_buf(), message: e.to_string() })?;
    let map = value.get("weight_map").and_then(|m| m.as_object()).ok_or_else(|| HubError::InvalidIndex {
        path: index_path.to_path_buf(),
        message: "no `weight_map` object".into(),
    })?;
    let mut shards = Vec::new();
    for (tensor, file) in map {
        let file = file.as_str().filter(|f| valid_part(f)).ok_or_else(|| HubError::InvalidIndex {
            path: index_path.to_path_buf(),
            message: format!("`{tensor}` maps to {file}, not a file name"),
        })?;
        shards.push(file.to_string());
    }
    shards.sort();
    shards.dedup();
    Ok(shards)
}

/// The first required file a snapshot lacks, or `None` when it is complete.
fn missing_in_snapshot(dir: &Path) -> Result<Option<String>, HubError> {
    for file in REQUIRED_FILES {
        if !dir.join(file).is_file() {
            return Ok(Some(file.to_string()));
        }
    }
    if dir.join(SINGLE_WEIGHTS_FILE).is_file() {
        return Ok(None);
    }
    let index = dir.join(INDEX_FILE);
    if !index.is_file() {
        return Ok(Some(SINGLE_WEIGHTS_FILE.to_string()));
    }
    Ok(shards_of_index(&index)?.into_iter().find(|shard| !dir.join(shard).is_file()))
}

/// Downloads (or finds in the cache) what the HF-folder loader reads; returns the snapshot folder.
pub fn download_model(id: &HubId, settings: &HubSettings) -> Result<PathBuf, HubError> {
    let repo_dir = repo_folder(settings, &id.repo);
    if let Some(dir) = cached_snapshot(&repo_dir, &id.revision) {
        match missing_in_snapshot(&dir)? {
            None => {
                tracing::info!(repo = %id.repo, revision = %id.revision, dir = %dir.display(), "model found in the Hugging Face cache");
                return Ok(dir);
            }
            Some(file) if settings.offline => {
                return Err(HubError::Offline {
                    repo: id.repo.clone(),
                    revision: id.revision.clone(),
                    file,
                    cache: dir,
                });
            }
            Some(_) => {}
        }
    } else if settings.offline {
        return Err(HubError::Offline {
            repo: id.repo.clone(),
            revision: id.revision.clone(),
            file: REQUIRED_FILES[0].to_string(),
            cache: repo_dir,
        });
    }
    Downloader::new(id, settings, repo_dir).run()
}

/// One snapshot download: learns the commit from the first response, then fetches into it.
struct Downloader<'a> {
    id: &'a HubId,
    settings: &'a HubSettings,
    agent: ureq::Agent,
    repo_dir: PathBuf,
    snapshot: Option<PathBuf>,
}

enum Fetched {
    Done,
    Missing,
}

impl<'a> Downloader<'a> {
    fn new(id: &'a HubId, settings: &'a HubSettings, repo_dir: PathBuf) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(std::time::Duration::from_secs(30)))
            .timeout_per_read(Some(std::time::Duration::from_secs(120)))
            .user_agent(concat!("lora-arcade/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Downloader { id, settings, agent, repo_dir, snapshot: None }
    }

    fn run(mut self) -> Result<PathBuf, HubError> {
        tracing::info!(repo = %self.id.repo, revision = %self.id.revision, endpoint = %self.settings.endpoint, "downloading model from the Hugging Face Hub");
        for file in REQUIRED_FILES {
            self.require(file)?;
        }
        for file in OPTIONAL_FILES {
            if let Fetched::Missing = self.fetch(file)? {
                tracing::debug!(repo = %self.id.repo, file, "optional file absent on the Hub");
            }
        }
        if let Fetched::Missing = self.fetch(SINGLE_WEIGHTS_FILE)? {
            if let Fetched::Missing = self.fetch(INDEX_FILE)? {
                return Err(self.not_found(SINGLE_WEIGHTS_FILE));
            }
            let index = self.snapshot_dir().join(INDEX_FILE);
            for shard in shards_of_index(&index)? {
                self.require(&shard)?;
            }
        }
        Ok(self.snapshot_dir())
    }

    fn snapshot_dir(&self) -> PathBuf {
        self.snapshot.clone().expect("set by the first successful fetch")
    }

    fn not_found(&self, file: &str) -> HubError {
        HubError::NotFound { repo: self.id.repo.clone(), revision: self.id.revision.clone(), file: file.to_string() }
    }

    fn require(&mut self, file: &str) -> Result<(), HubError> {
        match self.fetch(file)? {
            Fetched::Done => Ok(()),
            Fetched::Missing => Err(self.not_found(file)),
        }
    }

    /// Fixes the snapshot folder from the commit the server reports (`X-Repo-Commit`), or
    /// the revision itself, and records `refs/<revision>` as huggingface_hub does.
    fn set_snapshot(&mut self, commit: Option<&str>) -> Result<PathBuf, HubError> {
        if let Some(dir) = &self.snapshot {
            return Ok(dir.clone());
        }
        let commit = commit.filter(|c| is_commit_hash(c)).unwrap_or(&self.id.revision).to_string();
        let dir = self.repo_dir.join("snapshots").join(&commit);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        if commit != self.id.revision {
            let reference = self.repo_dir.join("refs").join(&self.id.revision);
            if let Some(parent) = reference.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            std::fs::write(&reference, &commit).map_err(io_err(&reference))?;
        }
        self.snapshot = Some(dir.clone());
        Ok(dir)
    }

    fn fetch(&mut self, file: &str) -> Result<Fetched, HubError> {
        if let Some(dir) = &self.snapshot
            && dir.join(file).is_file()
        {
            tracing::debug!(file, "already in the cache");
            return Ok(Fetched::Done);
        }
        let url = format!(
            "{}/{}/resolve/{}/{}",
            self.settings.endpoint,
            self.id.repo,
            // `refs/pr/1` is one path segment to the Hub.
            self.id.revision.replace('/', "%2F"),
            file
        );
        let mut request = self.agent.get(&url);
        if let Some(token) = &self.settings.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response =
            request.call().map_err(|source| HubError::Network { url: url.clone(), source: Box::new(source) })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            404 => return Ok(Fetched::Missing),
            401 | 403 => {
                // The Hub answers 401 for repos that do not exist as well as for gated ones.
                return Err(HubError::Unauthorized { repo: self.id.repo.clone(), file: file.to_string(), status });
            }
            _ => return Err(HubError::Http { url, status }),
        }
        let commit = response.headers().get("x-repo-commit").and_then(|v| v.to_str().ok()).map(str::to_string);
        let dir = self.set_snapshot(commit.as_deref())?;
        let destination = dir.join(file);
        let length = response.body().content_length();
        let reader = response.into_body().into_reader();
        write_atomically(&destination, reader, length, &url, &self.settings.progress)?;
        tracing::info!(file, bytes = ?length, "downloaded");
        Ok(Fetched::Done)
    }
}

/// Streams into a temporary file beside `destination` and renames it only once the whole body
/// arrived, so an interrupted download never looks like a complete file.
fn write_atomically(
    destination: &Path,
    mut reader: impl Read,
    length: Option<u64>,
    url: &str,
    progress: &DownloadProgress,
) -> Result<(), HubError> {
    let file_name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bar = match length {
        Some(len) if matches!(progress, DownloadProgress::Terminal) && len >= PROGRESS_MIN_BYTES => {
            let bar = indicatif::ProgressBar::new(len);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(file_name.clone());
            Some(bar)
        }
        _ => None,
    };
    let result = (|| {
        let mut out = crate::atomic_file::AtomicFile::create(destination).map_err(io_err(destination))?;
        let mut buffer = vec![0u8; 256 * 1024];
        let mut received: u64 = 0;
        loop {
            let n =
                reader.read(&mut buffer).map_err(|source| HubError::Interrupted { url: url.to_string(), source })?;
            if n == 0 {
                break;
            }
            out.write_all(&buffer[..n]).map_err(io_err(destination))?;
            received += n as u64;
            if let Some(bar) = &bar {
                bar.set_position(received);
            }
            if let DownloadProgress::Report(report) = progress {
                report(&file_name, received, length);
            }
        }
        if let Some(expected) = length
            && received != expected
        {
            return Err(HubError::Interrupted {
                url: url.to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("received {received} of {expected} bytes"),
                ),
            });
        }
        out.commit().map_err(io_err(destination))
    })();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}
