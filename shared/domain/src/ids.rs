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
    fn parse_normalises_lower_case_to_canonical_form() {
        let id = SessionId::generate();
        let lower = id.as_str().to_lowercase();
        assert_eq!(SessionId::parse(&lower), Some(id));
    }
}
