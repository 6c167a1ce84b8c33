//! Build script: finds the renderer (three-cad-viewer from the npm registry, pinned by
//! `web/package-lock.json`) and writes the table of files the binary embeds and serves under
//! `/static/`: the renderer's bundle, its stylesheet and its licences, and the page's own
//! modules from `web/src/`, each with a content hash for its ETag.
//!
//! The renderer is third-party code: it is never committed. It is taken from the first of
//!
//! 1. `web/node_modules/` in a clone where `npm ci --prefix web` ran (what `tests/run` does);
//! 2. `web/vendor/`, which `release/build` fills from the same lockfile and `Cargo.toml`'s
//!    `include` puts into the published crate and the sdist, so that they build with no
//!    Node.js and no network (docs.rs too);
//! 3. an `npm ci` into `OUT_DIR`, for a clone that has neither.
//!
//! Everything this script writes goes to `OUT_DIR`: cargo's verify build of a package, and
//! docs.rs, refuse a build script that writes into the source folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The renderer's files as the npm packages lay them out, relative to `node_modules/`.
const FROM_NPM: Renderer = Renderer {
    bundle: "three-cad-viewer/dist/three-cad-viewer.esm.min.js",
    stylesheet: "three-cad-viewer/dist/three-cad-viewer.css",
    licences: &[
        ("three-cad-viewer", "three-cad-viewer/LICENSE"),
        ("three.js (bundled into three-cad-viewer)", "three/LICENSE"),
    ],
};

/// The same files as `release/build` copies them into `web/vendor/`.
const VENDORED: Renderer = Renderer {
    bundle: "three-cad-viewer.js",
    stylesheet: "three-cad-viewer.css",
    licences: &[
        ("three-cad-viewer", "LICENSE-three-cad-viewer"),
        ("three.js (bundled into three-cad-viewer)", "LICENSE-three"),
    ],
};

/// `web/vendor/` keeps a copy of the lockfile it was made from, so that a stale copy in a
/// clone is never taken for the pinned version.
const VENDOR_LOCK: &str = "package-lock.json";

struct Renderer {
    bundle: &'static str,
    stylesheet: &'static str,
    licences: &'static [(&'static str, &'static str)],
}

impl Renderer {
    fn files(&self) -> impl Iterator<Item = &'static str> {
        [self.bundle, self.stylesheet]
            .into_iter()
            .chain(self.licences.iter().map(|(_, path)| *path))
    }

    fn complete_in(&self, folder: &Path) -> bool {
        self.files().all(|file| folder.join(file).is_file())
    }
}

fn main() {
    // Read when the script runs, not when it is compiled: a build script compiled for one copy
    // of the sources (an sdist unpacked by pip) may be reused for another at a new path.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = root.join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/src");

    let (renderer, folder) = find_renderer(&web, &out);
    for file in renderer.files() {
        println!("cargo:rerun-if-changed={}", folder.join(file).display());
    }

    let notice = out.join("three-cad-viewer-licenses.txt");
    std::fs::write(&notice, licence_notice(renderer, &folder)).expect("OUT_DIR is writable");
    let mut files = vec![
        (
            "three-cad-viewer.js".to_string(),
            folder.join(renderer.bundle),
        ),
        (
            "three-cad-viewer.css".to_string(),
            folder.join(renderer.stylesheet),
        ),
        ("three-cad-viewer-licenses.txt".to_string(), notice),
    ];
    files.extend(page_modules(&web.join("src")));

    let mut table = format!(
        "/// Every file `/static/` serves: the renderer, its licences and the page's modules \
         (written by build.rs).\n\
         pub static ASSETS: [Asset; {}] = [\n",
        files.len()
    );
    for (name, path) in &files {
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
    std::fs::write(out.join("assets.rs"), table).expect("OUT_DIR is writable");
}

/// Where the renderer's files are, in the order the crate doc gives.
fn find_renderer(web: &Path, out: &Path) -> (&'static Renderer, PathBuf) {
    let installed = web.join("node_modules");
    if FROM_NPM.complete_in(&installed) {
        return (&FROM_NPM, installed);
    }
    let vendor = web.join("vendor");
    if VENDORED.complete_in(&vendor) {
        let pinned = std::fs::read(web.join("package-lock.json")).ok();
        if pinned.is_some() && pinned == std::fs::read(vendor.join(VENDOR_LOCK)).ok() {
            return (&VENDORED, vendor);
        }
        println!(
            "cargo:warning=web/vendor/ was made from another web/package-lock.json; \
             installing the pinned renderer instead (release/build makes it anew)"
        );
    }
    let own = out.join("renderer");
    let installed = own.join("node_modules");
    if !FROM_NPM.complete_in(&installed) {
        install_renderer(web, &own);
    }
    (&FROM_NPM, installed)
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

/// The licences of the code the binary embeds, in one text file served beside it.
fn licence_notice(renderer: &Renderer, folder: &Path) -> String {
    let mut notice =
        String::from("The viewer page of ocp_notebook embeds the following third-party code.\n");
    for (what, file) in renderer.licences {
        let text = std::fs::read_to_string(folder.join(file))
            .unwrap_or_else(|e| panic!("{}: {e}", folder.join(file).display()));
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

/// A 64-bit FNV-1a hash: enough to tell one version of a file from another in an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
