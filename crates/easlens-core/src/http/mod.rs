//! HTTP messages as captures store them: header blocks (request line / status line + headers) and
//! bodies as they were on the wire (chunked, compressed), decoded on demand; which [`Side`] of an
//! exchange something belongs to, and which methods send no body.

pub mod body;
pub mod headers;
pub mod message;

pub use body::{DecodedBody, decode_body, decode_body_within, readable_text};
pub use headers::Headers;
pub use message::{HttpError, RequestHead, ResponseHead, Side, has_no_body, parse_request, parse_response};
