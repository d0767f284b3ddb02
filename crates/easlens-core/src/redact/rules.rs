//! The redaction rules of `rules.tsv` as lookup tables: the class of each element (by tag, or by
//! parent and tag), header and query parameter. `build.rs` has checked the file against the code
//! pages, so every ActiveSync token has a class; tokens no code page names get [`Class::Text`].

use std::collections::HashMap;
use std::sync::OnceLock;

pub use super::rules_tsv::Class;
use super::rules_tsv::{RowKind, parse_rules};
use crate::wbxml::codepages::codepages;
use crate::wbxml::document::Tag;

pub struct Rules {
    elements: HashMap<Tag, Class>,
    /// `(parent, tag)` rows, which win over the tag's own row.
    under: HashMap<(Tag, Tag), Class>,
    /// Lower-case names.
    headers: HashMap<String, Class>,
    query: HashMap<String, Class>,
}

const RULES: &str = include_str!("rules.tsv");

/// The rules, parsed once.
pub fn rules() -> &'static Rules {
    static RULES_TABLE: OnceLock<Rules> = OnceLock::new();
    RULES_TABLE
        .get_or_init(|| build(RULES).unwrap_or_else(|e| panic!("src/redact/rules.tsv: {e} (build.rs checks it)")))
}

fn tag_of((ns, tag): (&str, &str)) -> Result<Tag, String> {
    let page = codepages()
        .page_for_namespace(ns)
        .ok_or_else(|| format!("no code page {ns}"))?;
    let token = page.token_for(tag).ok_or_else(|| format!("no element {ns}:{tag}"))?;
    Ok(Tag::new(page.number, token))
}

fn build(text: &str) -> Result<Rules, String> {
    let mut rules = Rules {
        elements: HashMap::new(),
        under: HashMap::new(),
        headers: HashMap::new(),
        query: HashMap::new(),
    };
    for row in parse_rules(text)? {
        match row.kind {
            RowKind::Element => {
                let tag = tag_of(row.key)?;
                match row.parent {
                    Some(parent) => rules.under.insert((tag_of(parent)?, tag), row.class),
                    None => rules.elements.insert(tag, row.class),
                };
            }
            RowKind::Header => {
                rules.headers.insert(row.key.1.to_ascii_lowercase(), row.class);
            }
            RowKind::Query => {
                rules.query.insert(row.key.1.to_ascii_lowercase(), row.class);
            }
        }
    }
    Ok(rules)
}

impl Rules {
    /// The class of an element's content.
    pub fn element(&self, parent: Option<Tag>, tag: Tag) -> Class {
        parent
            .and_then(|p| self.under.get(&(p, tag)))
            .or_else(|| self.elements.get(&tag))
            .copied()
            .unwrap_or(Class::Text)
    }

    /// The class of a header, when it has a row (headers without one are scrubbed).
    pub fn header(&self, name: &str) -> Option<Class> {
        self.headers.get(&name.to_ascii_lowercase()).copied()
    }

    /// The class of a query parameter ([`Class::Keep`] without a row).
    pub fn query(&self, name: &str) -> Class {
        self.query
            .get(&name.to_ascii_lowercase())
            .copied()
            .unwrap_or(Class::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks every code page: each token the decoder knows has a row, so a new token cannot
    /// slip through as "keep" by default.
    #[test]
    fn every_token_of_every_code_page_has_a_class() {
        let r = rules();
        let mut count = 0;
        for page in codepages().pages() {
            for (token, info) in page.tokens() {
                let tag = Tag::new(page.number, token);
                assert!(
                    r.elements.contains_key(&tag),
                    "{}:{} has no row in rules.tsv",
                    page.namespace,
                    info.name
                );
                count += 1;
            }
        }
        assert_eq!(count, r.elements.len(), "rows for tokens the code pages do not have");
        assert!(count > 600, "{count}");
    }

    #[test]
    fn what_must_survive_is_kept_and_personal_data_is_not() {
        let r = rules();
        let class = |ns: &str, tag: &str| r.element(None, tag_of((ns, tag)).unwrap());
        for (ns, tag) in [
            ("AirSync", "SyncKey"),
            ("AirSync", "CollectionId"),
            ("AirSync", "ServerId"),
            ("AirSync", "ClientId"),
            ("AirSync", "Status"),
            ("Calendar", "UID"),
            ("Calendar", "StartTime"),
            ("Provision", "PolicyKey"),
            ("FolderHierarchy", "DisplayName"),
            ("MeetingResponse", "RequestId"),
            ("Email", "MessageClass"),
            ("AirSyncBase", "FileReference"),
            ("AirSyncBase", "Type"),
        ] {
            assert_eq!(class(ns, tag), Class::Keep, "{ns}:{tag}");
        }
        for (ns, tag, want) in [
            ("Email", "To", Class::People),
            ("Email", "Subject", Class::Subject),
            ("AirSyncBase", "Data", Class::Body),
            ("Calendar", "OrganizerName", Class::People),
            ("Calendar", "Location", Class::Place),
            ("Settings", "IMEI", Class::Imei),
            ("Settings", "PhoneNumber", Class::Phone),
            ("Contacts", "HomeAddressStreet", Class::Postal),
            ("ComposeMail", "Mime", Class::Mime),
            ("AirSyncBase", "DisplayName", Class::Attachment),
            ("Search", "Password", Class::Secret),
        ] {
            assert_eq!(class(ns, tag), want, "{ns}:{tag}");
        }
        let location = tag_of(("AirSyncBase", "Location")).unwrap();
        let name = tag_of(("AirSyncBase", "DisplayName")).unwrap();
        assert_eq!(r.element(Some(location), name), Class::Place);
        assert_eq!(r.element(None, Tag::new(0, 0x3F)), Class::Text);
        assert_eq!(r.header("authorization"), Some(Class::Credential));
        assert_eq!(r.header("X-MS-PolicyKey"), None);
        assert_eq!(r.query("deviceid"), Class::Device);
        assert_eq!(r.query("CollectionId"), Class::Keep);
    }
}
