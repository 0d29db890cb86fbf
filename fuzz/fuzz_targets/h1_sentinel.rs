//! Any bytes as an HTTP/1 request head: the check never panics, and a head it accepts is
//! complete (`\r\n\r\n`-terminated) and within the limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_framing::check_head;
use portcullis_framing::HeadCheck;

fuzz_target!(|data: &[u8]| {
    let mut scratch = vec![httparse::EMPTY_HEADER; 33];
    if let HeadCheck::Valid { len, .. } = check_head(data, 4096, &mut scratch) {
        assert!(len <= 4096);
        assert!(data[..len].ends_with(b"\r\n\r\n"));
    }
});
