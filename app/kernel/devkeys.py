"""The authority's keys: a CA, the signing certificate it issues for PDFs (PAdES), and an
Ed25519 key for the compact payload in the QR code.

In production they come from the environment (PEM text; the CA is the authority's or a
national e-licence CA). In development :func:`generate_dev_keys` makes a self-signed dev
CA and a signing certificate at first run (written to ``var/dev-secrets.json``, never
committed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_KEY_SETTINGS = ("CERT_CA_CERT", "CERT_SIGNING_CERT", "CERT_SIGNING_KEY",
                     "CERT_PAYLOAD_KEY")


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _pem_key(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def generate_dev_keys(authority: str = "珠海市不动产登记中心") -> dict[str, str]:
    """A dev CA (10 years), the authority's signing certificate (5 years, P-256) and an
    Ed25519 payload key, as PEM text under the CERT_* setting names."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("不动产登记电子证照开发 CA（仅限开发测试）", "开发测试")
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    signing = (x509.CertificateBuilder()
               .subject_name(_name(authority, authority)).issuer_name(ca_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=1825))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    return {
        "CERT_CA_CERT": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "CERT_SIGNING_CERT": signing.public_bytes(serialization.Encoding.PEM).decode(),
        "CERT_SIGNING_KEY": _pem_key(key),
        "CERT_PAYLOAD_KEY": _pem_key(ed25519.Ed25519PrivateKey.generate()),
    }
