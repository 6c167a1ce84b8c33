//! The layers of the crate point one way, as `lib.rs`'s Layout section states: each file may
//! name only the layers its own may import. Read from the sources, so a `use` that reaches up or
//! sideways fails here before a reviewer has to spot it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which layer a source file belongs to, by its path under `src/`.
fn layer_of(path: &str) -> &'static str {
    let top = path.split('/').next().unwrap_or(path);
    match top.trim_end_matches(".rs") {
        "ids" | "html" | "assets" | "wire" => "foundation",
        "model" => "model",
        "measure" | "animation" => "measure",
        "scene" => "scene",
        "hub" => "hub",
        "notebook" => "notebook",
        "server" | "error" | "settings" | "main" => "server",
        "lib" => "root",
        other => panic!("src/{path}: which layer is {other}? add it to the table"),
    }
}

/// What each layer may import, besides itself.
fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "foundation" => &[],
        "model" => &["foundation"],
        "measure" | "scene" | "hub" => &["foundation", "model"],
        // The client side, and the server it may run inside its kernel (with its settings).
        "notebook" => &[
            "foundation",
            "model",
            "measure",
            "server::spawn",
            "settings",
        ],
        "server" | "root" => &["foundation", "model", "measure", "scene", "hub", "notebook"],
        _ => &[],
    }
}

/// Crates a layer must not use: the hub is plain state, the format knows nothing of HTTP.
fn forbidden_crates(layer: &str) -> &'static [&'static str] {
    match layer {
        "model" | "measure" | "hub" => &["rocket", "clap"],
        _ => &[],
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules a file names (`crate::hub::Hub`, `use crate::{ids, model::X}`), and the
/// crates it names, outside comments. `server::spawn` is told apart from the rest of `server`.
fn names(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    // Comments out, lines joined: a `use crate::{...}` group may span lines.
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut modules = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let mut heads: Vec<String> = Vec::new();
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            heads.extend(inner.split(',').map(|item| item.trim().to_string()));
        } else {
            heads.push(rest.to_string());
        }
        for head in heads {
            let path: Vec<&str> = head
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .collect();
            let module = match path.as_slice() {
                ["server", "spawn", ..] => "server::spawn".to_string(),
                ["Settings", ..] => "settings".to_string(),
                [first, ..] if !first.is_empty() => first.to_string(),
                _ => continue,
            };
            modules.insert(module);
        }
    }
    let crates = ["rocket", "clap"]
        .into_iter()
        .filter(|name| {
            code.contains(&format!("{name}::"))
                || code.contains(&format!("use {name}"))
                || code.contains(&format!("#[{name}"))
        })
        .map(str::to_string)
        .collect();
    (modules, crates)
}

#[test]
fn layers_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let layer = layer_of(&relative);
        let (modules, crates) = names(&std::fs::read_to_string(file).unwrap());
        for module in modules {
            let target = layer_of(module.split("::").next().unwrap_or(&module));
            if target == layer || target == "root" {
                continue;
            }
            // A layer may import a whole layer, or one named item of it (`server::spawn`).
            let ok = allowed(layer).contains(&target) || allowed(layer).contains(&module.as_str());
            let shown = if allowed(layer).contains(&module.as_str()) {
                module.clone()
            } else {
                target.to_string()
            };
            graph.entry(layer).or_default().insert(shown);
            if !ok {
                wrong.push(format!(
                    "src/{relative} ({layer}) imports {module} ({target})"
                ));
            }
        }
        for name in crates.intersection(
            &forbidden_crates(layer)
                .iter()
                .map(|c| c.to_string())
                .collect(),
        ) {
            wrong.push(format!("src/{relative} ({layer}) uses {name}"));
        }
    }
    for (layer, targets) in &graph {
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        println!("{layer} -> {}", targets.join(", "));
    }
    assert!(
        wrong.is_empty(),
        "layers reached up or sideways:\n{}",
        wrong.join("\n")
    );
}

/// The hub holds every rule of the state; each of its files stays small enough to hold in mind.
#[test]
fn hub_files_stay_under_600_lines() {
    let hub = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hub");
    let mut files = Vec::new();
    sources(&hub, &mut files);
    for file in files {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(
            lines <= 600,
            "{} has {lines} lines: split it by concern",
            file.display()
        );
    }
}

#[test]
fn the_reader_finds_what_it_means() {
    let (modules, crates) = names(
        "use crate::{ids::ViewerId,\n    model::skeleton};\n\
         // crate::hub in a comment\n\
         let x = crate::server::spawn(s); #[rocket::get(\"/\")]\n\
         use crate::Settings;",
    );
    let modules: Vec<&str> = modules.iter().map(String::as_str).collect();
    assert_eq!(modules, ["ids", "model", "server::spawn", "settings"]);
    assert_eq!(crates.into_iter().collect::<Vec<_>>(), ["rocket"]);
}
