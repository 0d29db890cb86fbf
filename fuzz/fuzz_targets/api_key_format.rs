//! Any presented API key: the format and checksum check never panics, an accepted key has
//! the documented shape, and verifying it against any stored hash never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_auth::api_key::{self, ID_LEN, KEY_LEN, PREFIX, Pepper};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = api_key::parse(&text) {
        assert_eq!(text.len(), KEY_LEN);
        assert!(text.starts_with(PREFIX));
        assert_eq!(id.len(), ID_LEN);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let pepper = Pepper::new(&[7u8; 32]).expect("a 32-byte pepper is accepted");
    let _ = pepper.verify(&text, data);
    assert!(pepper.verify(&text, &pepper.hash(&text)));
});
