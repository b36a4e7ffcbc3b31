#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenledger_fuzz::claude_code_transcript(data));
