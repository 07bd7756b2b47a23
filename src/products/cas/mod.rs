//! The SSL Certificates Service (product version 2020-04-07): uploaded certificates (which
//! SLB's `UploadServerCertificate` with `AliCloudCertificateId` takes) and certificates applied
//! for, issued through an ACME CA.

pub mod certificate_requests;
mod order_views;
pub mod user_certificates;
mod views;
