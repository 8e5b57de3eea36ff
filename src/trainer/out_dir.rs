//! The folders the trainer writes into. Before a model is loaded it checks that the output
//! folder is not one of the inputs, holds nothing but what our own runs write, and can be
//! written — so a run never replaces a user's files and never finds out after an hour of
//! training that it cannot save.

use std::path::{Path, PathBuf};

use crate::trainer::checkpoint;
use crate::trainer::peft;

/// Files a finished run leaves in its output folder.
const RUN_FILES: [&str; 2] = [peft::CONFIG_FILE, peft::WEIGHTS_FILE];
/// Files a `checkpoint-N` folder holds.
const CHECKPOINT_FILES: [&str; 4] =
    [peft::CONFIG_FILE, peft::WEIGHTS_FILE, checkpoint::OPTIMIZER_FILE, checkpoint::STATE_FILE];

#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error("--out {out} is {role} {input}: choose another folder, so the input is never overwritten")]
    IsInput { out: PathBuf, role: String, input: PathBuf },
    #[error("--out {out} is a file, not a folder")]
    NotAFolder { out: PathBuf },
    #[error(
        "--out {out} holds files that are not {what}: {names}; choose an empty or new folder (nothing was written)"
    )]
    Foreign { out: PathBuf, what: &'static str, names: String },
    #[error(
        "--out {out} holds checkpoints of an earlier run ({names}): continue it with --resume {out}, or choose \
         another folder (nothing was written)"
    )]
    EarlierRun { out: PathBuf, names: String },
    #[error("--out {out} cannot be written: {source}")]
    NotWritable { out: PathBuf, source: std::io::Error },
}

/// Whether `name` is a temporary file of our atomic writer (`.NAME.xxxx.partial`).
fn is_partial_file(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".partial")
}

/// `checkpoint-N` → N.
pub fn checkpoint_step(name: &str) -> Option<usize> {
    name.strip_prefix("checkpoint-")?.parse().ok()
}

/// A folder holding only checkpoint files (and partial writes of them).
fn is_checkpoint_folder(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        e.path().is_file() && (CHECKPOINT_FILES.contains(&name.as_str()) || is_partial_file(&name))
    })
}

/// The entries of `dir` that a training run did not write, and its `checkpoint-N` folders.
fn classify_run_folder(dir: &Path) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let (mut foreign, mut checkpoints) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let partial_checkpoint = name.starts_with(".checkpoint-") && name.ends_with(".partial");
        if path.is_file() && (RUN_FILES.contains(&name.as_str()) || is_partial_file(&name)) {
            continue;
        }
        if path.is_dir() && partial_checkpoint && is_checkpoint_folder(&path) {
            continue;
        }
        if path.is_dir() && checkpoint_step(&name).is_some() && is_checkpoint_folder(&path) {
            checkpoints.push(name);
            continue;
        }
        foreign.push(if path.is_dir() { format!("{name}/") } else { name });
    }
    foreign.sort();
    checkpoints.sort_by_key(|n| checkpoint_step(n));
    Ok((foreign, checkpoints))
}

/// A short list for a message: the first few names and how many more.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// The absolute form of a path that may not exist yet (its existing ancestor resolved).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => absolute(parent).join(name),
        _ => std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Refuses an output folder that is an input or holds one (`inputs`: role, path).
pub fn refuse_inputs(out: &Path, inputs: &[(&str, &Path)]) -> Result<(), OutDirError> {
    let out_abs = absolute(out);
    for (role, input) in inputs {
        let input_abs = absolute(input);
        let role = if input_abs == out_abs { format!("the {role}") } else { format!("a folder holding the {role}") };
        if input_abs.starts_with(&out_abs) {
            return Err(OutDirError::IsInput { out: out.to_path_buf(), role, input: input.to_path_buf() });
        }
    }
    Ok(())
}

/// Proves `out` can be written — a file made and removed in it, or, while it does not exist yet,
/// in the folder it will be made in — without creating it, so a run that fails while loading
/// leaves no empty folder behind.
pub fn ensure_writable(out: &Path) -> Result<(), OutDirError> {
    let fail = |source| OutDirError::NotWritable { out: out.to_path_buf(), source };
    let mut existing = absolute(out);
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent.to_path_buf(),
            None => break,
        }
    }
    if !existing.is_dir() {
        let message = format!("{} is a file, not a folder", existing.display());
        return Err(fail(std::io::Error::new(std::io::ErrorKind::NotADirectory, message)));
    }
    tempfile::Builder::new().prefix(".write-test.").suffix(".partial").tempfile_in(&existing).map_err(fail)?;
    Ok(())
}

/// The output folder of a training run: not an input, nothing in it but a run's own files (and
/// when not resuming, no checkpoints of an earlier run), writable. Called before loading.
pub fn prepare_run_out(out: &Path, inputs: &[(&str, &Path)], resuming: bool) -> Result<(), OutDirError> {
    refuse_inputs(out, inputs)?;
    if out.exists() && !out.is_dir() {
        return Err(OutDirError::NotAFolder { out: out.to_path_buf() });
    }
    if out.is_dir() {
        let (foreign, checkpoints) =
            classify_run_folder(out).map_err(|source| OutDirError::NotWritable { out: out.to_path_buf(), source })?;
        if !foreign.is_empty() {
            return Err(OutDirError::Foreign {
                out: out.to_path_buf(),
                what: "from a training run",
                names: list(&foreign),
            });
        }
        if !resuming && !checkpoints.is_empty() {
            return Err(OutDirError::EarlierRun { out: out.to_path_buf(), names: list(&checkpoints) });
        }
    }
    ensure_writable(out)
}

/// The output folder of a merge: not an input; when it holds anything, only the files a merge
/// writes (`own`), unless `force`; writable.
pub fn prepare_merge_out(out: &Path, inputs: &[(&str, &Path)], own: &[&str], force: bool) -> Result<(), OutDirError> {
    refuse_inputs(out, inputs)?;
    if out.exists() && !out.is_dir() {
        return Err(OutDirError::NotAFolder { out: out.to_path_buf() });
    }
    if out.is_dir() && !force {
        let mut foreign: Vec<String> = std::fs::read_dir(out)
            .map_err(|source| OutDirError::NotWritable { out: out.to_path_buf(), source })?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !own.contains(&name.as_str()) && !is_partial_file(name))
            .collect();
        foreign.sort();
        if !foreign.is_empty() {
            return Err(OutDirError::Foreign {
                out: out.to_path_buf(),
                what: "from an earlier merge (pass --force to write beside them)",
                names: list(&foreign),
            });
        }
    }
    ensure_writable(out)
}

/// Removes the oldest complete `checkpoint-N` folders of `out` up to step `current`, keeping
/// the newest `keep` (0 keeps them all). Folders past `current` are not this run's to remove.
pub fn prune_checkpoints(out: &Path, current: usize, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    let (_, checkpoints) = classify_run_folder(out)?;
    let mine: Vec<&String> = checkpoints.iter().filter(|n| checkpoint_step(n).is_some_and(|s| s <= current)).collect();
    let mut removed = Vec::new();
    for name in &mine[..mine.len().saturating_sub(keep)] {
        let path = out.join(name);
        std::fs::remove_dir_all(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn a_run_folder_is_ours_only_with_our_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        prepare_run_out(&out, &[], false).unwrap();
        touch(&out.join(peft::CONFIG_FILE));
        touch(&out.join("checkpoint-2").join(checkpoint::STATE_FILE));
        prepare_run_out(&out, &[], true).unwrap();
        let e = prepare_run_out(&out, &[], false).unwrap_err().to_string();
        assert!(e.contains("checkpoint-2") && e.contains("--resume"), "{e}");
        touch(&out.join("checkpoint-2").join("README"));
        touch(&out.join("notes.txt"));
        let e = prepare_run_out(&out, &[], true).unwrap_err().to_string();
        assert!(e.contains("checkpoint-2/, notes.txt"), "{e}");
    }

    #[test]
    fn an_input_is_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        touch(&model.join("model.safetensors"));
        let e = prepare_merge_out(&model, &[("--model", &model)], &[], true).unwrap_err().to_string();
        assert!(e.contains("is the --model"), "{e}");
        let e = prepare_merge_out(dir.path(), &[("--model", &model)], &[], true).unwrap_err().to_string();
        assert!(e.contains("a folder holding the --model"), "{e}");
        prepare_merge_out(&model.join("merged"), &[("--model", &model)], &[], false).unwrap();
    }

    #[test]
    fn pruning_keeps_the_newest_of_this_run() {
        let dir = tempfile::tempdir().unwrap();
        for step in [1, 2, 3, 4, 40] {
            touch(&dir.path().join(format!("checkpoint-{step}")).join(checkpoint::STATE_FILE));
        }
        let removed = prune_checkpoints(dir.path(), 4, 2).unwrap();
        assert_eq!(removed, [dir.path().join("checkpoint-1"), dir.path().join("checkpoint-2")]);
        assert!(dir.path().join("checkpoint-40").is_dir() && dir.path().join("checkpoint-3").is_dir());
    }
}
