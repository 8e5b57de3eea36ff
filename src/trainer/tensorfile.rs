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
    #[error("{path}: {source}")]
    Candle { path: PathBuf, source: candle_core::Error },
}

/// Writes `bytes` to `path` atomically (see [`crate::atomic_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TensorFileError> {
    crate::atomic_file::write(path, bytes).map_err(|source| TensorFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Saves tensors as f32 (sorted by name, as safetensors requires) with optional metadata.
pub fn save_f32(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
) -> Result<(), TensorFileError> {
    let candle = |source| TensorFileError::Candle {
        path: path.to_path_buf(),
        source,
    };
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let values: Vec<f32> = t
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all()?.to_vec1())
            .map_err(candle)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name.clone(), t.dims().to_vec(), bytes));
    }
    let views = data
        .iter()
        .map(|(n, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| TensorFileError::Format {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = safetensors::serialize(views, metadata).map_err(|e| TensorFileError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Tensors by name, and a file's string metadata.
pub type NamedTensors = HashMap<String, Tensor>;
pub type Metadata = HashMap<String, String>;

/// Loads every tensor (any float dtype) onto `device`, with the file's metadata.
pub fn load(path: &Path, device: &Device) -> Result<(NamedTensors, Metadata), TensorFileError> {
    let bytes = std::fs::read(path).map_err(|source| TensorFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| TensorFileError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let tensors = candle_core::safetensors::load_buffer(&bytes, device).map_err(|source| TensorFileError::Candle {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((tensors, metadata))
}
