//! Build script: makes sure the renderer (three-cad-viewer from the npm registry, pinned by
//! `web/package-lock.json`) is installed, and tells the crate where its files are and what their
//! content hashes are, so the binary embeds them and serves them with stable ETags.
//!
//! The renderer is third-party code: it is installed here at build time, never committed.

use std::path::Path;
use std::process::Command;

const FILES: [(&str, &str); 2] = [
    (
        "three-cad-viewer.esm.min.js",
        "OCP_NOTEBOOK_RENDERER_JS_HASH",
    ),
    ("three-cad-viewer.css", "OCP_NOTEBOOK_RENDERER_CSS_HASH"),
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let web = root.join("web");
    let dist = web
        .join("node_modules")
        .join("three-cad-viewer")
        .join("dist");
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    for (file, _) in FILES {
        println!("cargo:rerun-if-changed={}", dist.join(file).display());
    }

    if FILES.iter().any(|(file, _)| !dist.join(file).exists()) {
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        let status = Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--omit=dev"])
            .current_dir(&web)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => panic!(
                "`npm ci` in web/ failed ({status}): the viewer page needs three-cad-viewer from \
                 the npm registry. Run `npm ci --prefix web` and build again."
            ),
            Err(err) => panic!(
                "could not run npm ({err}): the viewer page embeds three-cad-viewer, installed \
                 from the npm registry at build time. Install Node.js (with npm) and build again."
            ),
        }
    }

    println!(
        "cargo:rustc-env=OCP_NOTEBOOK_RENDERER_DIR={}",
        dist.display()
    );
    for (file, variable) in FILES {
        let bytes = std::fs::read(dist.join(file)).expect("the renderer's files are installed");
        println!("cargo:rustc-env={variable}={:016x}", fnv1a(&bytes));
    }
}

/// A 64-bit FNV-1a hash: enough to tell one renderer release from another in an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
