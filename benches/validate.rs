//! Validation throughput: `parse_upload` (read the envelope, validate every array, decode every
//! buffer) on the real fixtures and a generated ~40 MB model, beside the time serde_json alone
//! takes to parse the same bytes into a `serde_json::Value` (what a server that parses uploads
//! would pay before checking anything). Run with `cargo bench --bench validate`.

mod timing;

use std::time::Duration;

use timing::median_secs;

use ocp_notebook::model::{parse_upload, synthetic, Limits};

/// The time each case is given.
const BUDGET: Duration = Duration::from_secs(1);

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut cases: Vec<(String, Vec<u8>)> = ["box", "bracket", "assembly", "box.plain"]
        .iter()
        .map(|name| {
            (
                format!("{name}.json"),
                std::fs::read(format!("{dir}/{name}.json")).unwrap(),
            )
        })
        .collect();
    cases.push((
        "generated sphere, 1.25 M triangles".into(),
        synthetic::sphere_message(1_250_000),
    ));
    let limits = Limits::default();

    println!(
        "\n| payload | size | validate (MB/s) | serde_json Value (MB/s) | validate vs parse |"
    );
    println!("|---|---|---|---|---|");
    for (name, bytes) in &cases {
        let validate = median_secs(BUDGET, || {
            parse_upload(bytes.clone(), &limits).expect("valid");
        });
        let parse = median_secs(BUDGET, || {
            let value: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            std::hint::black_box(value);
        });
        // Both columns include one copy of the bytes (`parse_upload` takes ownership); the copy
        // is timed apart and taken out of the validation figure.
        let copy = median_secs(BUDGET, || {
            std::hint::black_box(bytes.clone());
        });
        let mb = bytes.len() as f64 / 1e6;
        let validate = (validate - copy).max(1e-9);
        println!(
            "| {name} | {:.1} KB | {:.0} | {:.0} | {:.1}x faster |",
            bytes.len() as f64 / 1e3,
            mb / validate,
            mb / parse,
            parse / validate
        );
    }
}
