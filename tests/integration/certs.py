"""Certificates and keys made on the fly with `cryptography`, for the integration tests and for
the committed fixtures of the Rust unit tests (make_fixtures.py)."""

import datetime
import hashlib
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
# DER of each curve's OID, as `openssl ecparam` writes it in an EC PARAMETERS block.
EC_PARAMETERS = {
    "P-256": "BggqhkjOPQMBBw==",
    "P-384": "BgUrgQQAIg==",
    "P-521": "BgUrgQQAIw==",
}

_rsa_cache = {}


def rsa_key(bits=2048, fresh=False):
    """RSA generation is slow in big sizes; tests share keys unless they need a new one."""
    if fresh or bits not in _rsa_cache:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        if fresh:
            return key
        _rsa_cache[bits] = key
    return _rsa_cache[bits]


def ec_key(curve="P-256"):
    return ec.generate_private_key(CURVES[curve]())


def ed25519_key():
    return ed25519.Ed25519PrivateKey.generate()


def dsa_key():
    return dsa.generate_private_key(key_size=2048)


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def make_cert(key, cn="www.example.com", sans=("www.example.com", "example.com"), ips=(),
              issuer=None, issuer_key=None, ca=False, not_before=None, not_after=None,
              hash_alg=None):
    """A certificate for `key`, self-signed unless issuer/issuer_key are given."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "No CN Inc")])
    not_before = not_before or now() - datetime.timedelta(days=1)
    not_after = not_after or now() + datetime.timedelta(days=365)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.subject if issuer is not None else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    names = [x509.DNSName(n) for n in sans] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer_key if issuer_key is not None else key
    if isinstance(signer, ed25519.Ed25519PrivateKey):
        algorithm = None
    else:
        algorithm = hash_alg or hashes.SHA256()
    return builder.sign(signer, algorithm)


def cert_pem(*certs):
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(key, form="pkcs8", password=None, ec_parameters=None):
    """form: pkcs8, pkcs1 (RSA), sec1 (EC); ec_parameters: a curve name to prepend its block."""
    fmt = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
        "sec1": serialization.PrivateFormat.TraditionalOpenSSL,
    }[form]
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    text = key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()
    if ec_parameters:
        text = ("-----BEGIN EC PARAMETERS-----\n" + EC_PARAMETERS[ec_parameters]
                + "\n-----END EC PARAMETERS-----\n" + text)
    return text


def fingerprint(cert):
    digest = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def chain(leaf_key, intermediate_key, root_key, **leaf_args):
    """root -> intermediate -> leaf; returns (leaf, intermediate, root) certificates."""
    root = make_cert(root_key, cn="Test Root CA", sans=(), ca=True)
    intermediate = make_cert(intermediate_key, cn="Test Intermediate CA", sans=(), ca=True,
                             issuer=root, issuer_key=root_key)
    leaf = make_cert(leaf_key, issuer=intermediate, issuer_key=intermediate_key, **leaf_args)
    return leaf, intermediate, root
