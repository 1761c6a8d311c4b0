//! Fuzz target `fluent_bit`: see gen3_cwlogs_harness::fuzzing::fluent_bit for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gen3_cwlogs_harness::fuzzing::fluent_bit(data));
