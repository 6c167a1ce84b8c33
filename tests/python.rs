//! The Python package's own tests (`python/tests`, pytest) against the `ocp-notebook` binary
//! cargo just built, in the project's Python test environment (see `common::test_python`).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn python_package_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(common::test_python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .env("OCP_NOTEBOOK_BIN", env!("CARGO_BIN_EXE_ocp-notebook"))
        .current_dir(root.join("python"))
        .status()
        .expect("the test Python runs");
    assert!(
        status.success(),
        "the Python tests failed (pytest's output is above)"
    );
}
