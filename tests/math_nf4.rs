//! NF4 against the REAL bitsandbytes: vectors in tests/data/nf4/ were made by
//! scripts/gen_nf4_vectors.py with bitsandbytes' CPU quantize_4bit (versions in each file's meta).

use std::path::PathBuf;

use lora_arcade::math::MathError;
use lora_arcade::math::nf4::{
    DEFAULT_BLOCKSIZE, NF4_CODE, NF4_MIDPOINTS, Nf4Tensor, bits_per_weight, create_dynamic_map_signed, double_quantize,
    double_quantize_blocks, max_code_gap, max_quantization_error, nearest_code, quantize, torch_f32_mean,
};
use proptest::prelude::*;
use serde_json::Value;

const CASES: [&str; 10] = [
    "normal",
    "uniform",
    "outliers",
    "tail_not_multiple",
    "zero_block",
    "zero_tail",
    "many_blocks",
    "tiny_odd",
    "midpoint_ties",
    "scaling_probe",
];

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/nf4/{name}.json"))
}

fn load(name: &str) -> Value {
    let path = data_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex_bytes(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field].as_str().unwrap_or_else(|| panic!("field {field} is not a hex string"));
    assert_eq!(s.len() % 2, 0, "{field}: odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|e| panic!("{field}: {e}")))
        .collect()
}

fn hex_f32(v: &Value, field: &str) -> Vec<f32> {
    let bytes = hex_bytes(v, field);
    assert_eq!(bytes.len() % 4, 0, "{field}: not whole f32 values");
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The "many_blocks" input, recomputed exactly as scripts/gen_nf4_vectors.py does (f32 ops).
fn many_blocks_input() -> Vec<f32> {
    let mut x: Vec<f32> = (0..64u64 * 300)
        .map(|i| {
            let h = ((i * 2_654_435_761) % (1u64 << 32)) as f32;
            let u = h * 2f32.powi(-32);
            let scale = (((i / 64) % 7 + 1) as f32) * 0.05f32;
            (u - 0.5) * scale
        })
        .collect();
    x[5000] = 0.4;
    x
}

fn input_of(case: &Value) -> Vec<f32> {
    if case["input_hex"].is_null() {
        assert_eq!(case["name"], "many_blocks");
        many_blocks_input()
    } else {
        hex_f32(case, "input_hex")
    }
}

/// Bit-exact comparison of f32 slices, reporting the first difference (+0 and −0 are equal).
fn assert_f32_exact(what: &str, ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            a == b,
            "{what}[{i}]: ours {a:e} ({:#010x}) vs bitsandbytes {b:e} ({:#010x})",
            a.to_bits(),
            b.to_bits()
        );
    }
}

#[test]
fn dynamic_map_is_bit_identical_to_bitsandbytes() {
    let expected = hex_f32(&load("dynamic_map"), "map_hex");
    assert_f32_exact("dynamic map", &create_dynamic_map_signed(), &expected);
}

#[test]
fn nf4_code_table_matches_bitsandbytes() {
    // The tie case's last 16 inputs are bitsandbytes' own code table, scaled by absmax 1.0.
    let ties = input_of(&load("midpoint_ties"));
    assert_f32_exact("NF4 code", &NF4_CODE, &ties[ties.len() - 16..]);
}

#[test]
fn quantize_matches_bitsandbytes_packed_absmax_and_dequantized() {
    for name in CASES {
        let case = load(name);
        let x = input_of(&case);
        assert_eq!(x.len() as u64, case["len"].as_u64().unwrap(), "{name}: len");
        let q = quantize(&x, DEFAULT_BLOCKSIZE).unwrap();
        assert_eq!(q.packed, hex_bytes(&case, "packed_hex"), "{name}: packed bytes");
        assert_f32_exact(&format!("{name} absmax"), &q.absmax, &hex_f32(&case, "absmax_hex"));
        if !case["dequantized_hex"].is_null() {
            assert_f32_exact(&format!("{name} dequantized"), &q.dequantize(), &hex_f32(&case, "dequantized_hex"));
        }
    }
}

#[test]
fn double_quant_matches_bitsandbytes() {
    for name in CASES {
        let case = load(name);
        let dq_ref = &case["double_quant"];
        let q = quantize(&input_of(&case), DEFAULT_BLOCKSIZE).unwrap();
        let dq = double_quantize(&q.absmax).unwrap();
        assert_eq!(dq.blocksize as u64, dq_ref["blocksize2"].as_u64().unwrap());
        assert_f32_exact(&format!("{name} offset"), &[dq.offset], &hex_f32(dq_ref, "offset_hex"));
        assert_eq!(dq.codes, hex_bytes(dq_ref, "codes_hex"), "{name}: 8-bit absmax codes");
        assert_f32_exact(&format!("{name} DQ scales"), &dq.scales, &hex_f32(dq_ref, "scales_hex"));
        let absmax_dq = dq.dequantize();
        assert_f32_exact(&format!("{name} DQ absmax"), &absmax_dq, &hex_f32(dq_ref, "absmax_dequantized_hex"));
        if !dq_ref["dequantized_hex"].is_null() {
            let deq = q.dequantize_with_absmax(&absmax_dq).unwrap();
            assert_f32_exact(&format!("{name} DQ dequantized"), &deq, &hex_f32(dq_ref, "dequantized_hex"));
        }
    }
}

#[test]
fn many_blocks_case_has_two_scale_blocks() {
    let q = quantize(&many_blocks_input(), DEFAULT_BLOCKSIZE).unwrap();
    assert_eq!(q.num_blocks(), 300);
    assert_eq!(double_quantize(&q.absmax).unwrap().scales.len(), 2);
}

#[test]
fn value_on_a_midpoint_rounds_to_the_lower_code() {
    for (i, &m) in NF4_MIDPOINTS.iter().enumerate() {
        assert_eq!(nearest_code(m), i as u8, "midpoint {i}");
        assert_eq!(nearest_code(f32::from_bits(m.to_bits()).next_up()), i as u8 + 1, "just above midpoint {i}");
    }
    for (i, &c) in NF4_CODE.iter().enumerate() {
        assert_eq!(nearest_code(c), i as u8);
    }
    assert_eq!(nearest_code(-3.0), 0);
    assert_eq!(nearest_code(3.0), 15);
    assert_eq!(nearest_code(f32::NAN), 15);
}

#[test]
fn nearest_code_is_the_nearest_value() {
    // Away from exact midpoints the rule is plain nearest-value rounding.
    for k in -1000..=1000 {
        let v = k as f32 / 1000.0;
        let q = nearest_code(v);
        let best = NF4_CODE.iter().map(|c| (c - v).abs()).fold(f32::INFINITY, f32::min);
        assert!((NF4_CODE[q as usize] - v).abs() <= best + 1e-7, "v = {v}: code {q}");
    }
}

#[test]
fn packing_puts_the_first_value_in_the_high_nibble() {
    // -1.0 → code 0, 1.0 → 15, 0.0 → 7; odd length pads with code 7.
    let q = quantize(&[-1.0, 1.0, 0.0], 64).unwrap();
    assert_eq!(q.packed, vec![0x0F, 0x77]);
    assert_eq!(q.codes(), vec![0, 15, 7]);
    assert_eq!(q.dequantize(), vec![-1.0, 1.0, 0.0]);
    assert_eq!(q.bytes(), 2 + 4);
}

#[test]
fn bits_per_weight_matches_the_qlora_paper() {
    assert_eq!(bits_per_weight(64, false), 4.5);
    let dq = bits_per_weight(64, true);
    assert!((dq - (4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0))).abs() < 1e-12);
    assert!((dq - 4.127).abs() < 0.001, "{dq}");
    assert!(bits_per_weight(0, false).is_infinite());
}

#[test]
fn max_quantization_error_is_half_the_widest_gap() {
    // The widest gap is at the negative end, between −1 and −0.6962 (NF4 is asymmetric).
    let gap = 1.0 + NF4_CODE[1];
    assert_eq!(NF4_CODE[1], -0.696_192_8);
    assert_eq!(max_code_gap(), gap);
    assert_eq!(max_quantization_error(2.0), gap);
}

#[test]
fn bad_inputs_are_errors() {
    assert!(matches!(quantize(&[1.0], 0), Err(MathError::ZeroBlocksize { .. })));
    assert!(matches!(quantize(&[], 64), Err(MathError::EmptyInput { .. })));
    assert!(matches!(quantize(&[1.0, f32::NAN], 64), Err(MathError::NonFinite { index: 1, .. })));
    assert!(matches!(quantize(&[f32::INFINITY], 64), Err(MathError::NonFinite { .. })));
    assert!(matches!(double_quantize(&[]), Err(MathError::EmptyInput { .. })));
    assert!(matches!(double_quantize_blocks(&[1.0], 0), Err(MathError::ZeroBlocksize { .. })));
    assert!(matches!(double_quantize(&[1.0, f32::NAN]), Err(MathError::NonFinite { .. })));
    // 5 values need 3 packed bytes and one absmax for blocks of 64.
    assert!(matches!(Nf4Tensor::from_parts(vec![0; 2], vec![1.0], 5, 64), Err(MathError::ShapeMismatch { .. })));
    assert!(matches!(Nf4Tensor::from_parts(vec![0; 3], vec![1.0, 1.0], 5, 64), Err(MathError::ShapeMismatch { .. })));
    assert!(matches!(Nf4Tensor::from_parts(vec![0; 3], vec![1.0], 5, 0), Err(MathError::ZeroBlocksize { .. })));
    assert!(matches!(Nf4Tensor::from_parts(vec![], vec![], 0, 64), Err(MathError::EmptyInput { .. })));
    assert!(matches!(Nf4Tensor::from_parts(vec![0; 3], vec![f32::NAN], 5, 64), Err(MathError::NonFinite { .. })));
    let ok = Nf4Tensor::from_parts(vec![0x0F, 0x77, 0x70], vec![2.0], 5, 64).unwrap();
    assert_eq!(ok.dequantize(), vec![-2.0, 2.0, 0.0, 0.0, 0.0]);
    assert!(ok.dequantize_with_absmax(&[1.0, 2.0]).is_err());
}

/// u_i · 3, u_i = ((i · 2654435761) mod 2³²) / 2³², in f32 — as `hashed_uniform` in the script.
fn hashed_uniform(n: u64) -> Vec<f32> {
    (0..n).map(|i| ((i * 2_654_435_761) % (1u64 << 32)) as f32 * 2f32.powi(-32) * 3.0).collect()
}

#[test]
fn torch_mean_emulation_is_bit_identical_to_torch() {
    let file = load("torch_mean");
    let means = file["mean_hex"].as_object().expect("mean_hex is an object");
    assert!(means.len() >= 10);
    for (n, _) in means {
        let n: u64 = n.parse().unwrap();
        let expected = hex_f32(&file["mean_hex"], &n.to_string())[0];
        let ours = torch_f32_mean(&hashed_uniform(n));
        assert!(ours == expected, "n = {n}: ours {ours:e} vs torch {expected:e}");
    }
}

#[test]
fn torch_mean_emulation_handles_short_inputs() {
    assert_eq!(torch_f32_mean(&[3.0]), 3.0);
    assert_eq!(torch_f32_mean(&[1.0, 2.0, 3.0, 4.0, 5.0]), 3.0);
    let many: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    assert_eq!(torch_f32_mean(&many), 499.5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roundtrip_error_is_within_the_block_bound(
        x in prop::collection::vec(-100.0f32..100.0, 1..300),
        blocksize in prop::sample::select(vec![1usize, 7, 32, 64, 128]),
    ) {
        let q = quantize(&x, blocksize).unwrap();
        let y = q.dequantize();
        prop_assert_eq!(y.len(), x.len());
        for (i, (a, b)) in x.iter().zip(&y).enumerate() {
            let absmax = q.absmax[i / blocksize];
            // f32 rounding of x/absmax and of code·absmax adds a few ulps of absmax.
            let bound = max_quantization_error(absmax) + 4.0 * f32::EPSILON * absmax;
            prop_assert!((a - b).abs() <= bound, "x[{}] = {} → {}, bound {}", i, a, b, bound);
        }
    }

    #[test]
    fn codes_survive_packing(x in prop::collection::vec(-1.0f32..1.0, 1..200)) {
        let q = quantize(&x, 64).unwrap();
        let codes = q.codes();
        prop_assert_eq!(codes.len(), x.len());
        prop_assert_eq!(q.packed.len(), x.len().div_ceil(2));
        for (i, chunk) in x.chunks(64).enumerate() {
            let absmax = q.absmax[i];
            for (j, &v) in chunk.iter().enumerate() {
                let scaled = if chunk.len() == 64 { v * (1.0 / absmax.max(1e-38)) } else { v / absmax.max(1e-38) };
                prop_assert_eq!(codes[i * 64 + j], nearest_code(scaled.clamp(-1.0, 1.0)));
            }
        }
        let rebuilt = Nf4Tensor::from_parts(q.packed.clone(), q.absmax.clone(), q.len, q.blocksize).unwrap();
        prop_assert_eq!(rebuilt, q);
    }

    #[test]
    fn double_quant_error_is_small(absmax in prop::collection::vec(0.0f32..4.0, 1..600)) {
        let dq = double_quantize(&absmax).unwrap();
        prop_assert_eq!(dq.scales.len(), absmax.len().div_ceil(256));
        let back = dq.dequantize();
        // The dynamic map's widest gap is near ±1 (≈ 0.0141); the 65,536-bin grid adds ≤ 2/65535.
        for (i, (a, b)) in absmax.iter().zip(&back).enumerate() {
            let scale = dq.scales[i / 256];
            prop_assert!((a - b).abs() <= scale * (0.0071 + 3.1e-5) + 1e-5, "absmax[{}] {} → {}", i, a, b);
        }
    }
}

// ---- `lora-arcade nf4 quantize|dequantize`: the same bytes as bitsandbytes, through files ----

fn nf4_cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lora-arcade")).arg("nf4").args(args).output().unwrap()
}

/// Writes `tensors` (name, dtype, shape, little-endian bytes) as a safetensors file.
fn write_safetensors(path: &std::path::Path, tensors: &[(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)]) {
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn nf4_quantize_command_writes_bitsandbytes_bytes_and_dequantize_gives_them_back() {
    use safetensors::{Dtype, SafeTensors};
    let dir = tempfile::tempdir().unwrap();
    for name in CASES {
        let case = load(name);
        let x = input_of(&case);
        // A 2-D matrix of the same row-major values: 1 × n, or k × n/k when n factors.
        let rows = [7, 5, 3, 2].into_iter().find(|k| x.len().is_multiple_of(*k)).unwrap_or(1);
        let input = dir.path().join(format!("{name}.safetensors"));
        let norm = f32_le(&[1.0, 2.0]);
        write_safetensors(
            &input,
            &[("w", Dtype::F32, vec![rows, x.len() / rows], f32_le(&x)), ("norm", Dtype::F32, vec![2], norm.clone())],
        );
        for double_quant in [false, true] {
            let out = dir.path().join(format!("{name}-{double_quant}.nf4.safetensors"));
            let mut args = vec![
                std::ffi::OsStr::new("quantize"),
                "--in".as_ref(),
                input.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ];
            if !double_quant {
                args.push("--no-double-quant".as_ref());
            }
            let run = nf4_cli(&args);
            assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
            let bytes = std::fs::read(&out).unwrap();
            let file = SafeTensors::deserialize(&bytes).unwrap();
            let packed = file.tensor("w").unwrap();
            assert_eq!((packed.dtype(), packed.shape()), (Dtype::U8, &[x.len().div_ceil(2), 1][..]), "{name}");
            assert_eq!(packed.data(), hex_bytes(&case, "packed_hex").as_slice(), "{name}: packed bytes");
            assert_eq!(file.tensor("norm").unwrap().data(), norm.as_slice(), "{name}: other tensors are copied");
            let absmax = file.tensor("w.absmax").unwrap();
            let dq = &case["double_quant"];
            if double_quant {
                assert_eq!(absmax.data(), hex_bytes(dq, "codes_hex").as_slice(), "{name}: absmax codes");
                assert_eq!(file.tensor("w.nested_absmax").unwrap().data(), hex_bytes(dq, "scales_hex").as_slice());
                assert_eq!(file.tensor("w.nested_offset").unwrap().data(), hex_bytes(dq, "offset_hex").as_slice());
            } else {
                assert_eq!(absmax.data(), hex_bytes(&case, "absmax_hex").as_slice(), "{name}: absmax");
                assert!(file.tensor("w.nested_absmax").is_err());
            }

            let back = dir.path().join(format!("{name}-{double_quant}.back.safetensors"));
            let run =
                nf4_cli(&["dequantize".as_ref(), "--in".as_ref(), out.as_os_str(), "--out".as_ref(), back.as_os_str()]);
            assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
            let bytes = std::fs::read(&back).unwrap();
            let file = SafeTensors::deserialize(&bytes).unwrap();
            let w = file.tensor("w").unwrap();
            assert_eq!(w.shape(), &[rows, x.len() / rows], "{name}: the original shape");
            let field = if double_quant { &dq["dequantized_hex"] } else { &case["dequantized_hex"] };
            if !field.is_null() {
                let expected =
                    if double_quant { hex_bytes(dq, "dequantized_hex") } else { hex_bytes(&case, "dequantized_hex") };
                assert_eq!(w.data(), expected.as_slice(), "{name}: dequantized values (double quant {double_quant})");
            }
        }
    }
}

#[test]
fn nf4_commands_name_what_they_cannot_use() {
    use safetensors::Dtype;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let run = |input: &std::path::Path, verb: &str| {
        let o = nf4_cli(&[verb.as_ref(), "--in".as_ref(), input.as_os_str(), "--out".as_ref(), out.as_os_str()]);
        assert!(!o.status.success(), "{verb} {} should fail", input.display());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let vectors = dir.path().join("vectors.safetensors");
    write_safetensors(&vectors, &[("bias", Dtype::F32, vec![3], f32_le(&[1.0, 2.0, 3.0]))]);
    let err = run(&vectors, "quantize");
    assert!(err.contains("no 2-D float tensor") && err.contains("bias"), "{err}");
    let doubles = dir.path().join("f64.safetensors");
    write_safetensors(&doubles, &[("proj", Dtype::F64, vec![2, 2], vec![0u8; 32])]);
    let err = run(&doubles, "quantize");
    assert!(err.contains("`proj`") && err.contains("F64"), "{err}");
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &std::fs::read(&vectors).unwrap()[..20]).unwrap();
    let err = run(&truncated, "quantize");
    assert!(err.contains("truncated or not a safetensors file"), "{err}");
    let err = run(&vectors, "dequantize");
    assert!(err.contains("no NF4 tensor"), "{err}");
    assert!(!out.exists(), "nothing is written when a command fails");
}
