//! `cargo test --workspace` builds this package's library, the Python extension module, in the
//! `test` profile with the workspace's features (next to this test's executable, in
//! `target/debug/deps`), so `scripts/test-python` loads it without a build of its own. This
//! test checks that it is there and exports the module's entry point; the bindings themselves
//! are tested from Python (`test_*.py` beside this file).

#[test]
fn the_extension_module_is_built() {
    let Ok(exe) = std::env::current_exe() else { panic!("no test executable path") };
    let Some(dir) = exe.parent() else { panic!("no target dir") };
    let name = if cfg!(target_os = "macos") {
        "lib_alternator.dylib"
    } else if cfg!(windows) {
        "_alternator.dll"
    } else {
        "lib_alternator.so"
    };
    let lib = dir.join(name);
    let Ok(bytes) = std::fs::read(&lib) else { panic!("{} was not built", lib.display()) };
    let entry = b"PyInit__alternator";
    assert!(bytes.windows(entry.len()).any(|w| w == entry), "{} has no {entry:?}", lib.display());
}
