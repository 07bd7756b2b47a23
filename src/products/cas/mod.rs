//! The SSL Certificates Service (product version 2020-04-07): the slice that SLB's
//! `UploadServerCertificate` with `AliCloudCertificateId` and renewal tools use.

pub mod user_certificates;
mod views;
