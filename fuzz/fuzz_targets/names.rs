#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mstation_core::fuzz::names(data));
