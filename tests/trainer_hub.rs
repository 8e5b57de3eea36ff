//! Hub download by model id, against a local HTTP server on 127.0.0.1 (no internet):
//! cache layout, cache hits without requests, 404/401 handling, interrupted downloads,
//! offline mode and what counts as a Hub id.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use candle_core::{DType, Device};
use lora_arcade::trainer::fixture::{tiny_config_untied, tiny_weights, write_hf_folder};
use lora_arcade::trainer::load::hub::{
    DownloadProgress, HubError, HubSettings, is_hub_id, parse_hub_id, resolve_model_with,
};
use lora_arcade::trainer::load::load_model;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// A tiny Hub: serves `<root>/<owner>/<name>/<file>` at `/<owner>/<name>/resolve/<rev>/<file>`,
/// counts requests, and stops (joined) when dropped.
struct FakeHub {
    endpoint: String,
    requests: Arc<AtomicUsize>,
    /// File whose body is cut off halfway (the connection closes mid-body).
    drop_mid_body: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHub {
    fn start(root: &Path) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let drop_mid_body = Arc::new(Mutex::new(None::<String>));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (root, requests, drop_mid_body, stop) =
                (root.to_path_buf(), requests.clone(), drop_mid_body.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            requests.fetch_add(1, Ordering::SeqCst);
                            let cut = drop_mid_body.lock().unwrap().clone();
                            let _ = serve(stream, &root, cut.as_deref());
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        FakeHub { endpoint, requests, drop_mid_body, stop, thread: Some(thread) }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn settings(&self, cache: &Path) -> HubSettings {
        HubSettings {
            endpoint: self.endpoint.clone(),
            cache_dir: cache.join("hub"),
            token: None,
            offline: false,
            progress: DownloadProgress::Silent,
        }
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, root: &Path, cut: Option<&str>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    let mut out = stream;
    let reply = |out: &mut TcpStream, status: &str| {
        write!(out, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    };
    if parts.len() != 5 || parts[2] != "resolve" {
        return reply(&mut out, "400 Bad Request");
    }
    let (owner, name, file) = (parts[0], parts[1], parts[4]);
    if owner == "gated" {
        return reply(&mut out, "401 Unauthorized");
    }
    let Ok(body) = std::fs::read(root.join(owner).join(name).join(file)) else {
        return reply(&mut out, "404 Not Found");
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Repo-Commit: {COMMIT}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if cut == Some(file) {
        out.write_all(&body[..body.len() / 2])?;
        out.flush()?;
        return out.shutdown(std::net::Shutdown::Both);
    }
    out.write_all(&body)
}

/// Serves a tiny model as `tiny/<name>` (weights in `shards` files); returns the tempdirs.
fn fixture_repo(name: &str, shards: usize) -> (tempfile::TempDir, tempfile::TempDir) {
    let served = tempfile::tempdir().unwrap();
    let config = tiny_config_untied();
    write_hf_folder(&served.path().join("tiny").join(name), &config, &tiny_weights(&config, 7), shards).unwrap();
    (served, tempfile::tempdir().unwrap())
}

fn assert_loads_fixture(dir: &Path) {
    let loaded = load_model(dir, &Device::Cpu, DType::F32).unwrap();
    let config = tiny_config_untied();
    assert_eq!(loaded.config.hidden_size, config.hidden_size);
    let expected = tiny_weights(&config, 7);
    assert_eq!(loaded.weights.len(), expected.len());
    for (name, tensor) in &expected {
        let got: Vec<f32> = loaded.weights[name].flatten_all().unwrap().to_vec1().unwrap();
        let want: Vec<f32> = tensor.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(got, want, "{name}");
    }
}

fn snapshot_of(cache: &Path, repo_dir: &str) -> PathBuf {
    cache.join("hub").join(repo_dir).join("snapshots").join(COMMIT)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn single_file_repo_downloads_into_the_hf_cache_layout_then_hits_the_cache() {
    let (served, cache) = fixture_repo("single", 1);
    let hub = FakeHub::start(served.path());
    let mut settings = hub.settings(cache.path());
    // A game's progress bar: every chunk reported with the bytes so far and the total.
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = reports.clone();
    settings.progress = DownloadProgress::Report(std::sync::Arc::new(move |file: &str, bytes, total| {
        sink.lock().unwrap().push((file.to_string(), bytes, total));
    }));

    let dir = resolve_model_with("tiny/single", &settings).unwrap();
    assert_eq!(dir, snapshot_of(cache.path(), "models--tiny--single"));
    let weights = std::fs::metadata(dir.join("model.safetensors")).unwrap().len();
    let reports = reports.lock().unwrap().clone();
    let last = reports.iter().rfind(|(f, _, _)| f == "model.safetensors").expect("the weights' progress");
    assert_eq!((last.1, last.2), (weights, Some(weights)), "{reports:?}");
    let refs = cache.path().join("hub/models--tiny--single/refs/main");
    assert_eq!(std::fs::read_to_string(refs).unwrap(), COMMIT);
    // config, tokenizer, tokenizer_config, generation_config (404), model.safetensors.
    assert_eq!(hub.requests(), 5);
    assert_eq!(files_in(&dir), ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
    for file in files_in(&dir) {
        let served_bytes = std::fs::read(served.path().join("tiny/single").join(&file)).unwrap();
        assert_eq!(std::fs::read(dir.join(&file)).unwrap(), served_bytes, "{file}");
    }
    assert_loads_fixture(&dir);

    let again = resolve_model_with("tiny/single", &settings).unwrap();
    assert_eq!(again, dir);
    assert_eq!(hub.requests(), 5, "a complete cached snapshot makes no requests");
}

#[test]
fn sharded_repo_downloads_every_listed_shard() {
    let (served, cache) = fixture_repo("sharded", 3);
    let hub = FakeHub::start(served.path());
    let settings = hub.settings(cache.path());

    let dir = resolve_model_with("tiny/sharded@main", &settings).unwrap();
    let files = files_in(&dir);
    for shard in 1..=3 {
        assert!(files.contains(&format!("model-{shard:05}-of-00003.safetensors")), "{files:?}");
    }
    assert!(files.contains(&"model.safetensors.index.json".to_string()));
    assert_loads_fixture(&dir);

    let before = hub.requests();
    resolve_model_with("tiny/sharded@main", &settings).unwrap();
    assert_eq!(hub.requests(), before);
}

#[test]
fn missing_required_file_names_repo_and_file() {
    let (served, cache) = fixture_repo("notok", 1);
    std::fs::remove_file(served.path().join("tiny/notok/tokenizer.json")).unwrap();
    let hub = FakeHub::start(served.path());
    let err = resolve_model_with("tiny/notok", &hub.settings(cache.path())).unwrap_err();
    assert!(matches!(&err, HubError::NotFound { file, .. } if file == "tokenizer.json"), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("tiny/notok") && message.contains("tokenizer.json"), "{message}");

    let err = resolve_model_with("nobody/nothing", &hub.settings(cache.path())).unwrap_err();
    assert!(err.to_string().contains("nobody/nothing") && err.to_string().contains("config.json"), "{err}");
}

#[test]
fn unauthorized_names_repo_and_suggests_a_token() {
    let (served, cache) = fixture_repo("x", 1);
    let hub = FakeHub::start(served.path());
    let err = resolve_model_with("gated/model", &hub.settings(cache.path())).unwrap_err();
    assert!(matches!(err, HubError::Unauthorized { status: 401, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("gated/model") && message.contains("HF_TOKEN"), "{message}");
}

#[test]
fn absent_tokenizer_config_is_fine() {
    let (served, cache) = fixture_repo("bare", 1);
    std::fs::remove_file(served.path().join("tiny/bare/tokenizer_config.json")).unwrap();
    let hub = FakeHub::start(served.path());
    let dir = resolve_model_with("tiny/bare", &hub.settings(cache.path())).unwrap();
    assert!(!dir.join("tokenizer_config.json").exists());
    assert!(dir.join("model.safetensors").is_file());
}

#[test]
fn connection_dropped_mid_body_leaves_no_complete_looking_file_and_a_retry_finishes() {
    let (served, cache) = fixture_repo("flaky", 1);
    let hub = FakeHub::start(served.path());
    *hub.drop_mid_body.lock().unwrap() = Some("model.safetensors".into());
    let settings = hub.settings(cache.path());

    let err = resolve_model_with("tiny/flaky", &settings).unwrap_err();
    assert!(matches!(err, HubError::Interrupted { .. }), "{err:?}");
    assert!(err.to_string().contains("/tiny/flaky/resolve/main/model.safetensors"), "{err}");
    let dir = snapshot_of(cache.path(), "models--tiny--flaky");
    let files = files_in(&dir);
    assert!(!files.iter().any(|f| f.starts_with("model.safetensors")), "{files:?}");
    assert!(files.contains(&"config.json".to_string()));

    // The retry asks again for config.json (which tells it the revision's current commit),
    // then fetches only what that snapshot lacks.
    *hub.drop_mid_body.lock().unwrap() = None;
    let before = hub.requests();
    let again = resolve_model_with("tiny/flaky", &settings).unwrap();
    assert_eq!(again, dir);
    assert_eq!(hub.requests() - before, 3, "config.json, generation_config.json (404) and model.safetensors");
    assert_loads_fixture(&dir);
}

#[test]
fn offline_uses_only_the_cache() {
    let (served, cache) = fixture_repo("off", 1);
    let hub = FakeHub::start(served.path());
    let mut settings = hub.settings(cache.path());
    settings.offline = true;

    let err = resolve_model_with("tiny/off", &settings).unwrap_err();
    assert!(matches!(err, HubError::Offline { .. }), "{err:?}");
    assert!(err.to_string().contains("tiny/off") && err.to_string().contains("offline"), "{err}");
    assert_eq!(hub.requests(), 0);

    settings.offline = false;
    let dir = resolve_model_with("tiny/off", &settings).unwrap();
    settings.offline = true;
    let before = hub.requests();
    assert_eq!(resolve_model_with("tiny/off", &settings).unwrap(), dir);
    assert_eq!(hub.requests(), before);
}

#[test]
fn network_failure_names_the_url() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cache = tempfile::tempdir().unwrap();
    let settings = HubSettings {
        endpoint: format!("http://127.0.0.1:{port}"),
        cache_dir: cache.path().join("hub"),
        token: None,
        offline: false,
        progress: DownloadProgress::Silent,
    };
    let err = resolve_model_with("tiny/none", &settings).unwrap_err();
    assert!(matches!(err, HubError::Network { .. }), "{err:?}");
    let expected_url = format!("http://127.0.0.1:{port}/tiny/none/resolve/main/config.json");
    assert!(err.to_string().contains(&expected_url), "{err}");
}

#[test]
fn local_paths_are_returned_untouched_without_requests() {
    let (served, cache) = fixture_repo("local", 1);
    let hub = FakeHub::start(served.path());
    // An existing folder named like a Hub id wins over the Hub.
    let local = served.path().join("tiny/local");
    let arg = local.to_str().unwrap();
    assert_eq!(resolve_model_with(arg, &hub.settings(cache.path())).unwrap(), local);
    // A missing path is "not found" here, never a download attempt.
    let missing = resolve_model_with("./no/such.gguf", &hub.settings(cache.path())).unwrap_err();
    assert!(matches!(missing, HubError::LocalNotFound { .. }), "{missing:?}");
    assert_eq!(hub.requests(), 0);
    // `hf:` asks the Hub, whatever is on disk.
    let downloaded = resolve_model_with("hf:tiny/local", &hub.settings(cache.path())).unwrap();
    assert!(downloaded.starts_with(cache.path()) && hub.requests() > 0, "{}", downloaded.display());
    assert!(matches!(resolve_model_with("hf:not-an-id", &hub.settings(cache.path())), Err(HubError::InvalidId { .. })));
}

#[test]
fn hub_ids_are_owner_slash_name_with_optional_revision() {
    for id in ["a/b", "a/b@rev", "HuggingFaceTB/SmolLM2-135M-Instruct", "org/m.v2@refs/pr/1"] {
        assert!(is_hub_id(id), "{id}");
    }
    for not in ["./x", "/abs/path", "a/b/c", "model.gguf", "a/", "/b", "a/b@", "../a", "a/b@../x", ""] {
        assert!(!is_hub_id(not), "{not}");
    }
    let id = parse_hub_id("o/n@v1.0").unwrap();
    assert_eq!((id.repo.as_str(), id.revision.as_str()), ("o/n", "v1.0"));
    assert_eq!(parse_hub_id("o/n").unwrap().revision, "main");
}
