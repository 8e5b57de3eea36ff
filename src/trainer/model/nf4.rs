//! QLoRA's frozen base: a projection held in 4-bit NormalFloat, exactly as bitsandbytes stores
//! it (the one NF4 implementation is [`crate::math::nf4`]): two codes a byte, one absmax per 64
//! weights, and by default the absmax values double-quantized to 8 bits.
//!
//! Forward dequantizes and multiplies; backward gives the input gradient only, dequantizing
//! again, and nothing dequantized is kept from one to the other. On the CPU (f32/f64) the weight
//! is a [`FrozenProduct`] that dequantizes a tile of rows at a time into a scratch buffer and
//! multiplies it, so the fused LoRA projection runs over it unchanged. On a GPU (or in bf16) the
//! packed codes live on the device and are dequantized there with tensor ops — a table lookup
//! and a scale — for each product; the weights are never silently kept dense.

use std::sync::{Arc, Mutex, OnceLock};

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp1, DType, Device, Layout, MetalStorage, Shape, Storage, Tensor};
use rayon::prelude::*;

use crate::math::nf4::{self, DEFAULT_BLOCKSIZE, DoubleQuant, NF4_CODE};
use crate::trainer::kernels::frozen::{self, FrozenProduct, SharedProduct, typed_products};
use crate::trainer::kernels::gemm::{MatRef, matmul};
use crate::trainer::kernels::{Real, cpu_float};

use super::linear::{BaseLinear, add_bias};

/// How a projection's block absmax values are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockScales {
    /// One f32 per block (`--no-double-quant`): 4.5 bits a weight.
    Plain(Vec<f32>),
    /// 8-bit codes in blocks of 256 with an f32 scale each, plus the mean offset: ≈ 4.127 bits.
    Double(DoubleQuant),
}

impl BlockScales {
    fn bytes(&self) -> usize {
        match self {
            BlockScales::Plain(a) => 4 * a.len(),
            BlockScales::Double(dq) => dq.bytes(),
        }
    }

    /// The absmax of block `i`, computed in f32 as bitsandbytes does.
    fn absmax(&self, i: usize) -> f32 {
        match self {
            BlockScales::Plain(a) => a[i],
            BlockScales::Double(dq) => {
                dynamic_map()[usize::from(dq.codes[i])] * dq.scales[i / dq.blocksize] + dq.offset
            }
        }
    }
}

/// bitsandbytes' signed 8-bit dynamic map, built once.
fn dynamic_map() -> &'static [f32; 256] {
    static MAP: OnceLock<[f32; 256]> = OnceLock::new();
    MAP.get_or_init(nf4::create_dynamic_map_signed)
}

/// The two NF4 values a packed byte holds (first element in the high nibble).
fn byte_pairs() -> &'static [[f32; 2]; 256] {
    static PAIRS: OnceLock<[[f32; 2]; 256]> = OnceLock::new();
    PAIRS.get_or_init(|| std::array::from_fn(|b| [NF4_CODE[b >> 4], NF4_CODE[b & 15]]))
}

/// A frozen weight `W: [out, in]` in NF4 in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Nf4Weight {
    packed: Vec<u8>,
    scales: BlockScales,
    out_features: usize,
    in_features: usize,
}

/// Elements quantized per parallel task: a whole number of blocks (and so of packed bytes), so the
/// parts concatenate to exactly what one sequential pass would give.
const QUANTIZE_CHUNK: usize = DEFAULT_BLOCKSIZE * 1024;

/// Rows dequantized at a time by the CPU product: about this many weights a tile.
const TILE_ELEMENTS: usize = 1 << 18;

impl Nf4Weight {
    /// Quantizes `weight: [out, in]` (any float dtype, any device) in blocks of 64 along the
    /// row-major order, as `bitsandbytes.functional.quantize_4bit(w, blocksize=64,
    /// quant_type="nf4", compress_statistics=double_quant)` does.
    pub fn quantize(weight: &Tensor, double_quant: bool) -> candle_core::Result<Self> {
        let (out_features, in_features) = weight.dims2()?;
        let values: Vec<f32> = weight.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let parts = values
            .par_chunks(QUANTIZE_CHUNK)
            .map(|chunk| nf4::quantize(chunk, DEFAULT_BLOCKSIZE))
            .collect::<Result<Vec<_>, _>>()
            .map_err(candle_core::Error::wrap)?;
        let mut packed = Vec::with_capacity(values.len().div_ceil(2));
        let mut absmax = Vec::with_capacity(values.len().div_ceil(DEFAULT_BLOCKSIZE));
        for part in parts {
            packed.extend_from_slice(&part.packed);
            absmax.extend_from_slice(&part.absmax);
        }
        let scales = match double_quant {
            true => BlockScales::Double(nf4::double_quantize(&absmax).map_err(candle_core::Error::wrap)?),
            false => BlockScales::Plain(absmax),
        };
        Ok(Self { packed, scales, out_features, in_features })
    }

    /// `(out_features, in_features)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.out_features, self.in_features)
    }

    /// Bytes held: packed codes and the absmax storage.
    pub fn bytes(&self) -> usize {
        self.packed.len() + self.scales.bytes()
    }

    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    pub fn scales(&self) -> &BlockScales {
        &self.scales
    }

    /// Writes weights `start..start + out.len()` (flat, row-major) dequantized into `out`.
    fn dequantize_range<T: Real>(&self, start: usize, out: &mut [T]) {
        let pairs = byte_pairs();
        let mut i = 0;
        while i < out.len() {
            let flat = start + i;
            let block = flat / DEFAULT_BLOCKSIZE;
            let end = ((block + 1) * DEFAULT_BLOCKSIZE - start).min(out.len());
            let absmax = self.scales.absmax(block);
            for (j, o) in out[i..end].iter_mut().enumerate() {
                let k = flat + j;
                let code = pairs[usize::from(self.packed[k / 2])][k % 2];
                // f32 product first, as bitsandbytes dequantizes.
                *o = T::from(code * absmax).unwrap();
            }
            i = end;
        }
    }

    /// Rows `rows` of `W` dequantized into `out` (`rows.len() · in` values), rows in parallel.
    fn dequantize_rows<T: Real>(&self, rows: std::ops::Range<usize>, out: &mut [T]) {
        let width = self.in_features;
        out.par_chunks_mut(width).enumerate().for_each(|(r, row)| self.dequantize_range((rows.start + r) * width, row));
    }

    /// The whole weight in f32 on `device` (for merging and checks).
    pub fn dequantize(&self, device: &Device) -> candle_core::Result<Tensor> {
        let mut values = vec![0f32; self.out_features * self.in_features];
        self.dequantize_rows(0..self.out_features, &mut values);
        Tensor::from_vec(values, (self.out_features, self.in_features), device)
    }

    fn tile_rows(&self) -> usize {
        (TILE_ELEMENTS / self.in_features.max(1)).clamp(1, self.out_features.max(1))
    }

    /// Calls `f(first_row, rows, tile)` for each tile of rows of `W`, dequantized into one
    /// scratch buffer reused from tile to tile.
    fn for_each_tile<T: Real>(&self, mut f: impl FnMut(usize, usize, &[T])) {
        let (out_f, in_f) = self.dims();
        let tile_rows = self.tile_rows();
        let mut scratch = vec![T::zero(); tile_rows * in_f];
        for first in (0..out_f).step_by(tile_rows) {
            let rows = tile_rows.min(out_f - first);
            let tile = &mut scratch[..rows * in_f];
            self.dequantize_rows(first..first + rows, tile);
            f(first, rows, tile);
        }
    }

    /// `y (+)= x·Wᵀ`, a tile of columns of `y` at a time.
    fn forward<T: Real>(&self, x: &[T], y: &mut [T], accumulate: bool) -> candle_core::Result<()> {
        let (out_f, in_f) = self.dims();
        let m = x.len() / in_f.max(1);
        self.for_each_tile(|first, rows, tile: &[T]| {
            let (xs, ws) = (MatRef::new(x, m, in_f), MatRef::new(tile, rows, in_f).t());
            matmul(&mut y[first..], out_f, xs, ws, T::one(), accumulate, true);
        });
        Ok(())
    }

    /// `dx (+)= g·W`, summed over the tiles.
    fn backward<T: Real>(&self, g: &[T], dx: &mut [T], accumulate: bool) -> candle_core::Result<()> {
        let (out_f, in_f) = self.dims();
        let m = g.len() / out_f.max(1);
        self.for_each_tile(|first, rows, tile: &[T]| {
            let (gs, ws) = (MatRef::strided(&g[first..], m, rows, out_f), MatRef::new(tile, rows, in_f));
            matmul(dx, in_f, gs, ws, T::one(), accumulate || first > 0, true);
        });
        Ok(())
    }
}

impl FrozenProduct for Nf4Weight {
    fn dims(&self) -> (usize, usize) {
        Nf4Weight::dims(self)
    }
    fn accepts(&self, dtype: DType) -> bool {
        matches!(dtype, DType::F32 | DType::F64)
    }
    typed_products!();
}

/// The same NF4 weight with its codes and scales as tensors on a device (GPU, or the CPU in
/// bf16), dequantized there by table lookups.
pub struct Nf4DeviceWeight {
    /// `[ceil(n/2)]` u8.
    packed: Tensor,
    scales: DeviceScales,
    out_features: usize,
    in_features: usize,
    /// `[256, 2]` f32: the two code values of each byte.
    pairs: Tensor,
}

enum DeviceScales {
    /// `[blocks]` f32.
    Plain(Tensor),
    /// `[blocks]` u8 codes, `[ceil(blocks/256), 1]` f32 scales, the offset, `[256]` f32 map.
    Double { codes: Tensor, scales: Tensor, offset: f64, map: Tensor },
}

impl Nf4DeviceWeight {
    /// Copies a quantized weight's codes and scales to `device`.
    pub fn upload(w: &Nf4Weight, device: &Device) -> candle_core::Result<Self> {
        let pairs: Vec<f32> = byte_pairs().iter().flatten().copied().collect();
        let scales = match &w.scales {
            BlockScales::Plain(a) => DeviceScales::Plain(Tensor::new(a.as_slice(), device)?),
            BlockScales::Double(dq) => DeviceScales::Double {
                codes: Tensor::new(dq.codes.as_slice(), device)?,
                scales: Tensor::from_vec(dq.scales.clone(), (dq.scales.len(), 1), device)?,
                offset: f64::from(dq.offset),
                map: Tensor::new(dynamic_map().as_slice(), device)?,
            },
        };
        Ok(Self {
            packed: Tensor::new(w.packed.as_slice(), device)?,
            scales,
            out_features: w.out_features,
            in_features: w.in_features,
            pairs: Tensor::from_vec(pairs, (256, 2), device)?,
        })
    }

    /// Bytes held on the device (the constant tables aside).
    pub fn bytes(&self) -> usize {
        let scales = match &self.scales {
            DeviceScales::Plain(a) => a.elem_count() * 4,
            DeviceScales::Double { codes, scales, .. } => codes.elem_count() + 4 * scales.elem_count() + 4,
        };
        self.packed.elem_count() + scales
    }

    /// One absmax per block, f32 `[blocks, 1]`.
    fn absmax(&self, blocks: usize) -> candle_core::Result<Tensor> {
        match &self.scales {
            DeviceScales::Plain(a) => a.reshape((blocks, 1)),
            DeviceScales::Double { codes, scales, offset, map } => {
                let per = nf4::DOUBLE_QUANT_BLOCKSIZE;
                let groups = scales.dim(0)?;
                let values = map.index_select(&lookup_ids(codes)?, 0)?;
                let values = pad_to(&values, groups * per)?;
                let scaled = values.reshape((groups, per))?.broadcast_mul(scales)?;
                scaled.flatten_all()?.narrow(0, 0, blocks)?.affine(1.0, *offset)?.reshape((blocks, 1))
            }
        }
    }

    /// `W: [out, in]` in `dtype`, dequantized on the device.
    pub fn dequantize(&self, dtype: DType) -> candle_core::Result<Tensor> {
        let n = self.out_features * self.in_features;
        let blocks = n.div_ceil(DEFAULT_BLOCKSIZE);
        let codes = self.pairs.index_select(&lookup_ids(&self.packed)?, 0)?.flatten_all()?;
        let codes = pad_to(&codes, blocks * DEFAULT_BLOCKSIZE)?;
        let w = codes.reshape((blocks, DEFAULT_BLOCKSIZE))?.broadcast_mul(&self.absmax(blocks)?)?;
        w.flatten_all()?.narrow(0, 0, n)?.reshape((self.out_features, self.in_features))?.to_dtype(dtype)
    }
}

/// Byte codes as lookup indices. candle reads the largest value of an index type as "no entry"
/// (a u8 255 selects zeros), so bytes are widened to u32 for the lookup.
fn lookup_ids(bytes: &Tensor) -> candle_core::Result<Tensor> {
    bytes.to_dtype(DType::U32)
}

/// The first `len` values of the 1-D `t`, zero-padded when it is shorter.
fn pad_to(t: &Tensor, len: usize) -> candle_core::Result<Tensor> {
    let have = t.dim(0)?;
    match have < len {
        true => Tensor::cat(&[t, &Tensor::zeros(len - have, t.dtype(), t.device())?], 0),
        false => t.narrow(0, 0, len),
    }
}

/// `x·Wᵀ` with a device NF4 weight: the product is computed outside the graph (`y0`), and this
/// op hands it on with a backward that dequantizes `W` again for `∂x = g·W` — so the graph holds
/// neither a dequantized weight nor a weight gradient.
struct Nf4DeviceProject {
    weight: Arc<Nf4DeviceWeight>,
    /// The product, taken by the forward (which copies it into the op's output).
    y0: Mutex<Option<Tensor>>,
}

impl Nf4DeviceProject {
    fn take_output<S: BackendStorage>(&self, pick: impl Fn(&Storage) -> Option<&S>) -> candle_core::Result<(S, Shape)> {
        let y0 = self.y0.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(y0) = y0 else { candle_core::bail!("NF4 projection: forward ran twice") };
        let (storage, layout) = y0.storage_and_layout();
        let Some(s) = pick(&storage) else { candle_core::bail!("NF4 projection: output on another device") };
        Ok((s.try_clone(layout)?, layout.shape().clone()))
    }
}

impl CustomOp1 for Nf4DeviceProject {
    fn name(&self) -> &'static str {
        "nf4-device-project"
    }
    fn cpu_fwd(&self, _s: &CpuStorage, _l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.take_output(|s| match s {
            Storage::Cpu(c) => Some(c),
            _ => None,
        })
    }
    fn cuda_fwd(&self, _s: &CudaStorage, _l: &Layout) -> candle_core::Result<(CudaStorage, Shape)> {
        self.take_output(|s| match s {
            Storage::Cuda(c) => Some(c),
            _ => None,
        })
    }
    fn metal_fwd(&self, _s: &MetalStorage, _l: &Layout) -> candle_core::Result<(MetalStorage, Shape)> {
        self.take_output(|s| match s {
            Storage::Metal(c) => Some(c),
            _ => None,
        })
    }
    fn bwd(&self, x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let w = self.weight.dequantize(grad.dtype())?;
        let rows = grad.elem_count() / self.weight.out_features.max(1);
        let dx = grad.reshape((rows, self.weight.out_features))?.matmul(&w)?;
        Ok(Some(dx.reshape(x.shape())?))
    }
}

/// `x·Wᵀ` for `x: [.., in]` through a device NF4 weight; gradient to `x` only.
pub fn nf4_device_project(x: &Tensor, weight: &Arc<Nf4DeviceWeight>) -> candle_core::Result<Tensor> {
    let (out_f, in_f) = (weight.out_features, weight.in_features);
    let rows = x.elem_count() / in_f.max(1);
    let w = weight.dequantize(x.dtype())?;
    let y0 = x.detach().reshape((rows, in_f))?.matmul(&w.t()?)?;
    let mut dims = x.dims().to_vec();
    *dims.last_mut().expect("x has a feature axis") = out_f;
    let y0 = y0.reshape(dims)?.contiguous()?;
    x.apply_op1(Nf4DeviceProject { weight: weight.clone(), y0: Mutex::new(Some(y0)) })
}

/// Where a 4-bit projection keeps its weight.
enum Nf4Storage {
    /// Host memory, multiplied by the CPU kernels (f32/f64 compute).
    Host(Arc<Nf4Weight>),
    /// A device (or bf16 on the CPU), dequantized by tensor ops.
    Device(Arc<Nf4DeviceWeight>),
}

/// A frozen NF4 projection (the base of a QLoRA layer).
pub struct Nf4Linear {
    storage: Nf4Storage,
    bias: Option<Tensor>,
    product: Option<SharedProduct>,
    dims: (usize, usize),
    device: Device,
}

impl Nf4Linear {
    /// Keeps `weight` on the host when the model computes in f32/f64 on the CPU, otherwise uploads
    /// its codes to `device`. `bias` stays dense.
    pub fn new(weight: Nf4Weight, bias: Option<Tensor>, dtype: DType, device: &Device) -> candle_core::Result<Self> {
        let dims = weight.dims();
        let host = device.is_cpu() && matches!(dtype, DType::F32 | DType::F64);
        Self::with_storage(weight, bias, host, device, dims)
    }

    /// The path GPUs take (codes as device tensors), here on any device: for tests on the CPU.
    pub fn on_device_path(weight: Nf4Weight, bias: Option<Tensor>, device: &Device) -> candle_core::Result<Self> {
        let dims = weight.dims();
        Self::with_storage(weight, bias, false, device, dims)
    }

    fn with_storage(
        weight: Nf4Weight,
        bias: Option<Tensor>,
        host: bool,
        device: &Device,
        dims: (usize, usize),
    ) -> candle_core::Result<Self> {
        let (storage, product) = match host {
            true => {
                let w = Arc::new(weight);
                (Nf4Storage::Host(w.clone()), Some(w as SharedProduct))
            }
            false => (Nf4Storage::Device(Arc::new(Nf4DeviceWeight::upload(&weight, device)?)), None),
        };
        Ok(Self { storage, bias: bias.map(|b| b.detach()), product, dims, device: device.clone() })
    }

    /// Bytes the quantized weight holds (codes and scales; not the bias).
    pub fn weight_bytes(&self) -> usize {
        match &self.storage {
            Nf4Storage::Host(w) => w.bytes(),
            Nf4Storage::Device(w) => w.bytes(),
        }
    }
}

impl BaseLinear for Nf4Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = match (&self.storage, &self.product) {
            (Nf4Storage::Host(_), Some(p)) if cpu_float(x) => frozen::project(x, p)?,
            (Nf4Storage::Host(_), _) => candle_core::bail!(
                "NF4 projection on the host needs f32/f64 CPU inputs, got {:?} on {:?}",
                x.dtype(),
                x.device()
            ),
            (Nf4Storage::Device(w), _) => nf4_device_project(x, w)?,
        };
        add_bias(y, self.bias.as_ref())
    }
    fn in_features(&self) -> usize {
        self.dims.1
    }
    fn out_features(&self) -> usize {
        self.dims.0
    }
    fn dequantized_weight(&self) -> candle_core::Result<Tensor> {
        match &self.storage {
            Nf4Storage::Host(w) => w.dequantize(&self.device),
            Nf4Storage::Device(w) => w.dequantize(DType::F32),
        }
    }
    fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
    fn cpu_product(&self) -> Option<&SharedProduct> {
        self.product.as_ref()
    }
    fn weight_bytes(&self) -> usize {
        Nf4Linear::weight_bytes(self)
    }
    fn is_quantized(&self) -> bool {
        true
    }
}
