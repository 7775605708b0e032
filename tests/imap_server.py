"""A real IMAP server on loopback for tests: Dovecot, started from a config in tmp_path.

The `imap_server` fixture writes a minimal dovecot.conf (IMAPS and IMAP+STARTTLS on free
loopback ports, `ssl = required` with a self-signed certificate made here, one user in a
passwd-file, a Maildir), starts `dovecot -F -c <conf>`, waits for the ports and stops it
afterwards. Without Dovecot installed the test is skipped (`.ci/run` installs it).

Run as a normal user, every Dovecot process runs as that user. Run as root, Dovecot keeps
its own privilege separation (the `dovecot` and `dovenull` users of the Debian package)
and refuses to touch mail as root, so the mail is owned by `nobody` and, since pytest's
tmp_path is private to root, the passwd-file and the Maildir live in a temporary folder
of their own, removed afterwards.

Use it with `from tests.imap_server import imap_server_fixture  # noqa: F401` and a test
argument named `imap_server`.
"""

from __future__ import annotations

import grp
import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.certs import self_signed

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"
USERNAME = "sportello@pec.example.it"
PASSWORD = "prova-imap-segreta"


@dataclass
class ImapServer:
    host: str
    port: int  # IMAPS (TLS from the first byte)
    starttls_port: int  # IMAP, STARTTLS before login
    username: str
    password: str
    ca_file: Path  # the server's self-signed certificate, to trust
    log_file: Path
    folder: str = "INBOX"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def connect(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        imap = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        imap.login(self.username, self.password)
        return imap

    def append(self, raw: bytes, flags: str = "") -> None:
        imap = self.connect()
        try:
            typ, data = imap.append(self.folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
        finally:
            imap.logout()

    def flags(self) -> dict[int, set[str]]:
        """UID → flags of every message in the folder."""
        imap = self.connect()
        try:
            imap.select(self.folder, readonly=True)
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
            assert typ == "OK", data
        finally:
            imap.logout()
        found: dict[int, set[str]] = {}
        for line in data:
            if not isinstance(line, bytes):
                continue
            text = line.decode()
            uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
            inside = text.split("FLAGS (", 1)[1].split(")", 1)[0]
            found[uid] = set(inside.split())
        return found

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def make_tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed server certificate for 127.0.0.1 / localhost: (cert, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert, _key = self_signed(
        "localhost",
        key=key,
        days=2,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
                ),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
        ],
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _config(work: Path, shared: Path, port: int, starttls_port: int, cert: Path, key: Path) -> str:
    lines = [
        "protocols = imap",
        f"listen = {HOST}",
        f"base_dir = {work / 'run'}",
        f"state_dir = {work / 'state'}",
        f"instance_name = sportello-test-{port}",
        f"log_path = {work / 'dovecot.log'}",
        "ssl = required",
        f"ssl_cert = <{cert}",
        f"ssl_key = <{key}",
        "auth_mechanisms = plain",
        "auth_failure_delay = 0",
        f"mail_location = maildir:{shared / 'mail'}/%n",
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {shared / 'passwd'}",
        "}",
        "userdb {",
        "  driver = passwd-file",
        f"  args = username_format=%u {shared / 'passwd'}",
        "}",
        "service imap-login {",
        "  inet_listener imap {",
        f"    port = {starttls_port}",
        "  }",
        "  inet_listener imaps {",
        f"    port = {port}",
        "    ssl = yes",
        "  }",
    ]
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        lines += ["}", f"mail_uid = {nobody.pw_uid}", f"mail_gid = {nobody.pw_gid}"]
    else:  # unprivileged: every process as this user, no chroot
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        lines += [
            "  chroot =",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
            f"default_login_user = {user}",
            f"default_internal_user = {user}",
            f"default_internal_group = {group}",
        ]
    return "\n".join(lines) + "\n"


def _accounts(tmp_path: Path) -> tuple[Path, bool]:
    """The folder with the passwd-file and the Maildir, and whether it is a folder of its
    own to remove afterwards (as root: Dovecot's auth and mail processes cannot enter
    pytest's private tmp_path)."""
    if os.geteuid() != 0:
        shared = tmp_path / "accounts"
        (shared / "mail").mkdir(parents=True)
        line = f"{USERNAME}:{{PLAIN}}{PASSWORD}:{os.getuid()}:{os.getgid()}::{shared}/home::"
        (shared / "passwd").write_text(line + "\n")
        (shared / "passwd").chmod(0o600)
        return shared, False
    nobody, dovecot = pwd.getpwnam("nobody"), pwd.getpwnam("dovecot")
    shared = Path(tempfile.mkdtemp(prefix="sportello-imap-"))
    shared.chmod(0o711)
    (shared / "mail").mkdir(mode=0o700)
    os.chown(shared / "mail", nobody.pw_uid, nobody.pw_gid)
    passwd = shared / "passwd"
    passwd.write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}:::{shared}/mail/home::\n")
    passwd.chmod(0o600)
    os.chown(passwd, dovecot.pw_uid, dovecot.pw_gid)
    return shared, True


@pytest.fixture(name="imap_server")
def imap_server_fixture(tmp_path: Path) -> Iterator[ImapServer]:
    """A Dovecot IMAP server on loopback with one empty mailbox."""
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot not installed: .ci/run installs it")
    if os.geteuid() == 0:
        for user in ("dovecot", "dovenull", "nobody"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                pytest.skip(f"dovecot needs the system user {user!r} (its package makes it)")
    work = tmp_path / "dovecot"
    work.mkdir()
    cert, key = make_tls_certificate(work)
    shared, own_folder = _accounts(tmp_path)

    process: subprocess.Popen[bytes] | None = None
    server: ImapServer | None = None
    try:
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            port, starttls_port = free_ports(2)
            conf = work / "dovecot.conf"
            conf.write_text(_config(work, shared, port, starttls_port, cert, key))
            with (work / "stderr.txt").open("wb") as errors:
                process = subprocess.Popen(
                    [DOVECOT, "-F", "-c", str(conf)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )
            server = ImapServer(
                HOST,
                port,
                starttls_port,
                USERNAME,
                PASSWORD,
                cert,
                work / "dovecot.log",
                process=process,
            )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(port) and _answers(starttls_port):
                    break
                time.sleep(0.05)
            if process.poll() is None and _answers(port):
                break
            _stop(process)
            process = None
        if process is None or server is None:
            errors = (work / "stderr.txt").read_text(errors="replace")
            pytest.fail(f"dovecot did not start:\n{errors}\n{server.log_tail() if server else ''}")
        yield server
    finally:
        if process is not None:
            _stop(process)
        if own_folder:
            shutil.rmtree(shared, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
