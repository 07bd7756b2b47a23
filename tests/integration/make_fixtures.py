"""Writes tests/fixtures/pki/*, the committed material of the Rust unit tests.

Run from the repository root with the test venv: target/pyenv/bin/python tests/integration/make_fixtures.py
The SM2 pair needs the openssl command line (cryptography has no SM2)."""

import datetime
import os
import pathlib
import subprocess
import tempfile

from cryptography.hazmat.primitives import hashes

import certs

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "pki"
FAR = datetime.datetime(2120, 1, 1, tzinfo=datetime.timezone.utc)
START = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)


def write(name, text):
    (OUT / name).write_text(text)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    long = dict(not_before=START, not_after=FAR)

    rsa = certs.rsa_key(2048)
    leaf = certs.make_cert(rsa, cn="rsa.example.com", sans=("rsa.example.com", "*.rsa.example.com"),
                           ips=("192.0.2.7", "2001:db8::1"), **long)
    write("rsa2048.crt", certs.cert_pem(leaf))
    write("rsa2048.pkcs1.key", certs.key_pem(rsa, "pkcs1"))
    write("rsa2048.pkcs8.key", certs.key_pem(rsa, "pkcs8"))
    write("rsa2048.encrypted-pkcs8.key", certs.key_pem(rsa, "pkcs8", password=b"secret"))
    write("rsa2048.encrypted-legacy.key", certs.key_pem(rsa, "pkcs1", password=b"secret"))
    write("rsa2048.fingerprint", certs.fingerprint(leaf) + "\n")

    other = certs.rsa_key(2048, fresh=True)
    write("rsa2048-other.pkcs1.key", certs.key_pem(other, "pkcs1"))

    for curve, form in (("P-256", "sec1"), ("P-384", "pkcs8"), ("P-521", "sec1")):
        key = certs.ec_key(curve)
        name = curve.lower().replace("-", "")
        write(f"{name}.crt", certs.cert_pem(
            certs.make_cert(key, cn=f"{name}.example.com", sans=(f"{name}.example.com",), **long)))
        write(f"{name}.{form}.key", certs.key_pem(key, form, ec_parameters=curve if form == "sec1" else None))

    # root (RSA 1024, SHA-256) -> intermediate (P-521) -> leaf (P-384): algorithms ring cannot verify.
    root_key, mid_key, leaf_key = certs.rsa_key(1024), certs.ec_key("P-521"), certs.ec_key("P-384")
    root = certs.make_cert(root_key, cn="Fixture Root", sans=(), ca=True, **long)
    mid = certs.make_cert(mid_key, cn="Fixture Intermediate", sans=(), ca=True, issuer=root,
                          issuer_key=root_key, hash_alg=hashes.SHA384(), **long)
    chain_leaf = certs.make_cert(leaf_key, cn="chain.example.com", sans=("chain.example.com",),
                                 issuer=mid, issuer_key=mid_key, hash_alg=hashes.SHA512(), **long)
    write("chain.crt", certs.cert_pem(chain_leaf, mid, root))
    write("chain.key", certs.key_pem(leaf_key, "pkcs8"))
    write("chain-wrong-order.crt", certs.cert_pem(chain_leaf, root, mid))

    expired = certs.make_cert(rsa, cn="expired.example.com", sans=(),
                              not_before=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                              not_after=datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc))
    write("expired.crt", certs.cert_pem(expired))

    ed = certs.ed25519_key()
    write("ed25519.crt", certs.cert_pem(certs.make_cert(ed, cn="ed.example.com", sans=(), **long)))
    write("ed25519.key", certs.key_pem(ed, "pkcs8"))


    with tempfile.TemporaryDirectory() as tmp:
        key, crt = os.path.join(tmp, "sm2.key"), os.path.join(tmp, "sm2.crt")
        subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", key], check=True)
        subprocess.run(["openssl", "req", "-new", "-x509", "-key", key, "-sm3", "-days", "36500",
                        "-subj", "/CN=sm2.example.com", "-out", crt], check=True)
        write("sm2.key", pathlib.Path(key).read_text())
        write("sm2.crt", pathlib.Path(crt).read_text())
        rsa512 = os.path.join(tmp, "rsa512.key")
        subprocess.run(["openssl", "genrsa", "-out", rsa512, "512"], check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "req", "-new", "-x509", "-key", rsa512, "-days", "36500",
                        "-subj", "/CN=rsa512.example.com", "-out", crt], check=True)
        write("rsa512.key", pathlib.Path(rsa512).read_text())
        write("rsa512.crt", pathlib.Path(crt).read_text())


if __name__ == "__main__":
    main()
