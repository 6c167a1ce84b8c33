//! Schemathesis (from PyPI) against a live server on each store: every operation of
//! `/api/openapi.json` with the cases it generates from the document, positive and negative,
//! and all of its checks: no server errors; status codes, content types, headers and bodies as
//! documented; bad data refused, good data taken; a method a path has not refused with `Allow`;
//! writes refused without the token.
//!
//! `tests/schemathesis.toml` says which answers it may take for good data where the document
//! gives a body's shape but not all of its content (a model's geometry, a PNG's bytes).
//!
//! The event streams are left out (they never end, and a fuzzer waits for an end); the Rust
//! tests cover them. Each run writes one line, `schemathesis (STORE): N cases in T s`, to
//! `target/schemathesis.txt`, which `tests/run` adds up.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::*;
use ocp_notebook::Settings;

/// The version the document is checked with.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Cases per operation in the fuzzing phase (the coverage phase adds its own).
const MAX_EXAMPLES: &str = "100";
const TOKEN: &str = "schemathesis-token";

#[test]
fn schemathesis_finds_nothing_on_either_store() {
    let st = schemathesis();
    let _ =
        std::fs::remove_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis.txt"));
    let stores = [Some(Store::Memory), Store::redis()];
    for store in stores.into_iter().flatten() {
        let server = store.with(Settings {
            token: Some(TOKEN.into()),
            ..Settings::default()
        });
        run(&st, &server, store.name());
    }
}

fn run(st: &Path, server: &TestServer, store: &str) {
    // The viewer half of the generated ids name (see tests/schemathesis.toml), with a model.
    let pushed = reqwest::blocking::Client::new()
        .post(server.url("/api/model?viewer=fuzzed"))
        .header("X-OCP-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(fixture("bracket.json"))
        .send()
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("schemathesis-{store}.json"));
    let started = Instant::now();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis.toml");
    let output = Command::new(st)
        // Its own files (a cache of crashes) go to target/, not the clone.
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .arg("--config-file")
        .arg(&config)
        .args(["run", &server.url("/api/openapi.json")])
        .args(["--checks", "all", "--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", "7"])
        .args(["--exclude-path-regex", "events$"])
        .args(["--header", &format!("X-OCP-Token: {TOKEN}")])
        .args(["--request-timeout", "30", "--no-color"])
        .args(["--generation-database", "none"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .output()
        .expect("schemathesis runs");
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout);
    // Indented: the closing summary of tests/run reads lines that start with counts.
    for line in text.lines() {
        println!("    {line}");
    }
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    // The summary: "Test cases:" and, on the next line, "3158 generated, ...".
    let cases = text
        .lines()
        .skip_while(|line| line.trim() != "Test cases:")
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let summary = format!("schemathesis ({store}): {cases} cases in {seconds:.0} s\n");
    print!("{summary}");
    // For tests/run's closing lines (libtest keeps a passing test's output to itself).
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(report.with_file_name("schemathesis.txt"))
        .unwrap();
    std::io::Write::write_all(&mut file, summary.as_bytes()).unwrap();
    assert!(
        output.status.success(),
        "schemathesis found failures on the {store} store (its output is above)"
    );
    assert!(cases > 100, "schemathesis ran cases ({cases})");
}

/// `st` from `target/venv-schemathesis`, made on first use.
fn schemathesis() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("venv-schemathesis");
    let st = venv.join("bin/st");
    let ready = venv.join(".ready");
    if std::fs::read_to_string(&ready).is_ok_and(|made| made == SCHEMATHESIS) {
        return st;
    }
    let run = |program: &Path, args: &[&str]| {
        let status = Command::new(program)
            .args(args)
            .status()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", program.display()));
        assert!(status.success(), "{} {args:?} failed", program.display());
    };
    if !venv.join("bin/python").exists() {
        run("python3".as_ref(), &["-m", "venv", venv.to_str().unwrap()]);
    }
    run(
        &venv.join("bin/python"),
        &["-m", "pip", "install", "--quiet", SCHEMATHESIS],
    );
    std::fs::write(&ready, SCHEMATHESIS).unwrap();
    st
}
