//! The per-capture map from personal values to pseudonyms: the same value always gets the same
//! pseudonym (compared without case where the value is case-insensitive: addresses, user names,
//! device IDs), numbered in the order values are first met, so patterns stay visible.
//!
//! A person's mailbox is one number: `jdoe@contoso.com`, `CONTOSO\jdoe` and `jdoe` are all
//! `user1` (the part before `@` and after `\` is the key), and a domain is one name whether it
//! appears in an address (`contoso.com`) or as a Windows domain (`CONTOSO`).
//!
//! The map is what the engineer may look at and export; it is never part of what is shared.

use std::collections::HashMap;

use serde::Serialize;

/// What kind of value a pseudonym stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A mailbox: the local part of an address, or a user name.
    User,
    /// A mail or Windows domain.
    Domain,
    /// A display name.
    Person,
    Subject,
    Place,
    Phone,
    Postal,
    Imei,
    Attachment,
    Device,
    Ip,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Domain => "domain",
            Kind::Person => "name",
            Kind::Subject => "subject",
            Kind::Place => "location",
            Kind::Phone => "phone number",
            Kind::Postal => "postal address",
            Kind::Imei => "IMEI",
            Kind::Attachment => "file name",
            Kind::Device => "device ID",
            Kind::Ip => "IP address",
        }
    }
}

/// One line of the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub kind: Kind,
    pub original: String,
    pub pseudonym: String,
}

/// Names given to the first domains met; later ones are `domain9`, `domain10`, …
const DOMAINS: [&str; 8] = [
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "wingtip",
    "litware",
    "adatum",
    "woodgrove",
];

#[derive(Debug, Default, Clone)]
pub struct Pseudonyms {
    /// `(kind, key)` → index into `entries`.
    index: HashMap<(Kind, String), usize>,
    entries: Vec<Entry>,
    /// Per kind, how many values it has (the next number is one more).
    counts: HashMap<Kind, u32>,
    /// IPv4 and IPv6 numbers are counted apart.
    ipv6_count: u32,
}

/// Case-insensitive kinds are keyed in lower case.
fn key(kind: Kind, original: &str) -> String {
    match kind {
        Kind::User | Kind::Domain | Kind::Device | Kind::Imei | Kind::Ip => original.to_lowercase(),
        _ => original.to_string(),
    }
}

impl Pseudonyms {
    pub fn new() -> Self {
        Pseudonyms::default()
    }

    /// Every value met so far, in the order first met.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pseudonym of `original` as `kind`, made by `make` from its number when it is new.
    fn get(&mut self, kind: Kind, original: &str, make: impl FnOnce(&mut Self) -> String) -> String {
        let k = key(kind, original);
        if let Some(&i) = self.index.get(&(kind, k.clone())) {
            return self.entries[i].pseudonym.clone();
        }
        let pseudonym = make(self);
        self.index.insert((kind, k), self.entries.len());
        self.entries.push(Entry {
            kind,
            original: original.to_string(),
            pseudonym: pseudonym.clone(),
        });
        pseudonym
    }

    fn next(&mut self, kind: Kind) -> u32 {
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        *n
    }

    /// `Prefix N` for the simple kinds.
    fn numbered(&mut self, kind: Kind, original: &str, prefix: &str) -> String {
        self.get(kind, original, |s| format!("{prefix}{}", s.next(kind)))
    }

    /// A mailbox (the part of an address before `@`, a user name after `\`) → `userN`.
    pub fn mailbox(&mut self, name: &str) -> String {
        self.numbered(Kind::User, name, "user")
    }

    /// A domain (`contoso.com`, `CONTOSO`) → `contoso`, `fabrikam`, …; keyed by its first label.
    fn domain_name(&mut self, domain: &str) -> String {
        let first = domain.split('.').next().unwrap_or(domain);
        self.get(Kind::Domain, first, |s| {
            let n = s.next(Kind::Domain) as usize;
            DOMAINS
                .get(n - 1)
                .map_or_else(|| format!("domain{n}"), |d| d.to_string())
        })
    }

    /// `local@domain` → `userN@name.invalid`. The whole address is an entry of its own too (so
    /// that free text is scrubbed of it as one value, also percent-encoded).
    pub fn address(&mut self, address: &str) -> String {
        match address.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => self.get(Kind::User, address, |s| {
                let mailbox = s.mailbox(local);
                format!("{mailbox}@{}.invalid", s.domain_name(domain))
            }),
            _ => self.mailbox(address),
        }
    }

    /// A user name: `DOMAIN\user` → `CONTOSO\user1`, a UPN like an address, else `user1`.
    pub fn user(&mut self, user: &str) -> String {
        if let Some((domain, name)) = user.split_once('\\') {
            return self.get(Kind::User, user, |s| {
                let domain = if domain.is_empty() {
                    String::new()
                } else {
                    s.domain_name(domain).to_uppercase()
                };
                format!("{domain}\\{}", s.mailbox(name))
            });
        }
        if user.contains('@') {
            return self.address(user);
        }
        self.mailbox(user)
    }

    /// A display name → `Person N`.
    pub fn person(&mut self, name: &str) -> String {
        self.numbered(Kind::Person, name, "Person ")
    }

    /// A subject → `Subject N`, keeping a leading run of `RE:`/`FW:`/`FWD:`/`AW:`/`WG:`.
    pub fn subject(&mut self, subject: &str) -> String {
        let mut rest = subject;
        loop {
            let t = rest.trim_start();
            let Some(colon) = t.find(':').filter(|&i| i <= 3) else {
                break;
            };
            let prefix = &t[..colon];
            if !["re", "fw", "fwd", "aw", "wg", "tr"]
                .iter()
                .any(|p| prefix.eq_ignore_ascii_case(p))
            {
                break;
            }
            rest = &t[colon + 1..];
        }
        let kept = &subject[..subject.len() - rest.len()];
        let core = rest.trim();
        if core.is_empty() {
            return subject.to_string();
        }
        format!(
            "{kept}{}{}",
            if kept.is_empty() || kept.ends_with(' ') {
                ""
            } else {
                " "
            },
            { self.numbered(Kind::Subject, core, "Subject ") }
        )
    }

    pub fn place(&mut self, place: &str) -> String {
        self.numbered(Kind::Place, place, "Location ")
    }

    pub fn postal(&mut self, part: &str) -> String {
        self.numbered(Kind::Postal, part, "Address ")
    }

    pub fn imei(&mut self, imei: &str) -> String {
        self.numbered(Kind::Imei, imei, "IMEI-")
    }

    /// A device ID → `Device1`, or `Device-1` when the ID had hyphens: the grammar allows
    /// letters and digits only, and whether a device breaks it is part of the diagnosis.
    pub fn device(&mut self, id: &str) -> String {
        let prefix = if id.contains('-') { "Device-" } else { "Device" };
        self.numbered(Kind::Device, id, prefix)
    }

    /// A phone number → `+1-555-01NN` (the numbers 555-0100 to 555-0199 are reserved for
    /// fiction), then `+1-555-02NN`, …
    pub fn phone(&mut self, number: &str) -> String {
        self.get(Kind::Phone, number, |s| {
            let n = s.next(Kind::Phone);
            format!("+1-555-{:04}", 100 + n)
        })
    }

    /// A file name → `Attachment N.ext` (its extension kept when it looks like one).
    pub fn attachment(&mut self, name: &str) -> String {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| (1..=5).contains(&e.len()) && e.chars().all(|c| c.is_ascii_alphanumeric()));
        self.get(Kind::Attachment, name, |s| {
            let n = s.next(Kind::Attachment);
            match ext {
                Some(e) => format!("Attachment {n}.{e}"),
                None => format!("Attachment {n}"),
            }
        })
    }

    /// An IP address → `192.0.2.N`, then `198.51.100.N`, `203.0.113.N` (the documentation
    /// ranges); IPv6 → `2001:db8::N`. Anything else is kept apart as a device-like name.
    pub fn ip(&mut self, ip: &str) -> String {
        let ip = ip.trim();
        if ip.parse::<std::net::Ipv6Addr>().is_ok() {
            return self.get(Kind::Ip, ip, |s| {
                s.ipv6_count += 1;
                format!("2001:db8::{:x}", s.ipv6_count)
            });
        }
        self.get(Kind::Ip, ip, |s| {
            let n = s.next(Kind::Ip);
            let (block, host) = ((n - 1) / 254, (n - 1) % 254 + 1);
            match block {
                0 => format!("192.0.2.{host}"),
                1 => format!("198.51.100.{host}"),
                2 => format!("203.0.113.{host}"),
                b => format!("10.{}.{}.{host}", (b - 3) / 256, (b - 3) % 256),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_pseudonym_and_one_number_per_mailbox() {
        let mut p = Pseudonyms::new();
        assert_eq!(p.address("jdoe@contoso.com"), "user1@contoso.invalid");
        assert_eq!(p.user("CONTOSO\\jdoe"), "CONTOSO\\user1");
        assert_eq!(p.user("JDoe@Contoso.com"), "user1@contoso.invalid");
        assert_eq!(p.address("alex.chen@fabrikam.com"), "user2@fabrikam.invalid");
        assert_eq!(p.user("jdoe"), "user1");
        assert_eq!(p.person("Jordan Doe"), "Person 1");
        assert_eq!(p.person("Jordan Doe"), "Person 1");
        assert_eq!(p.person("Alex Chen"), "Person 2");
        assert_eq!(p.subject("Lunch on Thursday?"), "Subject 1");
        assert_eq!(p.subject("RE: Lunch on Thursday?"), "RE: Subject 1");
        assert_eq!(p.subject("Re:Re: Lunch on Thursday?"), "Re:Re: Subject 1");
        assert_eq!(p.attachment("Q3 numbers.xlsx"), "Attachment 1.xlsx");
        assert_eq!(p.attachment("README"), "Attachment 2");
        assert_eq!(p.phone("+44 20 7946 0000"), "+1-555-0101");
        assert_eq!(p.ip("10.1.2.3"), "192.0.2.1");
        assert_eq!(p.ip("fe80::1"), "2001:db8::1");
        assert_eq!(p.ip("10.1.2.4"), "192.0.2.2");
        assert_eq!(p.device("ABCDEF0123"), "Device1");
        assert_eq!(p.device("abcdef0123"), "Device1");
        assert_eq!(p.device("f0c2-77aa"), "Device-2");
        let kinds: Vec<Kind> = p.entries().iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Kind::User).count(), 5);
        let originals: Vec<&str> = p.entries().iter().take(4).map(|e| e.original.as_str()).collect();
        assert_eq!(originals, ["jdoe", "contoso", "jdoe@contoso.com", "CONTOSO\\jdoe"]);
    }

    #[test]
    fn ip_blocks_roll_over() {
        let mut p = Pseudonyms::new();
        let last = (0..255).map(|i| p.ip(&format!("10.0.{}.{}", i / 250, i % 250))).last();
        assert_eq!(last.as_deref(), Some("198.51.100.1"));
    }
}
