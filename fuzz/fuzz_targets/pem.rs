#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| slbcert::fuzzing::pem_text(data));
