#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenledger_fuzz::otlp_metrics_json(data));
