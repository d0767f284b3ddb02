//! Fiddler SAZ archives. (Being written.)

use std::path::Path;

use super::{Capture, OpenError, OpenOptions};

pub fn open(path: &Path, _options: &OpenOptions<'_>) -> Result<Capture, OpenError> {
    Err(OpenError::NotACapture { path: path.into(), reason: "SAZ reading is not implemented yet".into() })
}
