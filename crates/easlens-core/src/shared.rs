//! Short strings that repeat from one session to the next — header lines, user and device names,
//! protocol versions, Status paths, CollectionIds — kept once per process instead of once per
//! session: a capture keeps every session's summary while it is open, and these repeated strings
//! were a third of a session's memory.
//!
//! The dictionary is lasso's concurrent interner (the workers that index a capture add to it at
//! once). It is bounded in entries and bytes; once full, new strings are kept by whoever holds
//! them, as before, so memory stays bounded whatever a capture holds. Strings are never removed:
//! the bound is what the process keeps.
//!
//! Each thread looks a string up in a small cache of its own first: lasso's map takes a shared
//! read lock per lookup, and with two workers looking up a dozen strings a session that lock's
//! cache line went back and forth between the cores (5% of indexing time at 1,000,000 sessions).

use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Deref;
use std::sync::{LazyLock, OnceLock};

use lasso::{Key, MemoryLimits, Spur, ThreadedRodeo};
use serde::Serialize;

/// Most distinct strings the dictionary takes, and most bytes of text.
const MAX_STRINGS: usize = 1 << 16;
const MAX_BYTES: usize = 8 << 20;
/// Longer strings are never looked up (a long value rarely repeats).
pub(crate) const MAX_LEN: usize = 512;

static DICTIONARY: LazyLock<ThreadedRodeo<Spur>> =
    LazyLock::new(|| ThreadedRodeo::with_memory_limits(MemoryLimits::for_memory_usage(MAX_BYTES)));

/// Each number's string, set when the number is first handed out: reading a header list resolves
/// every line on each lookup, and this is one atomic load where lasso's `resolve` is a hash lookup
/// (6% of indexing time). 65,536 empty cells take no memory until touched.
static RESOLVED: [OnceLock<&'static str>; MAX_STRINGS] = [const { OnceLock::new() }; MAX_STRINGS];

/// Slots of each thread's cache: (hash of the string, its number + 1; 0 = empty).
const CACHE_SLOTS: usize = 1024;

thread_local! {
    static CACHE: RefCell<[(u32, u32); CACHE_SLOTS]> = const { RefCell::new([(0, 0); CACHE_SLOTS]) };
}

/// The dictionary's number for `s`, added when there is room; `None` when `s` is too long or the
/// dictionary is full. Numbers are below 2¹⁶.
pub(crate) fn key(s: &str) -> Option<u32> {
    if s.len() > MAX_LEN {
        return None;
    }
    let hash = foldhash::fast::FixedState::with_seed(0).hash_one(s);
    let slot = (hash as usize) % CACHE_SLOTS;
    let tag = (hash >> 32) as u32;
    let cached = CACHE.with_borrow(|c| c[slot]);
    if cached.0 == tag && cached.1 != 0 && resolve(cached.1 - 1) == s {
        return Some(cached.1 - 1);
    }
    let key = dictionary_key(s)?;
    CACHE.with_borrow_mut(|c| c[slot] = (tag, key + 1));
    Some(key)
}

/// [`key`] without the thread's cache.
fn dictionary_key(s: &str) -> Option<u32> {
    let dict = &*DICTIONARY;
    let key = match dict.get(s) {
        Some(key) => key,
        // The count is read before adding: threads adding at once may pass it by a few strings.
        None if dict.len() < MAX_STRINGS => dict.try_get_or_intern(s).ok()?,
        None => return None,
    };
    let cell = RESOLVED.get(key.into_usize())?;
    cell.get_or_init(|| dict.resolve(&key));
    u32::try_from(key.into_usize()).ok()
}

/// The string numbered `key` by [`key`].
pub(crate) fn resolve(key: u32) -> &'static str {
    RESOLVED
        .get(key as usize)
        .and_then(OnceLock::get)
        .copied()
        .unwrap_or_default()
}

/// A string kept in the dictionary when it has room, else on its own (16 bytes either way).
#[derive(Clone)]
pub struct Shared(Repr);

#[derive(Clone)]
enum Repr {
    Dictionary(u32),
    Own(Box<str>),
}

impl Shared {
    pub fn new(s: &str) -> Shared {
        Shared(match key(s) {
            Some(k) => Repr::Dictionary(k),
            None => Repr::Own(s.into()),
        })
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Dictionary(k) => resolve(*k),
            Repr::Own(s) => s,
        }
    }
}

/// The empty string.
impl Default for Shared {
    fn default() -> Shared {
        Shared(Repr::Own(Box::default()))
    }
}

impl Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Shared {
        Shared::new(s)
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Shared {
        Shared::new(&s)
    }
}

impl From<&String> for Shared {
    fn from(s: &String) -> Shared {
        Shared::new(s)
    }
}

impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Shared {}

impl std::hash::Hash for Shared {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Shared {
    fn partial_cmp(&self, other: &Shared) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Shared {
    fn cmp(&self, other: &Shared) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Shared> for &str {
    fn eq(&self, other: &Shared) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Shared> for String {
    fn eq(&self, other: &Shared) -> bool {
        self == other.as_str()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_strings_read_back_and_compare_as_text() {
        assert_eq!(std::mem::size_of::<Shared>(), 16);
        let a = Shared::new("Sync/Collections/Collection/Status");
        let b = Shared::from("Sync/Collections/Collection/Status".to_string());
        assert_eq!(a, b);
        assert_eq!(a, "Sync/Collections/Collection/Status");
        assert!(matches!(a.0, Repr::Dictionary(_)));
        let long = "x".repeat(MAX_LEN + 1);
        let c = Shared::new(&long);
        assert!(matches!(c.0, Repr::Own(_)));
        assert_eq!(c.as_str(), long);
        assert_eq!(
            format!("{a} {a:?}"),
            r#"Sync/Collections/Collection/Status "Sync/Collections/Collection/Status""#
        );
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#""Sync/Collections/Collection/Status""#
        );
    }

    #[test]
    fn the_thread_cache_never_answers_for_another_string() {
        // More strings than cache slots: slots are shared and overwritten.
        let words: Vec<String> = (0..3 * CACHE_SLOTS).map(|i| format!("cache-test-{i}")).collect();
        for _ in 0..2 {
            for w in &words {
                let k = key(w).expect("room in the dictionary");
                assert_eq!(resolve(k), w);
            }
        }
    }
}
