//! What the data plane's listeners serve, for `/metrics`: connections accepted and open, and
//! TLS handshakes by outcome, by listener protocol. Labels are few and fixed, so the series
//! stay bounded however many listeners come and go.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::store::load_balancers::Protocol;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabels {
    pub protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandshakeLabels {
    /// `ok`, `refused` (the client or its offer was refused) or `timeout`.
    pub outcome: &'static str,
}

/// Shared by every listener's accept loop and the metrics registry (the families are handles).
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    pub connections: Family<ProtocolLabels, Counter>,
    pub open: Family<ProtocolLabels, Gauge>,
    pub handshakes: Family<HandshakeLabels, Counter>,
}

impl Traffic {
    /// Counts an accepted connection as open until the guard is dropped.
    pub fn accepted(&self, protocol: Protocol) -> OpenConnection {
        let labels = ProtocolLabels {
            protocol: protocol.as_str(),
        };
        self.connections.get_or_create(&labels).inc();
        let open = self.open.get_or_create(&labels).clone();
        open.inc();
        OpenConnection(open)
    }

    pub fn handshake(&self, outcome: &'static str) {
        self.handshakes
            .get_or_create(&HandshakeLabels { outcome })
            .inc();
    }
}

/// One open connection in [`Traffic::open`].
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
