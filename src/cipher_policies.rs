//! TLS versions and cipher suites by the names SLB's cipher policies use (slb-families.md §5),
//! and which of them rustls can offer: the API refuses a custom policy naming one it cannot,
//! and the data plane offers exactly a policy's versions and suites.

use rustls::{CipherSuite, ProtocolVersion};

pub const VERSIONS: [&str; 4] = ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Every cipher name SLB accepts, with the versions it is valid for (1.0/1.1 suites are valid
/// for 1.2 too) and the rustls suite when rustls offers it.
pub const CIPHERS: [(&str, &[&str], Option<CipherSuite>); 24] = {
    const OLD: &[&str] = &["TLSv1.0", "TLSv1.1", "TLSv1.2"];
    const V12: &[&str] = &["TLSv1.2"];
    const V13: &[&str] = &["TLSv1.3"];
    [
        ("ECDHE-ECDSA-AES128-SHA", OLD, None),
        ("ECDHE-ECDSA-AES256-SHA", OLD, None),
        ("ECDHE-RSA-AES128-SHA", OLD, None),
        ("ECDHE-RSA-AES256-SHA", OLD, None),
        ("AES128-SHA", OLD, None),
        ("AES256-SHA", OLD, None),
        ("DES-CBC3-SHA", OLD, None),
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            V12,
            Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        ),
        (
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            V12,
            Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
        ),
        ("ECDHE-ECDSA-AES128-SHA256", V12, None),
        ("ECDHE-ECDSA-AES256-SHA384", V12, None),
        (
            "ECDHE-RSA-AES128-GCM-SHA256",
            V12,
            Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        ),
        (
            "ECDHE-RSA-AES256-GCM-SHA384",
            V12,
            Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
        ),
        ("ECDHE-RSA-AES128-SHA256", V12, None),
        ("ECDHE-RSA-AES256-SHA384", V12, None),
        ("AES128-GCM-SHA256", V12, None),
        ("AES256-GCM-SHA384", V12, None),
        ("AES128-SHA256", V12, None),
        ("AES256-SHA256", V12, None),
        (
            "TLS_AES_128_GCM_SHA256",
            V13,
            Some(CipherSuite::TLS13_AES_128_GCM_SHA256),
        ),
        (
            "TLS_AES_256_GCM_SHA384",
            V13,
            Some(CipherSuite::TLS13_AES_256_GCM_SHA384),
        ),
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            V13,
            Some(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
        ),
        ("TLS_AES_128_CCM_SHA256", V13, None),
        ("TLS_AES_128_CCM_8_SHA256", V13, None),
    ]
};

/// Why a policy of these versions and ciphers cannot be served, if it cannot: a name SLB does
/// not know, a cipher valid for none of the versions, or what rustls cannot offer.
pub fn problem(versions: &[String], ciphers: &[String]) -> Option<String> {
    if let Some(unknown) = versions.iter().find(|v| !VERSIONS.contains(&v.as_str())) {
        return Some(format!(
            "TLSVersions holds {unknown:?}: use TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3"
        ));
    }
    if let Some(old) = versions.iter().find(|v| *v == "TLSv1.0" || *v == "TLSv1.1") {
        return Some(format!(
            "{old} cannot be offered by this server (rustls speaks TLS 1.2 and 1.3 only)"
        ));
    }
    for cipher in ciphers {
        let Some((_, valid, suite)) = CIPHERS.iter().find(|(name, ..)| name == cipher) else {
            return Some(format!(
                "Ciphers holds {cipher:?}, which is not a cipher SLB knows"
            ));
        };
        if !valid
            .iter()
            .any(|v| versions.iter().any(|given| given == v))
        {
            return Some(format!(
                "{cipher} is valid for none of the TLSVersions given"
            ));
        }
        if suite.is_none() {
            let offered: Vec<&str> = CIPHERS
                .iter()
                .filter(|(_, _, suite)| suite.is_some())
                .map(|(name, ..)| *name)
                .collect();
            return Some(format!(
                "{cipher} cannot be offered by this server (rustls offers only {})",
                offered.join(", ")
            ));
        }
    }
    // A version none of the ciphers serves could never be agreed on.
    for version in versions {
        let served = ciphers.iter().any(|cipher| {
            CIPHERS
                .iter()
                .any(|(name, valid, _)| name == cipher && valid.contains(&version.as_str()))
        });
        if !served {
            return Some(format!("none of the Ciphers is a {version} cipher"));
        }
    }
    None
}

/// The rustls suites of a policy's cipher names (those it can offer).
pub fn suites(ciphers: &[String]) -> Vec<CipherSuite> {
    ciphers
        .iter()
        .filter_map(|cipher| CIPHERS.iter().find(|(name, ..)| name == cipher)?.2)
        .collect()
}

/// SLB's name of a negotiated suite and version (`ECDHE-RSA-AES128-GCM-SHA256`, `TLSv1.2`),
/// as its access logs show them.
pub fn names_of(suite: CipherSuite, version: ProtocolVersion) -> (&'static str, &'static str) {
    let cipher = CIPHERS
        .iter()
        .find(|(.., offered)| *offered == Some(suite))
        .map_or("", |(name, ..)| *name);
    let version = match version {
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        _ => "",
    };
    (cipher, version)
}

/// The protocol versions of a policy's version names (those rustls speaks).
pub fn protocol_versions(versions: &[String]) -> Vec<ProtocolVersion> {
    versions
        .iter()
        .filter_map(|version| match version.as_str() {
            "TLSv1.2" => Some(ProtocolVersion::TLSv1_2),
            "TLSv1.3" => Some(ProtocolVersion::TLSv1_3),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn policies_rustls_can_serve_pass_and_the_others_say_why() {
        let modern = strings(&["ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384"]);
        assert_eq!(problem(&strings(&["TLSv1.2", "TLSv1.3"]), &modern), None);
        let why = problem(&strings(&["TLSv1.2"]), &strings(&["AES128-SHA"])).unwrap();
        assert!(why.contains("rustls offers only"), "{why}");
        assert!(
            problem(&strings(&["TLSv1.0"]), &modern)
                .unwrap()
                .contains("TLS 1.2 and 1.3")
        );
        assert!(
            problem(
                &strings(&["TLSv1.2"]),
                &strings(&["TLS_AES_128_GCM_SHA256"])
            )
            .is_some()
        );
        assert!(problem(&strings(&["TLSv1.2"]), &strings(&["RC4-MD5"])).is_some());
        let only_13 = strings(&["TLS_AES_128_GCM_SHA256"]);
        let why = problem(&strings(&["TLSv1.2", "TLSv1.3"]), &only_13).unwrap();
        assert!(why.contains("TLSv1.2 cipher"), "{why}");
        assert_eq!(suites(&modern).len(), 2);
    }
}
