//! The certificate products of the SSL Certificates Service that orders may name.

/// The products a request may name: code, name, brand, and whether it is for a wildcard.
pub const PRODUCTS: [(&str, &str, &str, bool); 7] = [
    (
        "digicert-free-1-free",
        "DigiCert DV single domain (free)",
        "DigiCert",
        false,
    ),
    (
        "symantec-free-1-free",
        "DigiCert DV single domain (free, 1 year)",
        "DigiCert",
        false,
    ),
    (
        "symantec-dv-1-starter",
        "DigiCert DV single domain",
        "DigiCert",
        false,
    ),
    (
        "geotrust-dv-1-starter",
        "GeoTrust DV single domain",
        "GeoTrust",
        false,
    ),
    (
        "geotrust-dv-w-starter",
        "GeoTrust DV wildcard",
        "GeoTrust",
        true,
    ),
    (
        "globalsign-dv-1-personal",
        "GlobalSign DV single domain",
        "GlobalSign",
        false,
    ),
    (
        "globalsign-dv-w-advanced",
        "GlobalSign DV wildcard",
        "GlobalSign",
        true,
    ),
];
