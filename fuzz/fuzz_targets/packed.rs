#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    inkstone_fuzz_targets::packed(data);
});
