"""TLS served by the daemon itself (no reverse proxy): the configured certificate, TLS 1.2+ only, and a
renewed certificate picked up on SIGHUP without dropping the process (what certbot's deploy hook does)."""
import os
import shutil
import signal
import socket
import ssl
import unittest
import warnings

from harness import E2ETest, SOURCE_DIR, wait_for

TLS_DIR = os.path.join(SOURCE_DIR, "tests", "data", "tls")


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class TlsServing(E2ETest):
    def start_tls_bridge(self):
        self.cert = os.path.join(self.workdir, "tls.crt")
        self.key = os.path.join(self.workdir, "tls.key")
        shutil.copy(os.path.join(TLS_DIR, "server.crt"), self.cert)
        shutil.copy(os.path.join(TLS_DIR, "server.key"), self.key)
        os.chmod(self.key, 0o600)
        b = self.bridge(server_toml=f'tls_certificate = "{self.cert}"\ntls_private_key = "{self.key}"')
        b.start(wait_ready=False)
        self.assertIn("listening on https://", b.log_text())
        return b

    def handshake(self, port, host="localhost", **ctx_opts):
        """One TLS connection trusting the test CA: (peer certificate DER, TLS version, /healthz status line)."""
        ctx = ssl.create_default_context(cafile=os.path.join(TLS_DIR, "ca.crt"))
        for k, v in ctx_opts.items():
            setattr(ctx, k, v)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                status = s.recv(4096).split(b"\r\n", 1)[0]
                return s.getpeercert(binary_form=True), s.version(), status

    def test_serves_the_configured_certificate_with_tls_1_2_or_later(self):
        b = self.start_tls_bridge()
        der, version, status = wait_for(lambda: self.try_handshake(b.port), what="a TLS handshake")
        self.assertEqual(der, der_of(os.path.join(TLS_DIR, "server.crt")))
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(status, b"HTTP/1.1 200 OK")
        _, v12, _ = self.handshake(b.port, maximum_version=ssl.TLSVersion.TLSv1_2)
        self.assertEqual(v12, "TLSv1.2")
        # A client that would accept TLS 1.0/1.1 (security level 0 lifts OpenSSL's own client-side ban) is
        # refused by the server: "modern ciphers only" (RFC 8996 deprecates TLS 1.0 and 1.1).
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # exactly what this client is for
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", b.port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError) as refused:
                old.wrap_socket(raw, server_hostname="localhost").close()
        self.assertIn("PROTOCOL_VERSION", str(refused.exception).upper())  # the server's alert
        # Plain HTTP on the TLS port is not served.
        with socket.create_connection(("127.0.0.1", b.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try:
                reply = s.recv(4096)
            except ConnectionResetError:
                reply = b""
            self.assertFalse(reply.startswith(b"HTTP/1.1 200"), reply[:80])

    def try_handshake(self, port):
        try:
            return self.handshake(port)
        except (ConnectionError, ssl.SSLError, OSError):
            return None

    def test_sighup_reloads_a_renewed_certificate_and_keeps_the_old_one_on_a_bad_file(self):
        b = self.start_tls_bridge()
        wait_for(lambda: self.try_handshake(b.port), what="a TLS handshake")
        # "Renewal": another certificate (same key, signed by the same CA) replaces the file.
        shutil.copy(os.path.join(TLS_DIR, "wrong_host.crt"), self.cert)
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: TLS certificate reloaded" in b.log_text(), what="the reload log line")
        der, _, status = self.handshake(b.port, host="wrong.example")
        self.assertEqual(der, der_of(os.path.join(TLS_DIR, "wrong_host.crt")))
        self.assertEqual(status, b"HTTP/1.1 200 OK")

        # A broken file (a renewal half-written): the daemon logs it and keeps serving the last good one.
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n")
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "TLS certificate not reloaded, keeping the current one" in b.log_text(),
                 what="the refusal log line")
        der, _, status = self.handshake(b.port, host="wrong.example")
        self.assertEqual(der, der_of(os.path.join(TLS_DIR, "wrong_host.crt")))
        self.assertEqual(status, b"HTTP/1.1 200 OK")
        self.assertIsNone(b.proc.poll())


if __name__ == "__main__":
    unittest.main()
