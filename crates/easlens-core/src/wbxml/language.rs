//! Which XML language a WBXML document says it is. WBXML is a container for many languages (WML,
//! SI/SL, SyncML, Wireless Village…); the header's public identifier names the language, either as
//! a number from the WAP/OMA registry (WBXML 1.3 section 7.2.1, OMNA "WBXML Public Identifiers")
//! or, with public id 0, as a formal public identifier in the string table. ActiveSync sends
//! public id 0x01, "unknown or missing" ([MS-ASWBXML] 2.1.2.1.1), so any other registered id, or a
//! string naming another DTD, means the body is not ActiveSync and its tokens would decode to
//! nonsense on ActiveSync's code pages.

/// What a public identifier says about the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// ActiveSync (or AirSync, libwbxml's older name for it).
    ActiveSync,
    /// Another language, by name.
    Other(String),
    /// Nothing recognisable: decoded as ActiveSync, with a warning.
    Unknown,
}

/// The public ids of the registry: (number, formal public identifier, language).
const REGISTRY: &[(u32, &str, &str)] = &[
    (0x02, "-//WAPFORUM//DTD WML 1.0//EN", "WML"),
    (0x03, "-//WAPFORUM//DTD WTA 1.0//EN", "WTA"),
    (0x04, "-//WAPFORUM//DTD WML 1.1//EN", "WML"),
    (0x05, "-//WAPFORUM//DTD SI 1.0//EN", "Service Indication (SI)"),
    (0x06, "-//WAPFORUM//DTD SL 1.0//EN", "Service Loading (SL)"),
    (0x07, "-//WAPFORUM//DTD CO 1.0//EN", "Cache Operation (CO)"),
    (0x08, "-//WAPFORUM//DTD CHANNEL 1.1//EN", "WTA Channel"),
    (0x09, "-//WAPFORUM//DTD WML 1.2//EN", "WML"),
    (0x0A, "-//WAPFORUM//DTD WML 1.3//EN", "WML"),
    (0x0B, "-//WAPFORUM//DTD PROV 1.0//EN", "WAP Provisioning"),
    (0x0C, "-//WAPFORUM//DTD WTA-WML 1.2//EN", "WTA-WML"),
    (0x0D, "-//WAPFORUM//DTD EMN 1.0//EN", "Email Notification (EMN)"),
    (0x0E, "-//OMA//DTD DRMREL 1.0//EN", "OMA DRM Rights Expression"),
    (0x0F, "-//WIRELESSVILLAGE//DTD CSP 1.0//EN", "Wireless Village"),
    (0x10, "-//WIRELESSVILLAGE//DTD CSP 1.1//EN", "Wireless Village"),
    (0x11, "-//OMA//DTD WV-CSP 1.2//EN", "Wireless Village"),
    (0x12, "-//OMA//DTD IMPS-CSP 1.3//EN", "OMA IMPS (Wireless Village)"),
    (0x13, "-//OMA//DRM 2.1//EN", "OMA DRM"),
    (0x14, "-//OMA//SRM 1.0//EN", "OMA SRM"),
    (0x15, "-//OMA//DCD 1.0//EN", "OMA DCD"),
    (0x16, "-//OMA//DTD DS-DataObjectEmail 1.2//EN", "OMA DS (SyncML)"),
    (0x17, "-//OMA//DTD DS-DataObjectFolder 1.2//EN", "OMA DS (SyncML)"),
    (0x18, "-//OMA//DTD DS-DataObjectFile 1.2//EN", "OMA DS (SyncML)"),
    // libwbxml's number for Nokia's ConML (no registry entry).
    (0x8F, "-//CONML//DTD ConML//EN", "Nokia ConML"),
    (0x0FD1, "-//SYNCML//DTD SyncML 1.0//EN", "SyncML"),
    (0x0FD2, "-//SYNCML//DTD DevInf 1.0//EN", "SyncML"),
    (0x0FD3, "-//SYNCML//DTD SyncML 1.1//EN", "SyncML"),
    (0x0FD4, "-//SYNCML//DTD DevInf 1.1//EN", "SyncML"),
    (0x1201, "-//SYNCML//DTD SyncML 1.2//EN", "SyncML"),
    (0x1202, "-//SYNCML//DTD MetInf 1.2//EN", "SyncML"),
    (0x1203, "-//SYNCML//DTD DevInf 1.2//EN", "SyncML"),
];

/// Families of formal public identifiers without a number of their own (SyncML MetInf 1.0/1.1,
/// OMA DM DDF, SyncML 2.0 schemas…), by how they start; the first match wins.
const FAMILIES: &[(&str, &str)] = &[
    ("-//SYNCML//", "SyncML"),
    ("-//OMA//DTD-DM-DDF", "OMA DM (SyncML)"),
    ("-//OMA//DTD DS-", "OMA DS (SyncML)"),
    ("-//OMA//DTD WV-CSP", "Wireless Village"),
    ("-//OMA//DTD IMPS-CSP", "OMA IMPS (Wireless Village)"),
    ("-//WIRELESSVILLAGE//", "Wireless Village"),
    ("-//WAPFORUM//DTD WML", "WML"),
    ("-//PHONE.COM//DTD WML", "WML"),
    ("-//WAPFORUM//", "WAP Forum"),
    ("-//PHONE.COM//", "Phone.com (Openwave)"),
    ("-//OMA//", "OMA"),
    ("-//CONML//", "Nokia ConML"),
    ("-//NOKIA//", "Nokia"),
];

/// The registered formal public identifier and language of a numeric public id other than 0
/// (string table) and 1 (unknown, what ActiveSync sends).
pub(crate) fn registered(public_id: u32) -> Option<(&'static str, &'static str)> {
    REGISTRY
        .iter()
        .find(|&&(n, _, _)| n == public_id)
        .map(|&(_, fpi, language)| (fpi, language))
}

/// The language a known formal public identifier names (case-insensitive), if it is not
/// ActiveSync's: used for the public id and for every string of the string table.
pub(crate) fn known_language(fpi: &str) -> Option<&'static str> {
    let fpi = fpi.trim();
    if let Some(&(_, _, language)) = REGISTRY.iter().find(|(_, f, _)| f.eq_ignore_ascii_case(fpi)) {
        return Some(language);
    }
    FAMILIES
        .iter()
        .find(|(prefix, _)| {
            fpi.get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        })
        .map(|&(_, language)| language)
}

/// What the public identifier from the string table (public id 0) says.
pub(crate) fn of_public_id_string(fpi: &str) -> Verdict {
    let upper = fpi.trim().to_ascii_uppercase();
    if upper.contains("ACTIVESYNC") || upper.contains("AIRSYNC") {
        return Verdict::ActiveSync;
    }
    if let Some(language) = known_language(fpi) {
        return Verdict::Other(language.to_string());
    }
    // Any other formal public identifier ("-//Owner//DTD Name 1.0//EN") still names a DTD that
    // is not ActiveSync's: call the language by the DTD's name.
    let mut parts = fpi.trim().split("//");
    match (parts.next(), parts.next(), parts.next()) {
        (Some("-" | "+"), Some(owner), Some(text)) if !owner.is_empty() && !text.trim().is_empty() => {
            let text = text.trim();
            let name = text
                .split_once(' ')
                .filter(|(class, _)| class.chars().all(|c| c.is_ascii_uppercase()))
                .map_or(text, |(_, name)| name.trim());
            Verdict::Other(name.to_string())
        }
        _ => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_numbers_and_strings() {
        assert_eq!(registered(0x0A), Some(("-//WAPFORUM//DTD WML 1.3//EN", "WML")));
        assert_eq!(registered(0x1201), Some(("-//SYNCML//DTD SyncML 1.2//EN", "SyncML")));
        assert_eq!(registered(0x01), None);
        assert_eq!(registered(0x4242), None);
        assert_eq!(known_language("-//SYNCML//DTD MetInf 1.1//EN"), Some("SyncML"));
        assert_eq!(known_language("-//syncml//dtd syncml 1.1//en"), Some("SyncML"));
        assert_eq!(
            known_language("-//WIRELESSVILLAGE//DTD CSP 1.1//EN"),
            Some("Wireless Village")
        );
        assert_eq!(
            known_language("-//WAPFORUM//DTD SI 1.0//EN"),
            Some("Service Indication (SI)")
        );
        assert_eq!(known_language("AirSync:"), None);
        assert_eq!(known_language("-//MICROSOFT//DTD ActiveSync//EN"), None);
    }

    #[test]
    fn public_id_strings() {
        assert_eq!(
            of_public_id_string("-//MICROSOFT//DTD ActiveSync//EN"),
            Verdict::ActiveSync
        );
        assert_eq!(of_public_id_string("-//AIRSYNC//DTD AirSync//EN"), Verdict::ActiveSync);
        assert_eq!(
            of_public_id_string("-//SYNCML//DTD SyncML 1.2//EN"),
            Verdict::Other("SyncML".into())
        );
        assert_eq!(
            of_public_id_string("-//ACME//DTD Widgets 2.0//EN"),
            Verdict::Other("Widgets 2.0".into())
        );
        assert_eq!(of_public_id_string("\u{7f}x3"), Verdict::Unknown);
        assert_eq!(of_public_id_string(""), Verdict::Unknown);
    }
}
