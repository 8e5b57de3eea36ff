//! safetensors files in and out, written atomically (temp file + fsync + rename) so a kill
//! mid-write never leaves a truncated file under the final name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Dtype, TensorView};

#[derive(Debug, thiserror::Error)]
pub enum TensorFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid safetensors file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: truncated or not a safetensors file ({message})")]
    Truncated { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Candle { path: PathBuf, source: candle_core::Error },
}

/// Writes `bytes` to `path` atomically (see [`crate::atomic_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TensorFileError> {
    crate::atomic_file::write(path, bytes).map_err(|source| TensorFileError::Io { path: path.to_path_buf(), source })
}

/// `safetensors::serialize` with the `__metadata__` entries in sorted order. The crate writes
/// them from a `HashMap`, so the same tensors and metadata gave different bytes from run to run
/// (a resumed run's adapter must be byte-identical to the uninterrupted one's).
pub fn serialize_deterministic<'a>(
    views: impl IntoIterator<Item = (String, TensorView<'a>)>,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let plain = safetensors::serialize(views, None).map_err(|e| e.to_string())?;
    if metadata.is_empty() {
        return Ok(plain);
    }
    let header_len = u64::from_le_bytes(plain[..8].try_into().expect("8 bytes")) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&plain[8..8 + header_len]).map_err(|e| e.to_string())?;
    let sorted: std::collections::BTreeMap<String, String> = metadata.into_iter().collect();
    header.insert("__metadata__".into(), serde_json::to_value(sorted).expect("strings serialise"));
    let mut json = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    // The data must start 8-byte aligned, as the crate pads it.
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + plain.len() - 8 - header_len);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&plain[8 + header_len..]);
    Ok(out)
}

/// Saves tensors as f32 (sorted by name, as safetensors requires) with optional metadata.
pub fn save_f32(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
) -> Result<(), TensorFileError> {
    let candle = |source| TensorFileError::Candle { path: path.to_path_buf(), source };
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let values: Vec<f32> = t.to_dtype(DType::F32).and_then(|t| t.flatten_all()?.to_vec1()).map_err(candle)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name.clone(), t.dims().to_vec(), bytes));
    }
    let views = data
        .iter()
        .map(|(n, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| TensorFileError::Format { path: path.to_path_buf(), message: e.to_string() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = serialize_deterministic(views, metadata.unwrap_or_default())
        .map_err(|message| TensorFileError::Format { path: path.to_path_buf(), message })?;
    write_atomic(path, &bytes)
}

/// Tensors by name, and a file's string metadata.
pub type NamedTensors = HashMap<String, Tensor>;
pub type Metadata = HashMap<String, String>;

/// The largest header a safetensors reader accepts (the crate's own limit).
const MAX_HEADER: u64 = 100_000_000;

/// Checks, from its header and its length alone, that a safetensors file holds every byte its
/// header promises, and returns its string metadata. A file cut short by a full disk or a kill
/// outside our atomic writer is named as such instead of failing later inside a tensor read.
pub fn check_complete(path: &Path) -> Result<Metadata, TensorFileError> {
    use std::io::Read;
    let io = |source| TensorFileError::Io { path: path.to_path_buf(), source };
    let truncated = |message: String| TensorFileError::Truncated { path: path.to_path_buf(), message };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut size = [0u8; 8];
    file.read_exact(&mut size).map_err(|_| truncated(format!("{len} bytes, shorter than its 8-byte header size")))?;
    let header_len = u64::from_le_bytes(size);
    if header_len > MAX_HEADER || 8 + header_len > len {
        return Err(truncated(format!("a {header_len}-byte header does not fit in {len} bytes")));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(io)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| truncated(format!("its header is not JSON: {e}")))?;
    let mut needed = 0u64;
    let mut metadata = Metadata::new();
    for (name, entry) in &header {
        if name == "__metadata__" {
            if let Some(map) = entry.as_object() {
                metadata.extend(map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))));
            }
            continue;
        }
        let end = entry["data_offsets"].get(1).and_then(|v| v.as_u64());
        needed = needed.max(end.ok_or_else(|| truncated(format!("tensor `{name}` has no data_offsets")))?);
    }
    let data = len - 8 - header_len;
    if data < needed {
        return Err(truncated(format!("its header needs {needed} bytes of tensor data, the file has {data}")));
    }
    Ok(metadata)
}

/// Loads every tensor (any float dtype) onto `device`, with the file's metadata.
pub fn load(path: &Path, device: &Device) -> Result<(NamedTensors, Metadata), TensorFileError> {
    check_complete(path)?;
    let bytes = std::fs::read(path).map_err(|source| TensorFileError::Io { path: path.to_path_buf(), source })?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| TensorFileError::Format { path: path.to_path_buf(), message: e.to_string() })?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let tensors = candle_core::safetensors::load_buffer(&bytes, device)
        .map_err(|source| TensorFileError::Candle { path: path.to_path_buf(), source })?;
    Ok((tensors, metadata))
}
