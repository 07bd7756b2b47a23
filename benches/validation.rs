//! CPU cost of what every upload does before it touches the store: PEM and X.509 parsing, chain
//! signature checks, key parsing and pairing; and of request signature verification.

use criterion::{Criterion, criterion_group, criterion_main};
use slbcert::api::params::RpcParams;
use slbcert::api::signature::v1;
use slbcert::pki::validate_server_certificate;
use std::hint::black_box;
use time::macros::datetime;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../tests/fixtures/pki/", $name))
    };
}

fn validation(c: &mut Criterion) {
    let now = datetime!(2026-11-27 12:00 UTC);
    let cases = [
        (
            "rsa2048_pkcs1",
            fixture!("rsa2048.crt"),
            fixture!("rsa2048.pkcs1.key"),
        ),
        ("p256_sec1", fixture!("p256.crt"), fixture!("p256.sec1.key")),
        ("p521_sec1", fixture!("p521.crt"), fixture!("p521.sec1.key")),
        (
            "chain3_p384_p521_rsa1024",
            fixture!("chain.crt"),
            fixture!("chain.key"),
        ),
    ];
    let mut group = c.benchmark_group("validate_server_certificate");
    for (name, certificate, key) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                validate_server_certificate(black_box(certificate), black_box(key), now).unwrap()
            })
        });
    }
    group.finish();
}

fn signature(c: &mut Criterion) {
    // An upload-sized V1 request: the string to sign covers the PEM bodies.
    let query = format!(
        "AccessKeyId=LTAI0123456789abcdefghij&Action=UploadServerCertificate&Format=JSON\
         &RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=abc&SignatureType=\
         &SignatureVersion=1.0&Timestamp=2024-01-01T00%3A00%3A00Z&Version=2014-05-15\
         &ServerCertificate={}&PrivateKey={}",
        slbcert::api::signature::percent_encode(fixture!("rsa2048.crt")),
        slbcert::api::signature::percent_encode(fixture!("rsa2048.pkcs1.key")),
    );
    c.bench_function("v1_parse_and_sign_upload_request", |b| {
        b.iter(|| {
            let params = RpcParams::parse(black_box(&query), b"", None).unwrap();
            v1::sign("secret", &v1::string_to_sign("POST", &params))
        })
    });
}

fn envelope(c: &mut Criterion) {
    use slbcert::crypto::envelope::{self, Kek};
    let kek = Kek::generate(1);
    let key = fixture!("rsa2048.pkcs1.key").as_bytes();
    let aad = b"certificate-key\x001231579085529123\x00cn-hangzhou\x001231579085529123_1_2_3";
    let sealed = envelope::seal(&kek, key, aad);
    c.bench_function("envelope_seal_rsa2048_key", |b| {
        b.iter(|| envelope::seal(&kek, black_box(key), aad))
    });
    c.bench_function("envelope_open_rsa2048_key", |b| {
        b.iter(|| envelope::open(&kek, black_box(&sealed), aad).unwrap())
    });
}

criterion_group!(benches, validation, signature, envelope);
criterion_main!(benches);
