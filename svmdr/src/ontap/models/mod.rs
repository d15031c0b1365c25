//! Typed ONTAP records, one file per resource family. Every field is an
//! `Option` (a `fields=` query may leave it out) and every enum has an
//! `Unknown` catch-all, so values added by newer ONTAP releases never break
//! parsing.

mod cluster;
mod duration;
mod job;
mod network;
mod peers;
mod protocols;
mod snapmirror;
mod svm;
mod volumes;

pub use cluster::{Cluster, Node, Version};
pub use duration::{format_iso8601_duration, parse_iso8601_duration};
pub use job::{ErrorArgument, Job, JobError, JobState};
pub use network::{
    InterfaceLocation, InterfaceScope, InterfaceState, IpFamily, IpInfo, IpInterface,
};
pub use peers::{
    ClusterPeer, ClusterPeerAuthentication, ClusterPeerEncryption, ClusterPeerRemote,
    ClusterPeerStatus, PeerAuthInUse, PeerAuthState, PeerAvailability, PeerEncryption, SvmPeer,
    SvmPeerApplication, SvmPeerRemote, SvmPeerState,
};
pub use protocols::{IscsiService, IscsiTarget, NfsProtocol, NfsService, NfsState};
pub use snapmirror::{
    GroupType, IdentityPreservation, JobSchedule, PolicyType, Relationship, RelationshipChange,
    RelationshipEndpoint, RelationshipPolicy, RelationshipState, ScheduleType, SnapmirrorPolicy,
    Transfer, TransferState, TransferSummary, TransferType, UnhealthyReason,
};
pub use svm::{ProtectionType, Svm, SvmProtocol, SvmSnapmirror, SvmState, SvmSubtype};
pub use volumes::{
    Volume, VolumeErrorState, VolumeNas, VolumeSnapmirror, VolumeSpace, VolumeState, VolumeType,
};

use serde::{Deserialize, Serialize};

/// A reference to another object by name and/or UUID (`svm`, `ipspace`,
/// `policy`, `node`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    /// Object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Object UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

impl NamedRef {
    /// A reference by name only.
    pub fn by_name(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            uuid: None,
        }
    }

    /// The name, or `""` when absent.
    pub fn name_or_empty(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// Declares an ONTAP enum with its wire strings, an `Unknown` catch-all,
/// `as_str()` and `Display`.
macro_rules! ontap_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
            /// A value this client does not know (from a newer ONTAP release).
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl $name {
            /// The ONTAP wire value.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Unknown => "unknown",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use ontap_enum;

/// Lenient deserializers for fields whose wire form varies.
pub(crate) mod de {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// A string, or a number rendered as a string (ONTAP error codes).
    pub(crate) fn opt_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    /// An RFC 3339 timestamp; an unparsable value reads as absent rather
    /// than failing the whole record.
    pub(crate) fn opt_time<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()))
    }

    /// An ISO-8601 duration such as `P1DT2H3M4.5S`.
    pub(crate) fn opt_duration<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<std::time::Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_iso8601_duration(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}
