//! `lora-arcade nf4 quantize|dequantize`: safetensors files in and out of NF4, laid out as
//! bitsandbytes' `quantize_4bit(x, blocksize=64, quant_type="nf4", compress_statistics=…)`
//! returns them. For every 2-D float tensor `NAME` the quantized file holds
//! - `NAME`: the packed codes, u8 `[ceil(n/2), 1]` (first element in the high nibble);
//! - `NAME.absmax`: one f32 per 64 weights, or under double quantization their u8 codes;
//! - under double quantization `NAME.nested_absmax` (f32, one per 256 blocks) and
//!   `NAME.nested_offset` (f32 scalar, the mean absmax);
//!
//! and the file's metadata records each one's shape, dtype and block sizes, so `dequantize` can
//! give back float tensors of the original shapes. Other tensors are copied unchanged.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::math::nf4::{self, DEFAULT_BLOCKSIZE, DoubleQuant, Nf4Tensor};

#[derive(Debug, thiserror::Error)]
pub enum Nf4FileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: truncated or not a safetensors file ({message})")]
    NotSafetensors { path: PathBuf, message: String },
    #[error("{path}: no 2-D float tensor to quantize (found: {found})")]
    NothingToQuantize { path: PathBuf, found: String },
    #[error("{path}: tensor `{name}` is {dtype:?}; NF4 quantizes F32, BF16 and F16 matrices")]
    UnsupportedDtype { path: PathBuf, name: String, dtype: Dtype },
    #[error("{path}: tensor `{name}`: {message}")]
    Invalid { path: PathBuf, name: String, message: String },
    #[error("{path}: no NF4 tensor in this file (its metadata names none)")]
    NotQuantized { path: PathBuf },
}

/// What the metadata records of one quantized tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct QuantizedEntry {
    quant_type: String,
    shape: Vec<usize>,
    dtype: String,
    blocksize: usize,
    /// Blocks per nested scale under double quantization.
    nested_blocksize: Option<usize>,
}

/// What a command did, for its report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    /// The tensors (de)quantized, by name.
    pub converted: Vec<String>,
    /// The tensors copied unchanged.
    pub copied: Vec<String>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

const METADATA_FORMAT: &str = "lora-arcade-nf4";

/// A tensor to write: name, dtype, shape, little-endian bytes.
type Owned = (String, Dtype, Vec<usize>, Vec<u8>);

fn read(path: &Path) -> Result<Vec<u8>, Nf4FileError> {
    std::fs::read(path).map_err(|source| Nf4FileError::Io { path: path.to_path_buf(), source })
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<safetensors::SafeTensors<'a>, Nf4FileError> {
    safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Nf4FileError::NotSafetensors { path: path.to_path_buf(), message: e.to_string() })
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A float tensor's values as f32 (exact: every F16/BF16 value is an f32).
fn to_f32(view: &TensorView) -> Option<Vec<f32>> {
    let data = view.data();
    Some(match view.dtype() {
        Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        _ => return None,
    })
}

fn write(path: &Path, tensors: &[Owned], metadata: HashMap<String, String>) -> Result<u64, Nf4FileError> {
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v)).map_err(|e| {
                Nf4FileError::Invalid { path: path.to_path_buf(), name: name.clone(), message: e.to_string() }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = crate::trainer::tensorfile::serialize_deterministic(views, metadata)
        .map_err(|message| Nf4FileError::Invalid { path: path.to_path_buf(), name: "(file)".into(), message })?;
    crate::atomic_file::write(path, &bytes).map_err(|source| Nf4FileError::Io { path: path.to_path_buf(), source })?;
    Ok(bytes.len() as u64)
}

/// Quantizes every 2-D float tensor of `input` to NF4 (see the module docs) into `output`.
pub fn quantize_file(input: &Path, output: &Path, double_quant: bool) -> Result<FileReport, Nf4FileError> {
    let bytes = read(input)?;
    let file = parse(input, &bytes)?;
    let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
    names.sort();
    let mut out: Vec<Owned> = Vec::new();
    let mut metadata = HashMap::from([("format".to_string(), METADATA_FORMAT.to_string())]);
    let mut report = FileReport { bytes_in: bytes.len() as u64, ..Default::default() };
    for name in names {
        let view = file.tensor(&name).expect("listed by the file");
        if view.shape().len() != 2 {
            out.push((name.clone(), view.dtype(), view.shape().to_vec(), view.data().to_vec()));
            report.copied.push(name);
            continue;
        }
        let Some(values) = to_f32(&view) else {
            if matches!(view.dtype(), Dtype::F64 | Dtype::F8_E4M3 | Dtype::F8_E5M2) {
                return Err(Nf4FileError::UnsupportedDtype { path: input.into(), name, dtype: view.dtype() });
            }
            out.push((name.clone(), view.dtype(), view.shape().to_vec(), view.data().to_vec()));
            report.copied.push(name);
            continue;
        };
        let invalid = |e: crate::math::MathError| Nf4FileError::Invalid {
            path: input.into(),
            name: name.clone(),
            message: e.to_string(),
        };
        let q = nf4::quantize(&values, DEFAULT_BLOCKSIZE).map_err(invalid)?;
        out.push((name.clone(), Dtype::U8, vec![q.packed.len(), 1], q.packed.clone()));
        let nested = double_quant.then(|| q.double_quantize_absmax()).transpose().map_err(invalid)?;
        match &nested {
            None => out.push((format!("{name}.absmax"), Dtype::F32, vec![q.absmax.len()], f32_bytes(&q.absmax))),
            Some(dq) => {
                out.push((format!("{name}.absmax"), Dtype::U8, vec![dq.codes.len()], dq.codes.clone()));
                out.push((format!("{name}.nested_absmax"), Dtype::F32, vec![dq.scales.len()], f32_bytes(&dq.scales)));
                out.push((format!("{name}.nested_offset"), Dtype::F32, vec![], f32_bytes(&[dq.offset])));
            }
        }
        let entry = QuantizedEntry {
            quant_type: "nf4".into(),
            shape: view.shape().to_vec(),
            dtype: format!("{:?}", view.dtype()),
            blocksize: DEFAULT_BLOCKSIZE,
            nested_blocksize: nested.map(|dq| dq.blocksize),
        };
        metadata.insert(name.clone(), serde_json::to_string(&entry).expect("entry serialises"));
        report.converted.push(name);
    }
    if report.converted.is_empty() {
        let found = match report.copied.is_empty() {
            true => "no tensors".to_string(),
            false => report.copied.join(", "),
        };
        return Err(Nf4FileError::NothingToQuantize { path: input.into(), found });
    }
    report.bytes_out = write(output, &out, metadata)?;
    Ok(report)
}

/// Turns a file made by [`quantize_file`] back into float tensors of the original shapes and
/// dtypes (every other tensor copied unchanged).
pub fn dequantize_file(input: &Path, output: &Path) -> Result<FileReport, Nf4FileError> {
    let bytes = read(input)?;
    let file = parse(input, &bytes)?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| Nf4FileError::NotSafetensors { path: input.into(), message: e.to_string() })?;
    let entries: BTreeMap<String, QuantizedEntry> = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), serde_json::from_str(v).ok()?))).collect())
        .unwrap_or_default();
    if entries.is_empty() {
        return Err(Nf4FileError::NotQuantized { path: input.into() });
    }
    let mut report = FileReport { bytes_in: bytes.len() as u64, ..Default::default() };
    let mut out: Vec<Owned> = Vec::new();
    let parts =
        |name: &str| [format!("{name}.absmax"), format!("{name}.nested_absmax"), format!("{name}.nested_offset")];
    let is_part = |t: &str| entries.keys().any(|n| t == n || parts(n).iter().any(|p| p == t));
    let mut others: Vec<String> = file.names().into_iter().filter(|t| !is_part(t)).map(str::to_string).collect();
    others.sort();
    for name in others {
        let view = file.tensor(&name).expect("listed by the file");
        out.push((name.clone(), view.dtype(), view.shape().to_vec(), view.data().to_vec()));
        report.copied.push(name);
    }
    for (name, entry) in &entries {
        let values = dequantize_entry(input, &file, name, entry)?;
        let (dtype, bytes) = match entry.dtype.as_str() {
            "BF16" => (Dtype::BF16, values.iter().flat_map(|v| half::bf16::from_f32(*v).to_le_bytes()).collect()),
            "F16" => (Dtype::F16, values.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect()),
            _ => (Dtype::F32, f32_bytes(&values)),
        };
        out.push((name.clone(), dtype, entry.shape.clone(), bytes));
        report.converted.push(name.clone());
    }
    report.bytes_out = write(output, &out, HashMap::new())?;
    Ok(report)
}

fn dequantize_entry(
    path: &Path,
    file: &safetensors::SafeTensors,
    name: &str,
    entry: &QuantizedEntry,
) -> Result<Vec<f32>, Nf4FileError> {
    let invalid = |message: String| Nf4FileError::Invalid { path: path.into(), name: name.to_string(), message };
    let tensor = |suffix: &str| {
        let full = format!("{name}{suffix}");
        file.tensor(&full).map_err(|_| invalid(format!("`{full}` is missing")))
    };
    if entry.quant_type != "nf4" {
        return Err(invalid(format!("quant_type {:?} (only nf4)", entry.quant_type)));
    }
    let len: usize = entry.shape.iter().product();
    let packed = tensor("")?.data().to_vec();
    let absmax_view = tensor(".absmax")?;
    let absmax = match entry.nested_blocksize {
        None => to_f32(&absmax_view).ok_or_else(|| invalid("absmax is not f32".into()))?,
        Some(blocksize) => {
            let scales =
                to_f32(&tensor(".nested_absmax")?).ok_or_else(|| invalid("nested_absmax is not f32".into()))?;
            let offset = to_f32(&tensor(".nested_offset")?).and_then(|o| o.first().copied());
            let offset = offset.ok_or_else(|| invalid("nested_offset is not an f32 scalar".into()))?;
            let codes = absmax_view.data().to_vec();
            if codes.len().div_ceil(blocksize) != scales.len() {
                return Err(invalid(format!("{} absmax codes need {} nested scales", codes.len(), scales.len())));
            }
            DoubleQuant { codes, scales, offset, blocksize }.dequantize()
        }
    };
    let q = Nf4Tensor::from_parts(packed, absmax.clone(), len, entry.blocksize).map_err(|e| invalid(e.to_string()))?;
    q.dequantize_with_absmax(&absmax).map_err(|e| invalid(e.to_string()))
}
