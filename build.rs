//! Build script: makes sure the renderer (three-cad-viewer from the npm registry, pinned by
//! `web/package-lock.json`) is installed, and writes the table of files the binary embeds and
//! serves under `/static/`: the renderer's bundle and stylesheet, and the page's own modules
//! from `web/src/`, each with a content hash for its ETag.
//!
//! The renderer is third-party code: it is installed here at build time, never committed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let web = root.join("web");
    let dist = web
        .join("node_modules")
        .join("three-cad-viewer")
        .join("dist");
    let renderer = [
        (
            "three-cad-viewer.js",
            dist.join("three-cad-viewer.esm.min.js"),
        ),
        ("three-cad-viewer.css", dist.join("three-cad-viewer.css")),
    ];
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/src");
    for (_, path) in &renderer {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    if renderer.iter().any(|(_, path)| !path.exists()) {
        install_renderer(&web);
    }

    let mut files: Vec<(String, PathBuf)> = renderer
        .iter()
        .map(|(name, path)| (name.to_string(), path.clone()))
        .collect();
    let mut own: Vec<PathBuf> = std::fs::read_dir(web.join("src"))
        .expect("web/src holds the page's modules")
        .map(|entry| entry.expect("a readable directory").path())
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("js" | "css")
            )
        })
        .collect();
    own.sort();
    for path in own {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 file name")
            .to_string();
        files.push((name, path));
    }

    let mut table = format!(
        "/// Every file `/static/` serves: the renderer and the page's modules (written by build.rs).\n\
         pub static ASSETS: [Asset; {}] = [\n",
        files.len()
    );
    for (name, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kind = if name.ends_with(".css") {
            "Css"
        } else {
            "JavaScript"
        };
        writeln!(
            table,
            "    Asset::new({name:?}, AssetKind::{kind}, include_bytes!({:?}), \"{:016x}\"),",
            path.display().to_string(),
            fnv1a(&bytes)
        )
        .expect("writing to a String");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("assets.rs"), table).expect("OUT_DIR is writable");
}

fn install_renderer(web: &Path) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--omit=dev"])
        .current_dir(web)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`npm ci` in web/ failed ({status}): the viewer page needs three-cad-viewer from the \
             npm registry. Run `npm ci --prefix web` and build again."
        ),
        Err(err) => panic!(
            "could not run npm ({err}): the viewer page embeds three-cad-viewer, installed from \
             the npm registry at build time. Install Node.js (with npm) and build again."
        ),
    }
}

/// A 64-bit FNV-1a hash: enough to tell one version of a file from another in an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
