//! Fuzz target `forms`: see gen3_cwlogs_harness::fuzzing::forms for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gen3_cwlogs_harness::fuzzing::forms(data));
