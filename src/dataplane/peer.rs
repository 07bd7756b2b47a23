//! Who is on the other end of a client connection: its address and, over TLS, the client
//! certificate the handshake verified, as the forwarding headers say them.

use std::net::SocketAddr;

/// Who is on the other end of one client connection.
pub struct Peer {
    pub(super) address: SocketAddr,
    /// Over TLS: the certificate the client presented (verified by the handshake), if any.
    pub(super) certificate: Option<ClientCertificate>,
    pub(super) tls: bool,
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
        }
    }

    /// `chain` is what the handshake accepted: rustls verified it against the listener's CA
    /// certificate, or refused the connection.
    pub fn tls(
        address: SocketAddr,
        chain: Option<&[rustls::pki_types::CertificateDer<'_>]>,
    ) -> Peer {
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
        }
    }
}
