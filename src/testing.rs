//! Support for tests whose prerequisite (the real test model, a display) may be missing on a
//! developer's machine. There they say SKIPPED and return; under `scripts/test.sh` (and so in
//! CI), which sets `LORA_ARCADE_REQUIRE_ALL=1` after installing every prerequisite, a missing one
//! fails the test instead: nothing CI runs can pass by skipping.

/// The environment variable that turns skips into failures.
pub const REQUIRE_ALL: &str = "LORA_ARCADE_REQUIRE_ALL";

/// Call when `what` is missing: panics under [`REQUIRE_ALL`], else prints SKIPPED.
pub fn prerequisite_missing(what: &str) {
    if std::env::var_os(REQUIRE_ALL).is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{what} ({REQUIRE_ALL} is set, so this test may not be skipped)");
    }
    eprintln!("SKIPPED: {what}");
}
