//! Links a system OpenBLAS when one is installed (Debian/Ubuntu: `libopenblas-dev`, which
//! `scripts/deps.sh` installs): the fused training kernels then run their f32/f64 matrix
//! products on it, ~10–30 % faster on these shapes than the pure-Rust `gemm` crate. Without
//! it, or with `LORA_ARCADE_NO_BLAS=1`, everything builds and runs on `gemm` alone.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(openblas)");
    println!("cargo::rerun-if-env-changed=LORA_ARCADE_NO_BLAS");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("LORA_ARCADE_NO_BLAS").is_some_and(|v| v != "0") {
        return;
    }
    match pkg_config::Config::new().cargo_metadata(true).probe("openblas") {
        Ok(_) => println!("cargo::rustc-cfg=openblas"),
        Err(e) => println!(
            "cargo::warning=OpenBLAS not found ({e}); training uses the slower pure-Rust gemm. Install libopenblas-dev for full CPU speed."
        ),
    }
}
