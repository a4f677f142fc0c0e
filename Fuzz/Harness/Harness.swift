// The fuzzing executable's own source is empty: libFuzzer supplies main, and the entry points
// it calls (LLVMFuzzerInitialize, LLVMFuzzerTestOneInput) live in Fuzz/Targets/FuzzEntry.swift,
// in the sanitized library this binary links. See scripts/fuzz.
