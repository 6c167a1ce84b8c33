//! Feeds arbitrary bytes to the upload parser and validator: whatever comes in, the answer must be
//! a model or a 4xx error with a message, never a panic, a hang or a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocp_notebook::model::{parse_upload, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_nodes: 1000, max_depth: 32, max_array_len: 1 << 20 };
    match parse_upload(data.to_vec(), &limits) {
        Ok(upload) => assert!(!upload.geometry().is_empty()),
        Err(error) => {
            assert!(!error.message.is_empty(), "{error:?}");
        }
    }
});
