"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*) from the PKI
fixtures and hand-made requests. The fuzzers add what they find beside them."""

import base64
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pki"
CORPUS = ROOT / "fuzz" / "corpus"


def der_blocks(text):
    return [base64.b64decode("".join(body.split()))
            for body in re.findall(r"-----BEGIN [^-]+-----(.*?)-----END", text, re.S)]


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


V1_QUERY = ("AccessKeyId=testak&Action=SetServerCertificateName&Format=JSON&RegionId=cn-hangzhou"
            "&ServerCertificateId=1231579085529123_166f8204689_1714763408_709981430"
            "&ServerCertificateName=my%20cert%2A~%2F%E8%AF%81%E4%B9%A6&SignatureMethod=HMAC-SHA1"
            "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureType=&SignatureVersion=1.0"
            "&Timestamp=2024-01-01T00%3A00%3A00Z&Version=2014-05-15&Signature=abc%3D")
V3_HEAD = ("POST /?RegionId=cn-hangzhou&ServerCertificateId=x&ServerCertificateName=n HTTP/1.1\r\n"
           "host: 127.0.0.1:18080\r\nx-acs-action: SetServerCertificateName\r\nx-acs-version: 2014-05-15\r\n"
           "x-acs-date: 2024-01-01T00:00:00Z\r\nx-acs-signature-nonce: 3ee8c1b883d344afa94f4e0ad82fd6cf\r\n"
           "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
           "authorization: ACS3-HMAC-SHA256 Credential=testak,SignedHeaders=host;x-acs-action;"
           "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=08cb\r\n\r\n")

HTTP = {
    "get": "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "post-length": "POST /?A=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nB=2&C",
    "chunked": "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nA=1&\r\n3\r\nB=2\r\n0\r\nX-T: v\r\n\r\n",
    "pipelined": "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /c HTTP/1.0\r\n\r\n",
    "continue": "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    "http10-te": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "smuggle": "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare-lf": "\r\n\nGET /x?y HTTP/1.1\nHost: x\n\n",
    "absolute": "GET http://h:1/p?q=1#f HTTP/1.1\r\n\r\n",
}

API = {
    "v1-get": f"GET /?{V1_QUERY} HTTP/1.1\r\nHost: x\r\n\r\n",
    "v1-form": ("POST /?Action=UploadServerCertificate&Version=2014-05-15 HTTP/1.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n\r\n" + V1_QUERY),
    "v3": V3_HEAD,
    "tags": ("GET /?Action=DescribeServerCertificates&Version=2014-05-15&Tag.1.Key=k&Tag.1.Value=v"
             "&Tags=%5B%7B%22TagKey%22%3A%22a%22%7D%5D&Format=XML HTTP/1.1\r\n\r\n"),
    "control": "GET /?Action=A%01%0B&Format=XML&Name=%EF%BF%BE HTTP/1.1\r\n\r\n",
}

for name, text in HTTP.items():
    write("http_connection", name, text)
for name, text in API.items():
    write("api_request", name, text)

for path in sorted(FIXTURES.glob("*")):
    text = path.read_text()
    if "-----BEGIN" not in text:
        continue
    write("pem", path.name, text)
    if "Proc-Type" in text:  # legacy encrypted: headers inside the block
        continue
    blocks = der_blocks(text)
    if "CERTIFICATE" in text.split("\n", 1)[0]:
        write("certificate_der", path.name, b"\xff\xff".join(blocks))
    elif "ENCRYPTED" not in text:
        label = text.split("\n", 1)[0]
        selector = 0 if "RSA" in label else 1 if "EC PRIVATE" in label else 2
        write("private_key_der", path.name, bytes([selector]) + blocks[-1])

for certificate, key in [("rsa2048.crt", "rsa2048.pkcs1.key"), ("p256.crt", "p256.sec1.key"),
                         ("p384.crt", "p384.pkcs8.key"), ("chain.crt", "chain.key"),
                         ("p521.crt", "p521.sec1.key")]:
    write("upload", certificate, (FIXTURES / certificate).read_text() + "\0" + (FIXTURES / key).read_text())
