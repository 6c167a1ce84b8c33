//! What users install, tested from the artefacts alone: `release/build` makes the crate, the
//! sdist and the wheel, and `tests/artefacts/test_artefacts.py` (pytest, in the project's test
//! Python) installs and uses them on clean paths, with npm (and for the wheel, cargo) hidden.
//! Its release builds go to `target/dist/target`, apart from this build.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_crate_and_the_wheel_work_from_the_artefacts_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(common::test_python())
        .args([
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "tests/artefacts",
        ])
        .current_dir(root)
        .status()
        .expect("the test Python runs");
    assert!(
        status.success(),
        "an artefact test failed (pytest's output is above)"
    );
}
