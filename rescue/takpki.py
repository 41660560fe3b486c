"""Certificates for the CoT TLS port (DESIGN §12): the production path for TAK clients.

`rescue tak enroll UNIT` issues the unit a client certificate signed by this deployment's own
certificate authority (made on first use under the data dir) and packs it as a connection
data package ATAK and WinTAK import: the server's address, the trust store and the unit's
certificate. The TLS listener accepts only certificates of that authority, and a connection
speaks for the one unit named in its certificate: it may move that unit and no other.
"""

from __future__ import annotations

import io
import ipaddress
import os
import secrets
import socket
import ssl
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_YEARS = 10
CLIENT_DAYS = 365
KEY_BITS = 2048  # RSA: what every ATAK and WinTAK release reads


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _name(cn: str, ou: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rescue coordination"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class TakPki:
    """The authority and the server's certificate, kept in `root` (made when first needed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def ca_pem(self) -> Path:
        return self.root / "ca.pem"

    def _ca(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key_path = self.root / "ca.key"
        if key_path.exists() and self.ca_pem.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key, x509.load_pem_x509_certificate(self.ca_pem.read_bytes())
        key = _key()
        name = _name("rescue TAK CA", "authority")
        now = datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5))
                .not_valid_after(now + timedelta(days=365 * CA_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                             False, False), critical=True)
                .sign(key, hashes.SHA256()))
        _write_private(key_path, _pem_key(key))
        self.ca_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def _issue(self, cn: str, ou: str, days: int, *, server_names: list[str] | None = None
               ) -> tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
        ca_key, ca = self._ca()
        key = _key()
        now = datetime.now(UTC)
        b = (x509.CertificateBuilder().subject_name(_name(cn, ou)).issuer_name(ca.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - timedelta(minutes=5))
             .not_valid_after(now + timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        if server_names is not None:
            alt: list[x509.GeneralName] = []
            for n in server_names:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(n)))
                except ValueError:
                    alt.append(x509.DNSName(n))
            b = (b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                critical=False))
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False)
        return key, b.sign(ca_key, hashes.SHA256()), ca

    def server_context(self, names: list[str]) -> ssl.SSLContext:
        """TLS for the listener: its certificate for `names`, client certificates required."""
        cert_path, key_path = self.root / "server.pem", self.root / "server.key"
        if not cert_path.exists() or not key_path.exists():
            key, cert, _ = self._issue(names[0], "server", 365 * 5, server_names=names)
            _write_private(key_path, _pem_key(key))
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert_path, key_path)
        ctx.load_verify_locations(cafile=str(self.ca_pem))
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def enroll(self, unit_id: str, cot_uid: str, callsign: str, host: str, port: int
               ) -> tuple[bytes, str]:
        """A connection data package for one unit, and the password of its key stores."""
        key, cert, ca = self._issue(cot_uid, f"unit:{unit_id}", CLIENT_DAYS)
        password = secrets.token_urlsafe(12)
        # The key-store encryption every ATAK release (Android's keystore) reads.
        enc = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(50_000)
               .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
               .hmac_hash(hashes.SHA1()).build(password.encode()))
        client_p12 = pkcs12.serialize_key_and_certificates(
            unit_id.encode(), key, cert, [ca], enc)
        trust_p12 = pkcs12.serialize_key_and_certificates(
            b"rescue-ca", None, None, [pkcs12.PKCS12Certificate(ca, b"rescue-ca")], enc)
        folder = f"rescue-{unit_id}"
        pref = (
            "<?xml version='1.0' encoding='ASCII' standalone='yes'?>\n<preferences>"
            "<preference version=\"1\" name=\"cot_streams\">"
            "<entry key=\"count\" class=\"class java.lang.Integer\">1</entry>"
            "<entry key=\"description0\" class=\"class java.lang.String\">rescue</entry>"
            "<entry key=\"enabled0\" class=\"class java.lang.Boolean\">true</entry>"
            f"<entry key=\"connectString0\" class=\"class java.lang.String\">{escape(host)}:"
            f"{port}:ssl</entry></preference>"
            "<preference version=\"1\" name=\"com.atakmap.app_preferences\">"
            "<entry key=\"displayServerConnectionWidget\" class=\"class java.lang.Boolean\">"
            "true</entry>"
            f"<entry key=\"caLocation\" class=\"class java.lang.String\">cert/truststore.p12"
            "</entry>"
            f"<entry key=\"caPassword\" class=\"class java.lang.String\">{password}</entry>"
            f"<entry key=\"clientPassword\" class=\"class java.lang.String\">{password}</entry>"
            f"<entry key=\"certificateLocation\" class=\"class java.lang.String\">"
            f"cert/{escape(unit_id)}.p12</entry>"
            f"<entry key=\"locationCallsign\" class=\"class java.lang.String\">"
            f"{escape(callsign)}</entry></preference></preferences>\n")
        manifest = (
            "<MissionPackageManifest version=\"2\"><Configuration>"
            f"<Parameter name=\"uid\" value=\"{uuid.uuid4()}\"/>"
            f"<Parameter name=\"name\" value={quoteattr(folder + '.zip')}/>"
            "<Parameter name=\"onReceiveDelete\" value=\"true\"/></Configuration><Contents>"
            f"<Content ignore=\"false\" zipEntry={quoteattr(folder + '/server.pref')}/>"
            f"<Content ignore=\"false\" zipEntry={quoteattr(folder + '/truststore.p12')}/>"
            f"<Content ignore=\"false\" zipEntry={quoteattr(f'{folder}/{unit_id}.p12')}/>"
            "</Contents></MissionPackageManifest>\n")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("MANIFEST/manifest.xml", manifest)
            z.writestr(f"{folder}/server.pref", pref)
            z.writestr(f"{folder}/truststore.p12", trust_p12)
            z.writestr(f"{folder}/{unit_id}.p12", client_p12)
        return buf.getvalue(), password


def peer_uid(sock: ssl.SSLSocket) -> str | None:
    """The unit a TLS connection speaks for: its certificate's common name (its cot_uid)."""
    cert = sock.getpeercert()
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for pair in rdn:
            if len(pair) == 2 and pair[0] == "commonName":
                return str(pair[1])
    return None


def default_names() -> list[str]:
    return [socket.gethostname(), "localhost", "127.0.0.1"]
