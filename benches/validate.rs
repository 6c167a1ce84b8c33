//! Validation throughput: `parse_upload` (read the envelope, validate every array, decode every
//! buffer) on the real fixtures and a generated ~40 MB model, beside the time serde_json alone
//! takes to parse the same bytes into a `serde_json::Value` (what a server that parses uploads
//! would pay before checking anything). Run with `cargo bench --bench validate`.

use std::time::{Duration, Instant};

use ocp_notebook::model::{parse_upload, synthetic, Limits};

/// Median seconds of `f` over enough runs to fill about a second (at least 5).
fn median_secs(mut f: impl FnMut()) -> f64 {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < Duration::from_secs(1) && times.len() < 200) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

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
        let validate = median_secs(|| {
            parse_upload(bytes.clone(), &limits).expect("valid");
        });
        let parse = median_secs(|| {
            let value: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            std::hint::black_box(value);
        });
        // Both columns include one copy of the bytes (`parse_upload` takes ownership); the copy
        // is timed apart and taken out of the validation figure.
        let copy = median_secs(|| {
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
