//! Build script: finds the renderer (three-cad-viewer from the npm registry, pinned by
//! `web/package-lock.json`) and writes the table of files the binary embeds and serves under
//! `/static/`: the renderer's bundle and stylesheet, Swagger UI's for the API docs page, their
//! licenses, and the page's own modules from `web/src/`, each with a content hash for its ETag.
//!
//! The renderer is third-party code: it is never committed. Its files, laid out as npm lays
//! out `node_modules/`, are taken from the first of
//!
//! 1. `web/node_modules/` in a clone where `npm ci --prefix web` ran after the lockfile last
//!    changed (what `tests/run` does);
//! 2. `web/vendor/`, which `release/build` fills from the lockfile and `Cargo.toml`'s `include`
//!    puts into the published crate and the sdist, so that they build without npm and the npm
//!    registry (docs.rs too); it keeps a copy of the lockfile it was made from, so a stale copy
//!    in a clone is never taken for the pinned version;
//! 3. an `npm ci` into `OUT_DIR`, for a clone that has neither. A packaged crate never gets
//!    here: one packaged without its `web/vendor/` is an error that says so.
//!
//! Everything this script writes goes to `OUT_DIR`: cargo's verify build of a package, and
//! docs.rs, refuse a build script that writes into the source folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The third-party files served under `/static/`, by the name they are served under, and where
/// they are relative to a `node_modules/`-like folder: the renderer, and Swagger UI for the API
/// docs page (`/api/docs`).
const THIRD_PARTY: [(&str, &str); 4] = [
    (
        "three-cad-viewer.js",
        "three-cad-viewer/dist/three-cad-viewer.esm.min.js",
    ),
    (
        "three-cad-viewer.css",
        "three-cad-viewer/dist/three-cad-viewer.css",
    ),
    ("swagger-ui.js", "swagger-ui-dist/swagger-ui-bundle.js"),
    ("swagger-ui.css", "swagger-ui-dist/swagger-ui.css"),
];
const LICENSES: [(&str, &str); 3] = [
    ("three-cad-viewer", "three-cad-viewer/LICENSE"),
    ("three.js (bundled into three-cad-viewer)", "three/LICENSE"),
    ("Swagger UI (the API docs page)", "swagger-ui-dist/LICENSE"),
];
/// The name `/static/` serves the licenses under.
const LICENSES_ASSET: &str = "third-party-licenses.txt";

fn main() {
    // Read when the script runs, not when it is compiled: a build script compiled for one copy
    // of the sources (an sdist unpacked by pip) may be reused for another at a new path.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = root.join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in ["web/package.json", "web/package-lock.json", "web/src"] {
        println!("cargo:rerun-if-changed={watched}");
    }

    let folder = find_renderer(&root, &out);
    for file in renderer_files() {
        println!("cargo:rerun-if-changed={}", folder.join(file).display());
    }
    let notice = out.join(LICENSES_ASSET);
    std::fs::write(&notice, license_notice(&folder)).expect("OUT_DIR is writable");

    let mut files: Vec<(String, PathBuf)> = THIRD_PARTY
        .iter()
        .map(|(name, path)| (name.to_string(), folder.join(path)))
        .collect();
    files.push((LICENSES_ASSET.to_string(), notice));
    files.extend(page_modules(&web.join("src")));
    std::fs::write(out.join("assets.rs"), asset_table(&files)).expect("OUT_DIR is writable");
}

fn renderer_files() -> impl Iterator<Item = &'static str> {
    THIRD_PARTY
        .iter()
        .chain(LICENSES.iter())
        .map(|(_, path)| *path)
}

fn complete(folder: &Path) -> bool {
    renderer_files().all(|file| folder.join(file).is_file())
}

/// The folder holding the renderer's files, in the order the crate doc gives.
fn find_renderer(root: &Path, out: &Path) -> PathBuf {
    let web = root.join("web");
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules");
    // npm writes its own `.package-lock.json` when it installs: older than the lockfile means
    // the lockfile changed since (a pull), and the install is stale.
    if complete(&installed) && newer_or_same(&installed.join(".package-lock.json"), &lock) {
        return installed;
    }
    let vendor = web.join("vendor");
    if complete(&vendor) && same_file_contents(&vendor.join("package-lock.json"), &lock) {
        return vendor;
    }
    // cargo package writes Cargo.toml.orig, maturin's sdist PKG-INFO.
    if ["Cargo.toml.orig", "PKG-INFO"]
        .iter()
        .any(|marker| root.join(marker).is_file())
    {
        panic!(
            "this package carries no web/vendor/ made from its web/package-lock.json: it was \
             packaged without release/build, which puts the renderer in. Make the package with \
             release/build."
        );
    }
    if complete(&installed) {
        println!(
            "cargo:warning=web/node_modules is older than web/package-lock.json; installing \
             the pinned renderer into the build folder (npm ci --prefix web refreshes it)"
        );
    }
    let own = out.join("renderer");
    if !(complete(&own.join("node_modules"))
        && same_file_contents(&own.join("package-lock.json"), &lock))
    {
        install_renderer(&web, &own);
    }
    own.join("node_modules")
}

fn newer_or_same(path: &Path, than: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    matches!((modified(path), modified(than)), (Some(a), Some(b)) if a >= b)
}

fn same_file_contents(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(a), Ok(b)) if a == b)
}

/// `npm ci` of the pinned renderer into `folder` (inside `OUT_DIR`), without the test tools.
fn install_renderer(web: &Path, folder: &Path) {
    std::fs::create_dir_all(folder).expect("OUT_DIR is writable");
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(web.join(file), folder.join(file))
            .unwrap_or_else(|e| panic!("web/{file}: {e}"));
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args([
            "ci",
            "--omit=dev",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(folder)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`npm ci` failed ({status}): the viewer page needs three-cad-viewer from the npm \
             registry. Run `npm ci --prefix web` and build again, or build the published crate \
             (it carries the renderer and needs no npm)."
        ),
        Err(err) => panic!(
            "could not run npm ({err}): a clone builds the viewer page with three-cad-viewer \
             from the npm registry. Install Node.js (with npm) and build again, or build the \
             published crate (it carries the renderer and needs no npm)."
        ),
    }
}

/// The licenses of the code the binary embeds, in one text file served beside it.
fn license_notice(folder: &Path) -> String {
    let mut notice =
        String::from("The pages of ocp_notebook embed the following third-party code.\n");
    for (what, file) in LICENSES {
        let path = folder.join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        write!(notice, "\n==== {what} ====\n\n{}\n", text.trim_end()).expect("a String");
    }
    notice
}

/// The page's own modules and stylesheet, by name, in a stable order.
fn page_modules(folder: &Path) -> Vec<(String, PathBuf)> {
    let mut own: Vec<PathBuf> = std::fs::read_dir(folder)
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
    own.into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name")
                .to_string();
            (name, path)
        })
        .collect()
}

/// `assets.rs`: the table of embedded files, and the licenses' name.
fn asset_table(files: &[(String, PathBuf)]) -> String {
    let mut table = format!(
        "/// The name `/static/` serves the embedded renderer's licenses under.\n\
         pub const LICENSES: &str = {LICENSES_ASSET:?};\n\n\
         /// Every file `/static/` serves: the renderer, its licenses and the page's modules \
         (written by build.rs).\n\
         pub static ASSETS: [Asset; {}] = [\n",
        files.len()
    );
    for (name, path) in files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kind = match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("css") => "Css",
            Some("js") => "JavaScript",
            _ => "Text",
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
    table
}

/// A 64-bit FNV-1a hash: enough to tell one version of a file from another in an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
