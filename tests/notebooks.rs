//! Every notebook in `notebooks/`, executed top to bottom by a real kernel (evcxr_jupyter for
//! Rust) through `tests/notebook_runner.py` (nbclient), with the viewers they show opened in
//! headless Chromium. Needs `evcxr_jupyter --install`, Node.js and Chromium (`tests/run` installs
//! them); Python notebooks run in the project's Python test environment (`common::test_python`).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn notebooks_run_top_to_bottom() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::test_python();
    let kernels = Command::new(&python)
        .args(["-m", "jupyter", "kernelspec", "list", "--json"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        kernels.contains("\"rust\""),
        "the notebook tests need the evcxr kernel: tests/run installs it (or: cargo install --locked evcxr_jupyter && \
         evcxr_jupyter --install)"
    );
    let status = Command::new(&python)
        .arg(root.join("tests/notebook_runner.py"))
        .env("OCP_NOTEBOOK_BIN", env!("CARGO_BIN_EXE_ocp-notebook"))
        .current_dir(root)
        .status()
        .expect("the test Python runs");
    assert!(
        status.success(),
        "a notebook failed (the runner's output is above)"
    );
}
