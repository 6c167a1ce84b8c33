//! The viewer page in a real headless Chromium (Debian's `chromium`, WebGL on SwiftShader),
//! driven by playwright-core under Node's test runner: `web/test/*.test.mjs`. This test runs them
//! against the `ocp-notebook` binary cargo just built, so `cargo test` covers the page too.

use std::path::Path;
use std::process::Command;

#[test]
fn viewer_pages_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let web = root.join("web");
    let chromium =
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser tests need Chromium at {chromium} (Debian: apt-get install chromium; or set CHROMIUM)"
    );
    if !web.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web)
            .status()
            .expect("npm runs (the browser tests need Node.js)");
        assert!(status.success(), "npm ci in web/ failed");
    }
    let mut tests: Vec<_> = std::fs::read_dir(web.join("test"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    tests.sort();
    let status = Command::new("node")
        .arg("--test")
        .args(&tests)
        .env("OCP_NOTEBOOK_BIN", env!("CARGO_BIN_EXE_ocp-notebook"))
        .env("CHROMIUM", &chromium)
        .current_dir(root)
        .status()
        .expect("node runs (the browser tests need Node.js)");
    assert!(
        status.success(),
        "the browser tests failed (their output is above)"
    );
}
