//! Fuzz target `core`: see gen3_cwlogs_harness::fuzzing::core for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gen3_cwlogs_harness::fuzzing::core(data));
