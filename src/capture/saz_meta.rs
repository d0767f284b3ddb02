//! Fiddler's per-session metadata `raw/N_m.xml`. (Being written.)
