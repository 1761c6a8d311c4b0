//! Fuzz target `component`: see gen3_cwlogs_harness::fuzzing::component for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gen3_cwlogs_harness::fuzzing::component(data));
