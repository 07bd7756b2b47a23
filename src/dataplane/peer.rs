//! Who is on the other end of a client connection: its address and, over TLS, the client
//! certificate the handshake verified, as the forwarding headers say them.

use std::net::SocketAddr;

/// Who is on the other end of one client connection.
pub struct Peer {
    pub(super) address: SocketAddr,
    /// Over TLS: the certificate the client presented (verified by the handshake), if any.
    pub(super) certificate: Option<ClientCertificate>,
    pub(super) tls: bool,
    /// Over TLS: the negotiated suite and version, by SLB's names (for the access log).
    pub(super) ssl_cipher: &'static str,
    pub(super) ssl_protocol: &'static str,
}

/// What the client-certificate headers say.
pub(super) struct ClientCertificate {
    pub(super) subject: String,
    pub(super) issuer: String,
    pub(super) fingerprint: String,
}

impl Peer {
    pub fn plain(address: SocketAddr) -> Peer {
        Peer {
            address,
            certificate: None,
            tls: false,
            ssl_cipher: "",
            ssl_protocol: "",
        }
    }

    /// The peer of a finished handshake: the client chain it accepted (rustls verified it
    /// against the listener's CA certificate, or refused the connection) and what it agreed.
    pub fn tls(address: SocketAddr, session: &rustls::ServerConnection) -> Peer {
        let (ssl_cipher, ssl_protocol) = match (
            session.negotiated_cipher_suite(),
            session.protocol_version(),
        ) {
            (Some(suite), Some(version)) => {
                crate::cipher_policies::names_of(suite.suite(), version)
            }
            _ => ("", ""),
        };
        let chain = session.peer_certificates();
        let certificate = chain.and_then(|chain| chain.first()).and_then(|leaf| {
            let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
            Some(ClientCertificate {
                subject: parsed.subject().to_string(),
                issuer: parsed.issuer().to_string(),
                fingerprint: crate::pki::certificate::fingerprint(leaf.as_ref()),
            })
        });
        Peer {
            address,
            certificate,
            tls: true,
            ssl_cipher,
            ssl_protocol,
        }
    }
}
