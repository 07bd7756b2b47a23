//! Every error the API answers, each mapped once to its Alibaba `Code`, HTTP status and message.

use http::StatusCode;

mod access;
mod acl;
mod lower_layers;
mod validation;

pub use access::{AccessError, Entity};
pub use acl::AclError;
pub use validation::{
    CA_CERTIFICATE_UPLOAD, SERVER_CERTIFICATE_UPLOAD, USER_CERTIFICATE_UPLOAD, UploadParameters,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    // The protocol and the gateway.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("invalid Format {0:?}")]
    InvalidFormat(String),
    #[error("unknown action {0:?}")]
    InvalidAction(String),
    #[error("unknown version {0:?}")]
    InvalidVersion(String),
    #[error("unknown access key")]
    InvalidAccessKeyId,
    #[error("signature mismatch")]
    SignatureDoesNotMatch { string_to_sign: String },
    #[error("incomplete signature: {0}")]
    IncompleteSignature(String),
    #[error("malformed timestamp")]
    InvalidTimestampFormat(String),
    #[error("expired timestamp")]
    InvalidTimestampExpired(String),
    #[error("nonce replayed")]
    SignatureNonceUsed,
    #[error("unknown region {0:?}")]
    InvalidRegionId(String),
    /// A malformed or oversized HTTP request, refused by the HTTP layer.
    #[error("bad request: {1}")]
    Protocol(StatusCode, String),

    // Certificates.
    #[error("malformed {parameter}: {detail}")]
    KeyFormatError {
        parameter: &'static str,
        detail: String,
    },
    #[error("encrypted private key: {0}")]
    PrivateKeyEncryption(String),
    #[error("certificate and key do not match: {0}")]
    CertificateNotMatchPrivateKey(String),
    #[error("over quota: {0}")]
    OverQuota(String),
    #[error("server certificate {0:?} not found")]
    ServerCertificateNotFound(String),
    #[error("CA certificate {0:?} not found")]
    CaCertificateNotFound(String),
    #[error("resource {0:?} not found")]
    ResourceNotFound(String),
    #[error("too many tags: {0}")]
    TagCountLimit(String),
    #[error("invalid tag key: {0}")]
    InvalidTagKey(String),
    #[error("invalid tag value: {0}")]
    InvalidTagValue(String),
    /// SSL Certificates Service.
    #[error("certificate {0} not found")]
    UserCertificateNotFound(i64),
    #[error("certificate name {0:?} taken")]
    NameRepeat(String),

    // Load balancers, listeners, domain extensions, backends.
    #[error("load balancer {0:?} not found")]
    LoadBalancerNotFound(String),
    /// A listener (or its load balancer) that does not exist, in the common table's words.
    #[error("resource not found")]
    ListenerResourceNotFound,
    #[error("no listener on port {0}")]
    ListenerNotFound(u16),
    #[error("listener on port {0} exists")]
    ListenerAlreadyExists(u16),
    #[error("too many listeners: {0}")]
    ListenerNumberOverLimit(String),
    #[error("port {0} has more than one listener")]
    TooManyListeners(u16),
    #[error("certificate {0:?} is bound")]
    CertificateInUse(String),
    #[error("domain extension {0:?} not found")]
    DomainExtensionNotFound(String),
    #[error("too many domain extensions: {0}")]
    DomainExtensionNumberOverLimit(String),
    #[error("VServer group {0:?} not found")]
    VServerGroupNotFound(String),
    #[error("forwarding rule {0:?} not found")]
    RuleNotFound(String),
    #[error("TLS cipher policy {0:?} not found")]
    TlsCipherPolicyNotFound(String),
    /// `DryRun=true` and the request passed validation: nothing was changed.
    #[error("dry run")]
    DryRunOperation,
    /// A listener given both a VServer group and a master-slave server group.
    #[error("two kinds of server group")]
    ServerGroupMissMatch,
    /// Two forwarding rules of one listener with the same domain and URL.
    #[error("domain and URL taken")]
    DomainExist,
    /// A VServer or master-slave server group that listeners or rules still use (Terraform
    /// retries on its code).
    #[error("server group in use: {0}")]
    ServerGroupInUse(String),
    #[error("delete protection is on")]
    DeleteProtectionIsOn,
    #[error("too many backend servers: {0}")]
    TooManyBackendServers(String),
    #[error("backend server {0:?} not found")]
    BackendServerNotFound(String),
    #[error("no address left")]
    ObtainIpFail,
    /// Refused in this state of the resource; the detail says why.
    #[error("not allowed: {0}")]
    OperationNotAllowed(String),
    #[error("spec not allowed: {0}")]
    ModifySpecNotAllowed(String),
    /// Changes kept racing with others on the same resource.
    #[error("busy")]
    OperationBusy,

    /// Who may do what: tokens, keys, policies, throttling, RAM and STS.
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Acl(#[from] AclError),

    /// A certificate order of the SSL Certificates Service that is not the caller's.
    #[error("certificate order {0} not found")]
    OrderNotFound(i64),
    /// Certificates are applied for only when `serve` names an ACME CA.
    #[error("no certificate authority")]
    NoCertificateAuthority,
    /// The CA refused the order, for a reason of the order's (its problem, in its words).
    #[error("the certificate authority refused: {0}")]
    CertificateAuthorityRefused(String),
    /// The CA did not answer, or failed on its side.
    #[error("the certificate authority is unavailable: {0}")]
    CertificateAuthorityUnavailable(String),

    // Ours.
    #[error("internal error")]
    Internal,
    #[error("service unavailable")]
    ServiceUnavailable,
    /// The storage cannot be used now; the reason is for the client too.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(String),
}

impl ApiError {
    pub fn code(&self) -> String {
        match self {
            ApiError::MissingParameter(name) => format!("Missing{name}"),
            ApiError::InvalidParameter(_) => "InvalidParameter".into(),
            ApiError::InvalidFormat(_) => "InvalidParameter.Format".into(),
            ApiError::InvalidAction(_) => "InvalidAction.NotFound".into(),
            ApiError::InvalidVersion(_) => "InvalidVersion".into(),
            ApiError::InvalidAccessKeyId => "InvalidAccessKeyId.NotFound".into(),
            ApiError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch".into(),
            ApiError::IncompleteSignature(_) => "IncompleteSignature".into(),
            ApiError::InvalidTimestampFormat(_) => "InvalidTimeStamp.Format".into(),
            ApiError::InvalidTimestampExpired(_) => "InvalidTimeStamp.Expired".into(),
            ApiError::SignatureNonceUsed => "SignatureNonceUsed".into(),
            ApiError::InvalidRegionId(_) => "InvalidRegionId.NotFound".into(),
            ApiError::Protocol(status, _) => protocol_code(*status).into(),
            ApiError::KeyFormatError { .. } => "KeyFormatError".into(),
            ApiError::PrivateKeyEncryption(_) => "PrivateKeyEncryption".into(),
            ApiError::CertificateNotMatchPrivateKey(_) => "CertificateNotMatchPrivateKey".into(),
            ApiError::OverQuota(_) => "OverQuota".into(),
            ApiError::ServerCertificateNotFound(_) => "ServerCertificateId.NotFound".into(),
            ApiError::CaCertificateNotFound(_) => "CACertificateId.NotFound".into(),
            ApiError::ResourceNotFound(_) => "InvalidResourceId.NotFound".into(),
            ApiError::TagCountLimit(_) => "TagCountLimit".into(),
            ApiError::InvalidTagKey(_) => "InvalidTagKey.Malformed".into(),
            ApiError::InvalidTagValue(_) => "InvalidTagValue.Malformed".into(),
            ApiError::UserCertificateNotFound(_) => "CertificateNotFound".into(),
            ApiError::NameRepeat(_) => "NameRepeat".into(),
            ApiError::LoadBalancerNotFound(_) => "InvalidLoadBalancerId.NotFound".into(),
            ApiError::ListenerResourceNotFound => "InvalidParameter".into(),
            ApiError::ListenerNotFound(_) => "ListenerNotFound".into(),
            ApiError::ListenerAlreadyExists(_) => "ListenerAlreadyExists".into(),
            ApiError::ListenerNumberOverLimit(_) => "ListenerNumberOverLimit".into(),
            ApiError::TooManyListeners(_) => "TooManyListeners".into(),
            ApiError::CertificateInUse(_) => "CertificateAndPrivateKeyIsRefered".into(),
            ApiError::DomainExtensionNotFound(_) => "InvalidParameter.DomainExtensionId".into(),
            ApiError::DomainExtensionNumberOverLimit(_) => "DomainExtensionNumberOverLimit".into(),
            ApiError::VServerGroupNotFound(_) => "InvalidParameter".into(),
            ApiError::RuleNotFound(_) => "InvalidRuleId.NotFound".into(),
            ApiError::DomainExist => "DomainExist".into(),
            ApiError::ServerGroupInUse(_) => "RspoolVipExist".into(),
            ApiError::DryRunOperation => "DryRunOperation".into(),
            ApiError::TlsCipherPolicyNotFound(_) => "TLSCipherPolicyId.NotFound".into(),
            ApiError::ServerGroupMissMatch => {
                "Abs.VServerGroupIdAndMasterSlaveServerGroupId.MissMatch".into()
            }
            ApiError::DeleteProtectionIsOn => "OperationDenied.DeleteProtectionIsOn".into(),
            ApiError::TooManyBackendServers(_) => "TooManyBackendServers".into(),
            ApiError::BackendServerNotFound(_) => "InvalidServerId.NotFound".into(),
            ApiError::ObtainIpFail => "ObtainIpFail".into(),
            ApiError::OperationNotAllowed(_) => "Operation.NotAllowed".into(),
            ApiError::ModifySpecNotAllowed(_) => "ModifySpecNotAllowed".into(),
            ApiError::OperationBusy => "OperationBusy".into(),
            ApiError::Access(error) => error.code(),
            ApiError::Acl(error) => error.code().into(),
            ApiError::OrderNotFound(_) => "OrderNotFound".into(),
            ApiError::NoCertificateAuthority => "OperationDenied.NoCertificateAuthority".into(),
            ApiError::CertificateAuthorityRefused(_) => {
                "OperationFailed.CertificateAuthority".into()
            }
            ApiError::Internal => "InternalError".into(),
            ApiError::ServiceUnavailable
            | ApiError::StorageUnavailable(_)
            | ApiError::CertificateAuthorityUnavailable(_) => "ServiceUnavailable".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidAction(_) | ApiError::InvalidRegionId(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidAccessKeyId => StatusCode::NOT_FOUND,
            // tf treats the code or any 404 as gone; the common table gives 404 to its peers.
            ApiError::LoadBalancerNotFound(_)
            | ApiError::ListenerNotFound(_)
            | ApiError::VServerGroupNotFound(_)
            | ApiError::RuleNotFound(_)
            | ApiError::TlsCipherPolicyNotFound(_)
            | ApiError::BackendServerNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Protocol(status, _) => *status,
            ApiError::Access(error) => error.status(),
            ApiError::Acl(error) => error.status(),
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::ServiceUnavailable
            | ApiError::StorageUnavailable(_)
            | ApiError::CertificateAuthorityUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `Message` of the envelope: Alibaba's own text where it is known, then what exactly
    /// is wrong with this request.
    pub fn message(&self) -> String {
        match self {
            ApiError::MissingParameter(name) => format!("{name} is mandatory for this action."),
            ApiError::InvalidParameter(detail) => detail.clone(),
            ApiError::InvalidFormat(value) => {
                format!("Specified parameter Format is not valid: {value:?} (use JSON or XML).")
            }
            ApiError::InvalidAction(action) => format!(
                "Specified api is not found, please check your url and method. (Action: {action})"
            ),
            ApiError::InvalidVersion(version) => format!(
                "Specified parameter Version is not valid: {version:?} (this endpoint serves SLB 2014-05-15, the SSL Certificates Service 2020-04-07, RAM 2015-05-01 and STS 2015-04-01)."
            ),
            ApiError::InvalidAccessKeyId => "Specified access key is not found.".into(),
            ApiError::SignatureDoesNotMatch { string_to_sign } => format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
            ApiError::IncompleteSignature(detail) => {
                format!("The request signature does not conform to Aliyun standards: {detail}")
            }
            ApiError::InvalidTimestampFormat(detail) => {
                format!("Specified time stamp or date value is not well formatted: {detail}")
            }
            ApiError::InvalidTimestampExpired(detail) => {
                format!("Specified time stamp or date value is expired: {detail}")
            }
            ApiError::SignatureNonceUsed => "Specified signature nonce was used already.".into(),
            ApiError::InvalidRegionId(region) => {
                format!("The specified RegionId does not exist: {region:?}.")
            }
            ApiError::Protocol(_, detail) => detail.clone(),
            ApiError::KeyFormatError { parameter, detail } => {
                format!("The specified {parameter} is incorrectly formatted: {detail}.")
            }
            ApiError::PrivateKeyEncryption(detail) => format!(
                "Key has Encrypted . {detail}; upload the key unencrypted (e.g. `openssl pkey -in key.pem`)."
            ),
            ApiError::CertificateNotMatchPrivateKey(detail) => {
                format!("Certificate and key does not match: {detail}.")
            }
            ApiError::OverQuota(detail) => format!("The Total is over the quota: {detail}."),
            ApiError::ServerCertificateNotFound(id) => {
                format!("The specified ServerCertificateId {id:?} does not exist.")
            }
            ApiError::CaCertificateNotFound(id) => {
                format!("The specified CACertificateId {id:?} does not exist.")
            }
            ApiError::ResourceNotFound(id) => {
                format!("The specified ResourceId {id:?} does not exist.")
            }
            ApiError::TagCountLimit(detail) => format!("Tags count limit exceeded: {detail}."),
            ApiError::InvalidTagKey(detail) | ApiError::InvalidTagValue(detail) => {
                format!("{detail}.")
            }
            ApiError::UserCertificateNotFound(id) => {
                format!("The certificate {id} does not exist.")
            }
            ApiError::NameRepeat(name) => {
                format!("The certificate name {name:?} is already used by another certificate.")
            }
            ApiError::LoadBalancerNotFound(_) => {
                // Matched word for word by clients (the Kubernetes controller's tests).
                "The specified LoadBalancerId does not exist.".into()
            }
            // tf matches this text to tell that a listener is gone.
            ApiError::ListenerResourceNotFound => "The specified resource does not exist.".into(),
            ApiError::ListenerNotFound(port) => format!(
                "You have not created a listener for the specified port of the load balancer (port {port})."
            ),
            ApiError::ListenerAlreadyExists(port) => {
                format!("A listener with the specified port already exists (port {port}).")
            }
            ApiError::ListenerNumberOverLimit(detail) => {
                format!("The number of listeners exceeds the limit: {detail}.")
            }
            ApiError::TooManyListeners(port) => format!(
                "More than 1 listener is found, please be more specified (port {port}: give ListenerProtocol)."
            ),
            ApiError::CertificateInUse(id) => format!(
                "Certificate and PrivateKey Is Refered. The specified certificate {id:?} is bound to listeners. You cannot delete it."
            ),
            ApiError::DomainExtensionNotFound(id) => {
                format!("The specified DomainExtensionId {id:?} does not exist.")
            }
            ApiError::DomainExtensionNumberOverLimit(detail) => {
                format!("The number of domain extensions exceeds the limit: {detail}.")
            }
            ApiError::VServerGroupNotFound(id) => {
                format!("The specified VServerGroupId does not exist: {id:?}.")
            }
            ApiError::RuleNotFound(id) => format!("The specified RuleId {id:?} does not exist."),
            ApiError::ServerGroupInUse(detail) => detail.clone(),
            ApiError::DomainExist => {
                "A rule with the same Domain and Url already exists on this listener.".into()
            }
            ApiError::DryRunOperation => {
                "Request validation has been passed with DryRun flag set.".into()
            }
            ApiError::TlsCipherPolicyNotFound(id) => {
                format!("The specified TLSCipherPolicyId {id:?} does not exist.")
            }
            ApiError::ServerGroupMissMatch => "A listener forwards to a VServer group or to a master-slave server group, not both.".into(),
            ApiError::DeleteProtectionIsOn => {
                "The loadbalancer can't be deleted due to DeleteProtection is enabled.".into()
            }
            ApiError::TooManyBackendServers(detail) => {
                format!("The number of backend servers exceeds the limit: {detail}.")
            }
            ApiError::BackendServerNotFound(id) => {
                format!("The specified ServerId {id:?} is not a backend server here.")
            }
            ApiError::ObtainIpFail => {
                "Obtain ip fail: the address pool has no free address left.".into()
            }
            ApiError::OperationNotAllowed(detail) => format!("Operation Denied. {detail}"),
            ApiError::ModifySpecNotAllowed(detail) => {
                format!("LoadBalancerSpec not allowed for this instance: {detail}.")
            }
            ApiError::OperationBusy => {
                "The specified resource is being changed by other requests; try again.".into()
            }
            ApiError::Access(error) => error.message(),
            ApiError::Acl(error) => error.message(),
            ApiError::OrderNotFound(id) => format!("The certificate order {id} does not exist."),
            ApiError::NoCertificateAuthority => "This server has no certificate authority to apply to: its operator starts it with --acme-directory URL. Nothing was stored.".into(),
            ApiError::CertificateAuthorityRefused(detail) => {
                format!("The certificate authority refused the request: {detail}. Nothing was stored.")
            }
            ApiError::CertificateAuthorityUnavailable(detail) => format!(
                "The certificate authority cannot be reached now ({detail}). Nothing was stored; try again later."
            ),
            ApiError::Internal => {
                "The request processing has failed due to some unknown error.".into()
            }
            ApiError::ServiceUnavailable => {
                "The request has failed due to a temporary failure of the server.".into()
            }
            ApiError::StorageUnavailable(reason) => format!(
                "The request has failed due to a temporary failure of the server: {reason}. Nothing was changed; try again later."
            ),
        }
    }

    /// Whether this is the server's temporary failure (503), not the client's doing.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ApiError::ServiceUnavailable
                | ApiError::StorageUnavailable(_)
                | ApiError::CertificateAuthorityUnavailable(_)
        )
    }
}

fn protocol_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "InvalidParameter.TooLarge",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "InvalidParameter.TooLarge",
        StatusCode::NOT_IMPLEMENTED => "UnsupportedOperation",
        StatusCode::INTERNAL_SERVER_ERROR => "InternalError",
        _ => "BadRequest",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_the_reference() {
        let cases = [
            (
                ApiError::MissingParameter("RegionId"),
                "MissingRegionId",
                400,
            ),
            (
                ApiError::InvalidAction("X".into()),
                "InvalidAction.NotFound",
                404,
            ),
            (ApiError::InvalidVersion("1".into()), "InvalidVersion", 400),
            (
                ApiError::SignatureDoesNotMatch {
                    string_to_sign: "s".into(),
                },
                "SignatureDoesNotMatch",
                400,
            ),
            (
                ApiError::InvalidFormat("Y".into()),
                "InvalidParameter.Format",
                400,
            ),
            (ApiError::SignatureNonceUsed, "SignatureNonceUsed", 400),
            (
                ApiError::ServerCertificateNotFound("x".into()),
                "ServerCertificateId.NotFound",
                400,
            ),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().as_u16(), status);
        }
    }

    #[test]
    fn signature_mismatch_message_ends_with_the_string_to_sign() {
        // aliyun-python-sdk-core splits this message on ':' and compares the second part
        // with its own StringToSign.
        let error = ApiError::SignatureDoesNotMatch {
            string_to_sign: "POST&%2F&A%3Db".into(),
        };
        let message = error.message();
        assert_eq!(message.split(':').nth(1), Some("POST&%2F&A%3Db"));
    }
}
