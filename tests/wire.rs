//! `tests/fixtures/wire.json` lists the wire contract's names (error codes, event types) for clients in
//! other languages and for the Python bridge's tests. It is generated from `src/wire.rs`; this
//! test fails when the two differ, and `OCP_NOTEBOOK_BLESS=1` writes the file anew.

use std::path::Path;

#[test]
fn the_listing_of_codes_and_event_types_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire.json");
    let current = serde_json::to_string_pretty(&ocp_notebook::wire::listing()).unwrap() + "\n";
    if std::env::var_os("OCP_NOTEBOOK_BLESS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == current,
        "tests/fixtures/wire.json is not what src/wire.rs says: run `OCP_NOTEBOOK_BLESS=1 cargo test --test \
         wire` and commit the file (names may be added, never renamed or dropped)"
    );
}
