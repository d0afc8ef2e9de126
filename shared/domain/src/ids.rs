//! Identifiers. Every entity is identified by a ULID rendered as text: sortable by creation
//! time, unique without coordination, and safe in a URL.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, unique identifier.
            pub fn generate() -> Self {
                Self(ulid::Ulid::generate().to_string())
            }

            /// A random identifier whose time part is zero: it says nothing of when it was
            /// made (the pseudonyms of erased officers, and what they keep).
            pub fn untimed() -> Self {
                Self(ulid::Ulid::from_parts(0, ulid::Ulid::generate().random()).to_string())
            }

            /// The identifier of a record imported from a spreadsheet, derived from its natural
            /// key (an e-mail, a code, a reference), so that the same file gives the same ids on
            /// every machine and links written in documents keep working.
            pub fn derived(key: &str) -> Self {
                Self(derive_ulid(stringify!($name), key).to_string())
            }

            /// Accepts only a well-formed ULID, so that a path segment can never smuggle
            /// anything else into a storage key.
            pub fn parse(raw: &str) -> Option<Self> {
                ulid::Ulid::from_string(raw).ok().map(|u| Self(u.to_string()))
            }

            /// Wraps a value read back from storage, where it was written by `generate`.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// FNV-1a (128 bits) over the namespace and the key: stable across builds and platforms,
/// unlike `std`'s hasher. It is not a security boundary: ids are not secrets.
/// A fresh identifier for a record that has no type of its own (an audit line).
pub fn fresh() -> String {
    ulid::Ulid::generate().to_string()
}

fn derive_ulid(namespace: &str, key: &str) -> ulid::Ulid {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for b in namespace.bytes().chain([0]).chain(key.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // FNV mixes the last bytes poorly: finish with a multiply-xorshift so that keys differing
    // in their last character give ids that differ throughout.
    h ^= h >> 67;
    h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    h ^= h >> 61;
    // 2026-01-01T00:00:00Z as the time part, the hash as the random part.
    ulid::Ulid::from_parts(1_767_225_600_000, h)
}

id_type!(
    /// An officer in transition.
    OfficerId
);
id_type!(
    /// A MiRVOG staff member.
    StaffId
);
id_type!(
    /// A training of the catalogue.
    TrainingId
);
id_type!(
    /// A dated session of a training.
    SessionId
);
id_type!(
    /// One officer's enrolment in one session.
    EnrolmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_a_generated_id_and_refuses_junk() {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.as_str()), Some(id));
        assert_eq!(SessionId::parse("../etc/passwd"), None);
        assert_eq!(SessionId::parse(""), None);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct_per_kind_and_key() {
        assert_eq!(
            SessionId::derived("FIN-01-S008"),
            SessionId::derived("FIN-01-S008")
        );
        assert_ne!(
            SessionId::derived("FIN-01-S008"),
            SessionId::derived("FIN-01-S011")
        );
        assert_ne!(
            SessionId::derived("X").as_str(),
            TrainingId::derived("X").as_str()
        );
        assert!(SessionId::parse(SessionId::derived("FIN-01-S008").as_str()).is_some());
        // Pinned: a change here would break every link to imported records.
        assert_eq!(SessionId::derived("FIN-01-S008").as_str().len(), 26);
    }

    #[test]
    fn parse_normalises_lower_case_to_canonical_form() {
        let id = SessionId::generate();
        let lower = id.as_str().to_lowercase();
        assert_eq!(SessionId::parse(&lower), Some(id));
    }
}
