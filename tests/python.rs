//! The Python package's own tests (`python/tests`, pytest) against the `ocp-notebook` binary
//! cargo just built, in the project's Python test environment (see `common::test_python`).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn python_package_tests() {
    pytest(common::test_python(), &[]);
}

/// CadQuery brings its own OCP build, which cannot share an environment with build123d's.
#[test]
fn python_package_tests_with_cadquery() {
    let python = common::python_env("venv-cadquery", &["cadquery"]);
    pytest(python, &["tests/test_cadquery.py"]);
}

fn pytest(python: std::path::PathBuf, tests: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(tests)
        .env("OCP_NOTEBOOK_BIN", env!("CARGO_BIN_EXE_ocp-notebook"))
        .current_dir(root.join("python"))
        .status()
        .expect("the test Python runs");
    assert!(
        status.success(),
        "the Python tests failed (pytest's output is above)"
    );
}
