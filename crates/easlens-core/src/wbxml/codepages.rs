//! The ActiveSync code pages ([MS-ASWBXML] v24.0 section 2.1.2.1), loaded from the data files in
//! `wbxml-codepages/` that the build embeds. Lookups by (page, token) for the decoder and by
//! (namespace, name) for the encoder.

use std::collections::HashMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/codepage_files.rs"));

/// Pages 0..PAGE_COUNT are defined by MS-ASWBXML; a SWITCH_PAGE to any other page is an error.
pub const PAGE_COUNT: usize = 26;

/// Where a token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Listed in MS-ASWBXML v24.0.
    Spec,
    /// In no current spec, still sent by older servers and clients.
    Legacy,
}

/// How an element's OPAQUE content is shown when it is not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    Base64,
    /// Byte-array elements (ConversationId, ConversationIndex) as Exchange's mailbox log shows them.
    Hex,
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub name: &'static str,
    pub status: TokenStatus,
    /// Protocol versions as the spec lists them ("All", or e.g. "14.0,14.1,16.0,16.1"); "-" for legacy.
    pub versions: &'static str,
    pub render: Render,
}

#[derive(Debug)]
pub struct CodePage {
    pub number: u8,
    pub name: &'static str,
    /// Namespace without the trailing colon (`AirSync`, `AirSyncBase`, …).
    pub namespace: &'static str,
    tokens: [Option<TokenInfo>; 64],
    by_name: HashMap<&'static str, u8>,
}

impl CodePage {
    /// The token's entry; `None` for tokens this page does not define (rendered as Unknown).
    pub fn token(&self, token: u8) -> Option<&TokenInfo> {
        self.tokens.get(usize::from(token))?.as_ref()
    }

    /// The token for a tag name; the spec name wins over a legacy one.
    pub fn token_for(&self, name: &str) -> Option<u8> {
        self.by_name.get(name).copied()
    }

    pub fn tokens(&self) -> impl Iterator<Item = (u8, &TokenInfo)> {
        (0u8..64).filter_map(|t| self.token(t).map(|i| (t, i)))
    }
}

pub struct CodePages {
    pages: Vec<Option<CodePage>>,
}

impl CodePages {
    pub fn page(&self, page: u8) -> Option<&CodePage> {
        self.pages.get(usize::from(page))?.as_ref()
    }

    /// The page for a namespace, with or without the trailing colon, in any case.
    pub fn page_for_namespace(&self, ns: &str) -> Option<&CodePage> {
        let ns = ns.strip_suffix(':').unwrap_or(ns);
        self.pages
            .iter()
            .flatten()
            .find(|p| p.namespace.eq_ignore_ascii_case(ns))
    }

    pub fn pages(&self) -> impl Iterator<Item = &CodePage> {
        self.pages.iter().flatten()
    }

    /// Tag name of (page, token), if the page defines it.
    pub fn name(&self, page: u8, token: u8) -> Option<&'static str> {
        self.page(page)?.token(token).map(|t| t.name)
    }
}

/// The code pages built into this binary.
pub fn codepages() -> &'static CodePages {
    static PAGES: OnceLock<CodePages> = OnceLock::new();
    PAGES.get_or_init(|| {
        // The files are part of the build and checked by the tests; a bad one is a build defect.
        parse_files(CODEPAGE_FILES).unwrap_or_else(|e| panic!("embedded code page data: {e}"))
    })
}

/// Parses code page files (`(file name, contents)`), reporting the first problem with file and line.
pub fn parse_files(files: &[(&str, &'static str)]) -> Result<CodePages, String> {
    let mut pages: Vec<Option<CodePage>> = (0..PAGE_COUNT).map(|_| None).collect();
    for (file, text) in files {
        let page = parse_page(text).map_err(|e| format!("{file}: {e}"))?;
        let slot = pages
            .get_mut(usize::from(page.number))
            .ok_or_else(|| format!("{file}: page {} is not an ActiveSync code page", page.number))?;
        if slot.is_some() {
            return Err(format!("{file}: page {} is defined twice", page.number));
        }
        *slot = Some(page);
    }
    Ok(CodePages { pages })
}

fn parse_page(text: &'static str) -> Result<CodePage, String> {
    let mut number = None;
    let mut name = None;
    let mut namespace = None;
    let mut tokens: [Option<TokenInfo>; 64] = std::array::from_fn(|_| None);
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let at = |msg: String| format!("line {}: {msg}", i + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&'static str> = line.split('\t').collect();
        if !in_table {
            match cols.as_slice() {
                ["page", n] => number = Some(n.parse::<u8>().map_err(|e| at(format!("page: {e}")))?),
                ["name", n] => name = Some(*n),
                ["namespace", n] => namespace = Some(*n),
                ["token", "tag", "status", "versions", "render"] => in_table = true,
                _ => return Err(at(format!("unexpected header line {line:?}"))),
            }
            continue;
        }
        let token = cols
            .first()
            .and_then(|t| t.strip_prefix("0x"))
            .and_then(|t| u8::from_str_radix(t, 16).ok())
            .filter(|t| (0x05..=0x3F).contains(t))
            .ok_or_else(|| at("token must be 0x05..0x3F".into()))?;
        let tag = *cols
            .get(1)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| at("no tag".into()))?;
        let status = match cols.get(2).copied() {
            Some("spec") => TokenStatus::Spec,
            Some("legacy") => TokenStatus::Legacy,
            // Disputed assignments (Find 0x1A–0x1C) are kept in the file for reference only.
            Some("disputed") => continue,
            other => return Err(at(format!("unknown status {other:?}"))),
        };
        let versions = cols.get(3).copied().unwrap_or("-");
        let render = match cols.get(4).copied().unwrap_or("") {
            "" => Render::Base64,
            "hex" => Render::Hex,
            other => return Err(at(format!("unknown render {other:?}"))),
        };
        let slot = &mut tokens[usize::from(token)];
        if slot.is_some() {
            return Err(at(format!("token 0x{token:02X} defined twice")));
        }
        *slot = Some(TokenInfo {
            name: tag,
            status,
            versions,
            render,
        });
    }
    let number = number.ok_or("no `page` line")?;
    let mut by_name = HashMap::new();
    // Spec names first so that a legacy alias never shadows them.
    for want in [TokenStatus::Spec, TokenStatus::Legacy] {
        for (t, info) in tokens.iter().enumerate() {
            if let Some(info) = info.as_ref().filter(|i| i.status == want) {
                by_name.entry(info.name).or_insert(t as u8);
            }
        }
    }
    Ok(CodePage {
        number,
        name: name.ok_or("no `name` line")?,
        namespace: namespace.ok_or("no `namespace` line")?,
        tokens,
        by_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_26_pages_with_608_spec_and_48_legacy_tokens() {
        let cp = codepages();
        assert_eq!(cp.pages().count(), 26);
        let (mut spec, mut legacy) = (0, 0);
        for p in cp.pages() {
            for (_, t) in p.tokens() {
                match t.status {
                    TokenStatus::Spec => spec += 1,
                    TokenStatus::Legacy => legacy += 1,
                }
            }
        }
        assert_eq!((spec, legacy), (608, 48));
    }

    #[test]
    fn spec_names_not_implementation_aliases() {
        let cp = codepages();
        assert_eq!(cp.name(1, 0x0D), Some("BusinessAddressCity"));
        assert_eq!(cp.name(2, 0x3B), Some("Status"));
        assert_eq!(cp.name(25, 0x20), Some("MaxPictures"));
        assert_eq!(cp.name(25, 0x22), Some("Picture"));
        // Disputed Find tokens are unknown.
        assert_eq!(cp.name(25, 0x1A), None);
        assert_eq!(cp.page_for_namespace("AirSyncBase:").map(|p| p.number), Some(17));
        assert_eq!(cp.page_for_namespace("gal").map(|p| p.name), Some("GAL"));
        assert_eq!(cp.page(0).and_then(|p| p.token_for("Sync")), Some(0x05));
        assert_eq!(
            cp.page(22).and_then(|p| p.token(0x09)).map(|t| t.render),
            Some(Render::Hex)
        );
    }

    #[test]
    fn bad_data_names_file_and_line() {
        let err = parse_files(&[(
            "x.tsv",
            "page\t1\nname\tX\nnamespace\tX\ntoken\ttag\tstatus\tversions\trender\n0x02\tBad\tspec\tAll\t\n",
        )])
        .err()
        .unwrap();
        assert!(err.contains("x.tsv: line 5"), "{err}");
    }
}
