//! Image bodies (contact photos, a web page's pictures in the same capture): their format and
//! size in pixels, read from the header by the `imagesize` crate without decoding the picture.

/// What an image body is: its format's name and its size in pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: &'static str,
    pub width: usize,
    pub height: usize,
}

/// The format and size of `bytes` when they are an image of a format `imagesize` knows.
pub fn describe(bytes: &[u8]) -> Option<ImageInfo> {
    use imagesize::ImageType;
    let format = match imagesize::image_type(bytes).ok()? {
        ImageType::Png => "PNG",
        ImageType::Jpeg => "JPEG",
        ImageType::Gif => "GIF",
        ImageType::Bmp => "BMP",
        ImageType::Webp => "WebP",
        ImageType::Ico => "ICO",
        ImageType::Tiff => "TIFF",
        ImageType::Heif(_) => "HEIF",
        _ => "image",
    };
    let size = imagesize::blob_size(bytes).ok()?;
    Some(ImageInfo {
        format,
        width: size.width,
        height: size.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_header_gives_its_size_and_text_gives_nothing() {
        // The signature and IHDR of a 3×2 PNG.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&3u32.to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            describe(&png),
            Some(ImageInfo {
                format: "PNG",
                width: 3,
                height: 2
            })
        );
        assert_eq!(describe(b"<html>not a picture</html>"), None);
        assert_eq!(describe(b""), None);
    }
}
