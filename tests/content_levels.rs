use lora_arcade::content;
#[test]
fn builtin_levels_are_clean() {
    let report = content::builtin();
    for p in &report.problems { println!("{p}"); }
    let r = content::load_dir(std::path::Path::new("/tmp/badlv"));
    for p in &r.problems { println!("{p}"); }
    assert!(report.problems.is_empty());
}
