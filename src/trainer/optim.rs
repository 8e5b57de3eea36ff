//! AdamW with savable state (candle_nn's hides its moments), learning-rate schedules and
//! global-norm gradient clipping — all matching PyTorch / transformers.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor, Var};

use crate::trainer::tensorfile::{self, TensorFileError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    Constant,
    Linear,
    Cosine,
}

/// transformers' `get_{constant,linear,cosine}_schedule_with_warmup`: linear warm-up from 0,
/// then constant, linear decay to 0, or half-cosine decay to 0 at `total_steps`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LrSchedule {
    pub kind: ScheduleKind,
    pub base_lr: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl LrSchedule {
    /// Learning rate for optimizer step `step` (0-based).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.base_lr * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let decay_steps = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let progress = (step - self.warmup_steps) as f64 / decay_steps;
        match self.kind {
            ScheduleKind::Constant => self.base_lr,
            ScheduleKind::Linear => self.base_lr * (1.0 - progress).max(0.0),
            ScheduleKind::Cosine => self.base_lr * (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults, except weight decay 0 (PyTorch: 0.01; transformers' Trainer: 0).
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// AdamW (decoupled weight decay, bias correction) over named f32 variables.
pub struct AdamW {
    pub config: AdamWConfig,
    params: Vec<(String, Var)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    /// Updates applied so far.
    pub step: usize,
}

impl AdamW {
    pub fn new(params: Vec<(String, Var)>, config: AdamWConfig) -> candle_core::Result<Self> {
        let exp_avg = params
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like()?.to_dtype(DType::F32))
            .collect::<Result<Vec<_>, _>>()?;
        let exp_avg_sq = exp_avg.clone();
        Ok(Self { config, params, exp_avg, exp_avg_sq, step: 0 })
    }

    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    /// One update with `grads[i]` for `params[i]` at learning rate `lr` (PyTorch's formula:
    /// `p ← p(1 − lr·wd) − (lr / bc1) · m / (√v / √bc2 + ε)`).
    pub fn step(&mut self, grads: &[Tensor], lr: f64) -> candle_core::Result<()> {
        self.step += 1;
        let c = self.config;
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2 = 1.0 - c.beta2.powi(self.step as i32);
        for (i, (_, var)) in self.params.iter().enumerate() {
            let g = grads[i].to_dtype(DType::F32)?;
            let m = ((&self.exp_avg[i] * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
            let v = ((&self.exp_avg_sq[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let denom = ((v.sqrt()? / bc2.sqrt())? + c.eps)?;
            let p = var.as_tensor();
            let p = if c.weight_decay != 0.0 { (p * (1.0 - lr * c.weight_decay))? } else { p.clone() };
            let update = (m.div(&denom)? * (lr / bc1))?;
            var.set(&(p - update)?)?;
            self.exp_avg[i] = m;
            self.exp_avg_sq[i] = v;
        }
        Ok(())
    }

    /// Moments as `{name}.exp_avg` / `{name}.exp_avg_sq` (the step count lives in the trainer state).
    pub fn save(&self, path: &Path) -> Result<(), TensorFileError> {
        let mut tensors = Vec::with_capacity(self.params.len() * 2);
        for (i, (name, _)) in self.params.iter().enumerate() {
            tensors.push((format!("{name}.exp_avg"), self.exp_avg[i].clone()));
            tensors.push((format!("{name}.exp_avg_sq"), self.exp_avg_sq[i].clone()));
        }
        tensorfile::save_f32(path, &tensors, None)
    }

    /// Restores moments saved by [`AdamW::save`] after `step` updates.
    pub fn load(&mut self, path: &Path, step: usize) -> Result<(), String> {
        let device = self.params.first().map(|(_, v)| v.device().clone()).unwrap_or(candle_core::Device::Cpu);
        let (tensors, _): (HashMap<String, Tensor>, _) = tensorfile::load(path, &device).map_err(|e| e.to_string())?;
        for (i, (name, var)) in self.params.iter().enumerate() {
            for (suffix, slot) in [("exp_avg", &mut self.exp_avg[i]), ("exp_avg_sq", &mut self.exp_avg_sq[i])] {
                let key = format!("{name}.{suffix}");
                let t = tensors.get(&key).ok_or_else(|| format!("{}: missing `{key}`", path.display()))?;
                if t.dims() != var.dims() {
                    return Err(format!(
                        "{}: `{key}` has shape {:?}, expected {:?}",
                        path.display(),
                        t.dims(),
                        var.dims()
                    ));
                }
                *slot = t.to_dtype(DType::F32).map_err(|e| e.to_string())?;
            }
        }
        self.step = step;
        Ok(())
    }
}

/// Global L2 norm of `grads`.
pub fn global_norm(grads: &[Tensor]) -> candle_core::Result<f64> {
    let mut sum = 0f64;
    for g in grads {
        sum += g.to_dtype(DType::F32)?.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
    }
    Ok(sum.sqrt())
}

/// `torch.nn.utils.clip_grad_norm_`: scale all gradients by `max_norm / (norm + 1e-6)` when
/// that is below 1. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Tensor], max_norm: f64) -> candle_core::Result<f64> {
    let norm = global_norm(grads)?;
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for g in grads.iter_mut() {
            *g = (&*g * coef)?;
        }
    }
    Ok(norm)
}
