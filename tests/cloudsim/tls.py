"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost.

Real cloud APIs are HTTPS, and some clients (pydo) refuse a bearer token over plain HTTP, so
the simulator can serve TLS with a certificate from a CA it makes at start-up. It writes the
CA's PEM alone (``ca.pem``, for a client given it explicitly: ``ca_path``, ``verify=``) and a
trust bundle beside it (``ca-bundle.pem``): every certificate the environment trusted already,
plus the simulator's CA. ``REQUESTS_CA_BUNDLE`` replaces the trust store of every program that
uses requests (pip included), so it may only ever name the bundle: trusted in addition, never
instead.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def trust_bundle_path(ca_path: str) -> str:
    """Where the trust bundle of ``ca_path`` lies: ``ca.pem`` -> ``ca-bundle.pem``."""
    stem, ext = os.path.splitext(ca_path)
    return f"{stem}-bundle{ext or '.pem'}"


def trusted_before(env: Mapping[str, str], exclude: str) -> list[str]:
    """The CA files a program in ``env`` trusts without the simulator, in the order found:
    what requests reads (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), OpenSSL's (SSL_CERT_FILE or its
    default file), and certifi's, requests' own default. ``exclude`` (the bundle itself, when an
    environment that names it starts the simulator again) and missing files are left out."""
    names = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
    candidates = [env.get(name) for name in names]
    candidates.append(ssl.get_default_verify_paths().openssl_cafile)
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    found: list[str] = []
    for path in candidates:
        if not path or not os.path.isfile(path):
            continue
        if os.path.realpath(path) == os.path.realpath(exclude):
            continue
        if os.path.realpath(path) not in map(os.path.realpath, found):
            found.append(path)
    return found


def pem_certificates(text: str) -> list[str]:
    """The PEM certificate blocks of ``text``, each from its BEGIN line to its END line."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    blocks, start = [], text.find(begin)
    while start != -1:
        stop = text.find(end, start)
        if stop == -1:
            break
        blocks.append(text[start : stop + len(end)])
        start = text.find(begin, stop)
    return blocks


def write_trust_bundle(ca_pem: str, bundle: str, base_files: list[str]) -> None:
    """Write ``bundle`` (0644): each certificate of ``base_files`` once, then ``ca_pem``."""
    seen: set[str] = set()
    blocks: list[str] = []
    for path in base_files:
        with open(path, encoding="ascii", errors="replace") as handle:
            for block in pem_certificates(handle.read()):
                if block not in seen:
                    seen.add(block)
                    blocks.append(block)
    blocks.append(ca_pem.strip())
    _write_public(bundle, ("\n".join(blocks) + "\n").encode())


def _write_public(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def make_context(ca_path: str, env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """Create the CA and server certificate, write the CA PEM to ``ca_path`` and the trust
    bundle (what ``env``, by default this process's environment, trusted, plus the CA) beside
    it (both 0644)."""
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=7))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("sigma.deploy cloudsim CA"))
        .issuer_name(_name("sigma.deploy cloudsim CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    _write_public(ca_path, ca_pem)
    bundle = trust_bundle_path(ca_path)
    env = os.environ if env is None else env
    write_trust_bundle(ca_pem.decode(), bundle, trusted_before(env, exclude=bundle))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The key lives only in a private temporary file while the context loads it.
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as bundle:
        os.chmod(bundle.name, 0o600)
        bundle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + cert.public_bytes(serialization.Encoding.PEM)
        )
        bundle.flush()
        context.load_cert_chain(bundle.name)
    return context
