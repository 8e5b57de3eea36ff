//! LoRA maths: rank, ΔW = B·A, factorization checks, forward pass, parameter counts,
//! truncated SVD and the memory calculator.

use lora_arcade::math::MathError;
use lora_arcade::math::lora::{
    DecoderShape, Scaling, Target, best_rank_approx, check_factorization, delta_w, full_params, lora_forward,
    lora_params, rank, rank_with_tol, singular_values, try_rank, try_rank_with_tol,
};
use lora_arcade::math::memory::{
    AdapterPrecision, GB, GIB, Precision, gibibytes, gigabytes, training_memory, weight_bytes,
};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// The slide deck's example: W = [-2,-1,7,6]ᵀ · [4,1,3,-3].
fn deck_w() -> DMatrix<f64> {
    DMatrix::from_row_slice(
        4,
        4,
        &[
            -8.0, -2.0, -6.0, 6.0, //
            -4.0, -1.0, -3.0, 3.0, //
            28.0, 7.0, 21.0, -21.0, //
            24.0, 6.0, 18.0, -18.0,
        ],
    )
}

fn deck_b() -> DMatrix<f64> {
    DMatrix::from_column_slice(4, 1, &[-2.0, -1.0, 7.0, 6.0])
}

fn deck_a() -> DMatrix<f64> {
    DMatrix::from_row_slice(1, 4, &[4.0, 1.0, 3.0, -3.0])
}

#[test]
fn deck_example_is_rank_one_and_factors_as_b_times_a() {
    let w = deck_w();
    assert_eq!(rank(&w), 1);
    assert_eq!(delta_w(&deck_b(), &deck_a()).unwrap(), w);
    let check = check_factorization(&w, &deck_b(), &deck_a(), 1e-9).unwrap();
    assert!(check.ok);
    assert_eq!(check.rank_used, 1);
    assert_eq!(check.max_abs_error, 0.0);
    assert_eq!(check.mismatches(), 0);
    // 16 numbers stored as 4 + 4.
    assert_eq!(full_params(4, 4), 16);
    assert_eq!(lora_params(4, 4, 1), 8);
}

#[test]
fn any_factorization_of_the_deck_example_is_accepted() {
    let w = deck_w();
    // Rescaled factors (2b, a/2) and sign-flipped ones give the same product.
    let b2 = deck_b() * 2.0;
    let a2 = deck_a() * 0.5;
    assert!(check_factorization(&w, &b2, &a2, 1e-9).unwrap().ok);
    assert!(check_factorization(&w, &(-deck_b()), &(-deck_a()), 1e-9).unwrap().ok);
    // A rank-2 factorization whose second component cancels is also W.
    let b = DMatrix::from_row_slice(4, 2, &[-2.0, 1.0, -1.0, 0.0, 7.0, 0.0, 6.0, 0.0]);
    let a = DMatrix::from_row_slice(2, 4, &[4.0, 1.0, 3.0, -3.0, 0.0, 0.0, 0.0, 0.0]);
    let check = check_factorization(&w, &b, &a, 1e-9).unwrap();
    assert!(check.ok);
    assert_eq!(check.rank_used, 2);
}

#[test]
fn a_wrong_cell_is_flagged_where_it_is() {
    let mut b = deck_b();
    b[(2, 0)] = 6.0; // row 2 of B·A becomes 6·[4,1,3,-3]
    let check = check_factorization(&deck_w(), &b, &deck_a(), 1e-6).unwrap();
    assert!(!check.ok);
    assert_eq!(check.mismatches(), 4);
    for c in 0..4 {
        assert!(!check.cell_ok[(2, c)]);
        assert!(check.cell_ok[(0, c)]);
    }
    assert_eq!(check.max_abs_error, 4.0);
}

#[test]
fn the_decks_a_times_b_order_is_a_shape_error() {
    // With B d_out×r and A r×d_in, only B·A is ΔW; A·B is undefined unless d_in = d_out.
    let b = DMatrix::from_element(5, 2, 1.0);
    let a = DMatrix::from_element(2, 3, 1.0);
    assert_eq!(delta_w(&b, &a).unwrap().shape(), (5, 3));
    assert!(matches!(delta_w(&a, &b), Err(MathError::ShapeMismatch { .. })));
}

#[test]
fn rank_uses_numpys_default_tolerance() {
    let mut w = deck_w();
    assert_eq!(rank(&w), 1);
    // Noise far below σ_max·4·ε is ignored, noise above it counts.
    w[(0, 0)] += 1e-15;
    assert_eq!(rank(&w), 1);
    w[(0, 0)] += 1e-6;
    assert_eq!(rank(&w), 2);
    assert_eq!(rank_with_tol(&w, 1e-3), 1);
    assert_eq!(rank(&DMatrix::identity(3, 5)), 3);
    assert_eq!(rank(&DMatrix::zeros(3, 3)), 0);
    assert_eq!(rank(&DMatrix::zeros(0, 3)), 0);
    let sigma = singular_values(&deck_w()).unwrap();
    // ‖u‖·‖v‖ = √90 · √35
    assert!((sigma[0] - (90.0f64 * 35.0).sqrt()).abs() < 1e-9);
}

#[test]
fn best_rank_approx_of_the_deck_example_is_exact_at_rank_one() {
    let (approx, err) = best_rank_approx(&deck_w(), 1).unwrap();
    assert!(err < 1e-9);
    assert!((approx - deck_w()).abs().max() < 1e-9);
    let (zero, err0) = best_rank_approx(&deck_w(), 0).unwrap();
    assert_eq!(zero, DMatrix::zeros(4, 4));
    assert!((err0 - deck_w().norm()).abs() < 1e-9);
}

#[test]
fn lora_forward_matches_the_merged_weight() {
    let mut rng = StdRng::seed_from_u64(7);
    let (d_out, d_in, r) = (5, 6, 2);
    let w = DMatrix::from_fn(d_out, d_in, |_, _| rng.random_range(-1.0..1.0));
    let a = DMatrix::from_fn(r, d_in, |_, _| rng.random_range(-1.0..1.0));
    let b = DMatrix::from_fn(d_out, r, |_, _| rng.random_range(-1.0..1.0));
    let x = DVector::from_fn(d_in, |_, _| rng.random_range(-1.0..1.0));
    for (scaling, s) in [(Scaling::Standard, 16.0 / 2.0), (Scaling::RsLora, 16.0 / 2f64.sqrt())] {
        let y = lora_forward(&w, &a, &b, &x, 16.0, scaling).unwrap();
        // Another way: merge W' = W + s·B·A, then multiply, summing by hand.
        let merged = &w + s * delta_w(&b, &a).unwrap();
        for i in 0..d_out {
            let expected: f64 = (0..d_in).map(|j| merged[(i, j)] * x[j]).sum();
            assert!((y[i] - expected).abs() < 1e-12, "{scaling:?} row {i}");
        }
    }
    // B = 0 (PEFT's init): the adapter changes nothing.
    let y0 = lora_forward(&w, &a, &DMatrix::zeros(d_out, r), &x, 16.0, Scaling::Standard).unwrap();
    assert_eq!(y0, &w * &x);
    assert_eq!(Scaling::Standard.factor(32.0, 16), 2.0);
    assert_eq!(Scaling::RsLora.factor(32.0, 16), 8.0);
}

#[test]
fn lora_forward_rejects_bad_inputs() {
    let w = DMatrix::zeros(3, 4);
    let a = DMatrix::zeros(2, 4);
    let b = DMatrix::zeros(3, 2);
    let x = DVector::zeros(4);
    assert!(lora_forward(&w, &a, &b, &x, 8.0, Scaling::Standard).is_ok());
    assert!(matches!(
        lora_forward(&w, &a, &b, &DVector::zeros(3), 8.0, Scaling::Standard),
        Err(MathError::ShapeMismatch { .. })
    ));
    assert!(matches!(lora_forward(&w, &b, &a, &x, 8.0, Scaling::Standard), Err(MathError::ShapeMismatch { .. })));
    assert!(matches!(
        lora_forward(&w, &DMatrix::zeros(0, 4), &DMatrix::zeros(3, 0), &x, 8.0, Scaling::Standard),
        Err(MathError::InvalidParameter { name: "rank", .. })
    ));
    assert!(matches!(
        lora_forward(&w, &a, &b, &x, f64::NAN, Scaling::Standard),
        Err(MathError::InvalidParameter { .. })
    ));
    let mut bad_x = x.clone();
    bad_x[2] = f64::INFINITY;
    assert!(matches!(
        lora_forward(&w, &a, &b, &bad_x, 8.0, Scaling::Standard),
        Err(MathError::NonFinite { index: 2, .. })
    ));
}

#[test]
fn bad_matrices_are_errors_not_panics() {
    let mut w = deck_w();
    w[(1, 2)] = f64::NAN;
    assert!(matches!(try_rank(&w), Err(MathError::NonFinite { index: 6, .. })));
    assert_eq!(rank(&w), 0);
    assert!(matches!(singular_values(&w), Err(MathError::NonFinite { .. })));
    assert!(matches!(best_rank_approx(&w, 1), Err(MathError::NonFinite { .. })));
    assert!(matches!(try_rank_with_tol(&deck_w(), -1.0), Err(MathError::InvalidParameter { .. })));
    assert!(matches!(best_rank_approx(&deck_w(), 5), Err(MathError::RankTooLarge { rank: 5, rows: 4, cols: 4 })));
    assert!(matches!(check_factorization(&deck_w(), &deck_a(), &deck_b(), 1e-6), Err(MathError::ShapeMismatch { .. })));
    assert!(matches!(
        check_factorization(&deck_w(), &deck_b(), &deck_a(), f64::NAN),
        Err(MathError::InvalidParameter { .. })
    ));
    assert!(matches!(check_factorization(&w, &deck_b(), &deck_a(), 1e-6), Err(MathError::NonFinite { .. })));
    let mut b = deck_b();
    b[(0, 0)] = f64::NEG_INFINITY;
    assert!(matches!(delta_w(&b, &deck_a()), Err(MathError::NonFinite { what: "B", .. })));
    // Messages name what is wrong.
    let msg = delta_w(&deck_a(), &deck_a()).unwrap_err().to_string();
    assert!(msg.contains("1×4"), "{msg}");
}

#[test]
fn parameter_counts_match_the_published_model_sizes() {
    assert_eq!(DecoderShape::smollm2_135m().total_params(), 134_515_008);
    assert_eq!(DecoderShape::tinyllama_1_1b().total_params(), 1_100_048_384);
    assert_eq!(DecoderShape::llama2_7b().total_params(), 6_738_415_616);
}

#[test]
fn smollm2_trainable_share_matches_the_facts_file() {
    let m = DecoderShape::smollm2_135m();
    // r = 16 on all seven projections: 4.88 M of 139.4 M (base + adapters) ≈ 3.5 %.
    let all = m.lora_params(&Target::ALL_LINEAR, 16);
    assert_eq!(all, 4_884_480);
    assert_eq!(m.total_params() + all, 139_399_488);
    let share = m.lora_share(&Target::ALL_LINEAR, 16);
    assert!((share - 0.035_04).abs() < 0.000_05, "{share}");
    // r = 8 on q, v (PEFT's default targets): ≈ 0.3 %.
    let qv = m.lora_params(&Target::PEFT_DEFAULT, 8);
    assert_eq!(qv, 30 * 8 * ((576 + 576) + (576 + 192)));
    let share_qv = m.lora_share(&Target::PEFT_DEFAULT, 8);
    assert!((share_qv - 0.003_41).abs() < 0.000_01, "{share_qv}");
    // Duplicated targets count once.
    assert_eq!(m.lora_params(&[Target::Q, Target::Q, Target::V], 8), qv);
    assert_eq!(m.lora_params(&[], 8), 0);
}

#[test]
fn target_names_round_trip() {
    for t in Target::ALL_LINEAR {
        assert_eq!(Target::parse(t.name()).unwrap(), t);
        assert_eq!(t.to_string(), t.name());
    }
    assert_eq!(Target::parse("q").unwrap(), Target::Q);
    assert_eq!(Target::parse("down_proj").unwrap(), Target::Down);
    assert!(!Target::Gate.is_attention() && Target::O.is_attention());
    assert!(matches!(Target::parse("lm_head"), Err(MathError::InvalidParameter { .. })));
    let (d_in, d_out) = DecoderShape::smollm2_135m().linear_shape(Target::K);
    assert_eq!((d_in, d_out), (576, 192));
}

#[test]
fn target_paths_and_lists() {
    assert_eq!(Target::Q.path(3), "model.layers.3.self_attn.q_proj");
    assert_eq!(Target::Down.path(0), "model.layers.0.mlp.down_proj");
    assert_eq!(Target::parse(" v_proj ").unwrap(), Target::V);
    assert_eq!(Target::parse_list("v, q_proj").unwrap(), vec![Target::Q, Target::V]);
    let err = Target::parse_list("v, q_proj,v").unwrap_err().to_string();
    assert!(err.contains("v_proj is named twice"), "{err}");
    assert_eq!(Target::parse_list("all-linear").unwrap(), Target::ALL.to_vec());
    assert!(matches!(Target::parse_list(" , "), Err(MathError::InvalidParameter { .. })));
    let err = Target::parse_list("q_proj,lm_head").unwrap_err().to_string();
    assert!(err.contains("\"lm_head\"") && err.contains("all-linear"), "{err}");
    for (i, t) in Target::ALL.into_iter().enumerate() {
        assert_eq!(t as usize, i, "Target::ALL indexes by declaration order");
    }
}

/// The level files spell targets and precisions by their variant names.
#[test]
fn targets_and_precisions_in_ron() {
    let targets: Vec<Target> = ron::from_str("[Q, V, Gate, Down]").unwrap();
    assert_eq!(targets, vec![Target::Q, Target::V, Target::Gate, Target::Down]);
    assert_eq!(ron::to_string(&Target::Up).unwrap(), "Up");
    for p in
        [Precision::Fp32, Precision::Fp16, Precision::Bf16, Precision::Int8, Precision::Nf4, Precision::Nf4DoubleQuant]
    {
        let text = ron::to_string(&p).unwrap();
        assert_eq!(ron::from_str::<Precision>(&text).unwrap(), p);
    }
    assert_eq!(ron::from_str::<Precision>("Nf4DoubleQuant").unwrap(), Precision::Nf4DoubleQuant);
    assert!(ron::from_str::<Precision>("Fp8").is_err());
}

#[test]
fn fp16_stores_like_bf16() {
    assert_eq!(Precision::Fp16.bits_per_weight(), 16.0);
    assert_eq!(weight_bytes(1_000, Precision::Fp16), 2_000.0);
    assert_eq!(weight_bytes(7_000_000_000, Precision::Fp16), weight_bytes(7_000_000_000, Precision::Bf16));
    assert_eq!((Precision::Fp16.name(), Precision::Fp16.label()), ("FP16", "fp16"));
    assert_eq!(Precision::Bf16.label(), "bf16");
    assert!(!Precision::ALL.contains(&Precision::Fp16), "ALL has one format per storage size");
}

#[test]
fn qlora_65b_fits_one_48gb_gpu_not_a_consumer_card() {
    assert!((Precision::Nf4DoubleQuant.bytes_per_weight() - 0.5159).abs() < 0.0001);
    let weights = weight_bytes(65_000_000_000, Precision::Nf4DoubleQuant);
    // 65e9 · 4.127 / 8 = 33.53 GB
    assert!((gigabytes(weights) - 33.53).abs() < 0.01, "{}", gigabytes(weights));
    let plain_nf4 = gigabytes(weight_bytes(65_000_000_000, Precision::Nf4));
    assert!((plain_nf4 - 36.5625).abs() < 1e-9);
    assert!(gigabytes(weight_bytes(65_000_000_000, Precision::Bf16)) == 130.0);
    // r = 64 adapters on a 65B model are ~0.4 % of its size; say 250 M trainable params.
    let setup = training_memory(65_000_000_000, Precision::Nf4DoubleQuant, 250_000_000, AdapterPrecision::Bf16);
    assert_eq!(setup.adapter_weights, 0.5e9);
    assert_eq!(setup.adapter_gradients, 0.5e9);
    assert_eq!(setup.optimizer_states, 2.0e9);
    assert!(setup.fits_in_gb(48.0));
    assert!(!setup.fits_in_gb(24.0));
}

#[test]
fn memory_arithmetic_by_hand() {
    assert_eq!(weight_bytes(1_000, Precision::Fp32), 4_000.0);
    assert_eq!(weight_bytes(1_000, Precision::Bf16), 2_000.0);
    assert_eq!(weight_bytes(1_000, Precision::Int8), 1_000.0);
    assert_eq!(weight_bytes(1_000, Precision::Nf4), 562.5);
    // Full fine-tuning in f32: weight + gradient + 2 Adam moments = 16 bytes per parameter.
    let full = training_memory(0, Precision::Bf16, 7_000_000_000, AdapterPrecision::Fp32);
    assert_eq!(full.total_bytes(), 112e9);
    assert_eq!(full.total_gb(), 112.0);
    // LoRA on SmolLM2 in bf16: 269 MB base + (2+2+8) bytes × 4.88 M.
    let m = DecoderShape::smollm2_135m();
    let lora = training_memory(
        m.total_params(),
        Precision::Bf16,
        m.lora_params(&Target::ALL_LINEAR, 16),
        AdapterPrecision::Bf16,
    );
    assert_eq!(lora.base_weights, 2.0 * 134_515_008.0);
    assert_eq!(lora.total_bytes(), 2.0 * 134_515_008.0 + 12.0 * 4_884_480.0);
    assert_eq!(GB, 1e9);
    assert!((gibibytes(GIB) - 1.0).abs() < 1e-15);
    assert_eq!(Precision::Nf4DoubleQuant.to_string(), "NF4 + DQ");
    assert_eq!(Precision::ALL.len(), 5);
}

fn random_matrix(rng: &mut StdRng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-3.0..3.0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_factorizations_are_accepted_and_have_rank_at_most_r(
        seed in any::<u64>(), d_out in 1usize..8, d_in in 1usize..8, r in 1usize..5,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let b = random_matrix(&mut rng, d_out, r);
        let a = random_matrix(&mut rng, r, d_in);
        let w = delta_w(&b, &a).unwrap();
        let check = check_factorization(&w, &b, &a, 1e-9).unwrap();
        prop_assert!(check.ok);
        prop_assert_eq!(check.rank_used, r);
        prop_assert!(rank(&w) <= r.min(d_out).min(d_in));
    }

    #[test]
    fn perturbing_one_cell_beyond_tolerance_is_rejected(
        seed in any::<u64>(), d_out in 1usize..7, d_in in 1usize..7, r in 1usize..4,
        delta in 0.01f64..10.0, negative in any::<bool>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let b = random_matrix(&mut rng, d_out, r);
        let a = random_matrix(&mut rng, r, d_in);
        let mut w = delta_w(&b, &a).unwrap();
        let (i, j) = (rng.random_range(0..d_out), rng.random_range(0..d_in));
        let tol = 1e-3;
        w[(i, j)] += if negative { -delta } else { delta };
        let check = check_factorization(&w, &b, &a, tol).unwrap();
        prop_assert!(!check.ok);
        prop_assert_eq!(check.mismatches(), 1);
        prop_assert!(!check.cell_ok[(i, j)]);
        prop_assert!((check.max_abs_error - delta).abs() < 1e-9);
    }

    #[test]
    fn best_rank_approx_error_is_the_dropped_singular_values_and_beats_random(
        seed in any::<u64>(), rows in 1usize..7, cols in 1usize..7, r_pick in 0usize..7,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let m = random_matrix(&mut rng, rows, cols);
        let r = r_pick.min(rows.min(cols));
        let (approx, err) = best_rank_approx(&m, r).unwrap();
        let sigma = singular_values(&m).unwrap();
        let dropped: f64 = sigma.iter().skip(r).map(|s| s * s).sum::<f64>().sqrt();
        prop_assert!((err - dropped).abs() < 1e-9);
        prop_assert!(((&m - &approx).norm() - err).abs() < 1e-9);
        prop_assert!(rank(&approx) <= r);
        for _ in 0..5 {
            if r == 0 { break; }
            let other = random_matrix(&mut rng, rows, r) * random_matrix(&mut rng, r, cols);
            prop_assert!((&m - other).norm() >= err - 1e-9);
        }
    }
}

/// The singular values of B·A from the two thin factors equal those of the formed product, and
/// there are never more than r non-zero ones.
#[test]
fn low_rank_singular_values_equal_those_of_the_product() {
    use lora_arcade::math::lora::low_rank_singular_values;
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    for (d_out, r, d_in) in [(12, 3, 9), (40, 8, 30), (5, 5, 5), (3, 4, 7)] {
        let b = DMatrix::from_fn(d_out, r, |_, _| next());
        let a = DMatrix::from_fn(r, d_in, |_, _| next());
        let ours = low_rank_singular_values(&b, &a).unwrap();
        let full = singular_values(&(&b * &a)).unwrap();
        assert!(ours.len() <= r, "{} singular values from an r = {r} factorisation", ours.len());
        for (i, s) in full.iter().enumerate() {
            let o = ours.get(i).copied().unwrap_or(0.0);
            assert!((o - s).abs() < 1e-9 * full[0].max(1.0), "{d_out}×{r}×{d_in} σ{i}: {o} vs {s}");
        }
        assert!(full.iter().skip(r).all(|s| *s < 1e-9 * full[0]), "rank ≤ r");
    }
    assert!(low_rank_singular_values(&DMatrix::zeros(4, 2), &DMatrix::zeros(3, 5)).is_err());
}
