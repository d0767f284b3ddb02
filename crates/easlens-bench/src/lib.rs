//! Holds the engine benchmarks (benches/); no library code of its own.
