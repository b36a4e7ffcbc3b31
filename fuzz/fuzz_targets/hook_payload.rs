#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenledger_fuzz::hook_payload(data));
