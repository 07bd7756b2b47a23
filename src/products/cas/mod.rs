//! The SSL Certificates Service (product version 2020-04-07): uploaded certificates (which
//! SLB's `UploadServerCertificate` with `AliCloudCertificateId` takes) and certificates applied
//! for, issued through an ACME CA.

mod catalogue;
pub mod certificate_requests;
pub mod listing;
mod order_views;
pub mod user_certificates;
mod views;
