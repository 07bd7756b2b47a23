//! What the data plane serves, and what it could not, for `GET /dataplane`.

/// What the data plane serves, and what it could not, for `GET /dataplane`.
#[derive(Default)]
pub struct StatusBoard {
    listeners: std::sync::Mutex<Vec<serde_json::Value>>,
}

impl StatusBoard {
    /// `{"listeners": [{"address", "port", "protocol", "state", "reason"?}]}`. No load balancer
    /// IDs: the endpoint answers without a signature, and IDs are each account's own.
    pub fn report(&self) -> serde_json::Value {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        serde_json::json!({ "listeners": listeners })
    }

    pub(super) fn set(&self, listeners: Vec<serde_json::Value>) {
        *self.listeners.lock().unwrap_or_else(|p| p.into_inner()) = listeners;
    }
}
