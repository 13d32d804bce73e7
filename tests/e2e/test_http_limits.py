"""The daemon's HTTP server faces the internet (OAuth pages, Zapier): oversized or broken requests get the
RFC 9110 / RFC 6585 status, a slow client is timed out, and a slow-loris never starves other clients."""
import json
import socket
import time
import unittest

from harness import E2ETest

# Long enough that "answered before the slow clients' deadline" separates a concurrent server from a serial
# one even on a loaded, sanitized CI machine, short enough to keep the test quick.
READ_TIMEOUT_MS = 2000


def exchange(port, data, timeout=5.0, shut_write=False):
    """Send raw bytes, read the response until the server closes or `timeout`; returns (status, text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything (e.g. 431, 413)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        return read_response(s, timeout)


def read_response(s, timeout):
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except ConnectionResetError:
        pass
    if not buf:
        return None, ""
    head = buf.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = head.split(" ")
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None), buf.decode(errors="replace")


def json_error(text):
    """The design's error shape: a JSON body {"error", "error_description"}; the connection is closed
    after a framing error (the rest of the stream cannot be trusted)."""
    head, _, body = text.partition("\r\n\r\n")
    doc = json.loads(body)
    assert set(doc) >= {"error", "error_description"}, doc
    assert "connection: close" in head.lower(), head
    return doc


class HttpLimitsTest(E2ETest):
    def setUp(self):
        super().setUp()
        self.b = self.bridge(server_toml=f"max_body_bytes = 2048\nread_timeout_ms = {READ_TIMEOUT_MS}\n"
                                         "max_header_bytes = 8192").start()
        self.port = self.b.port

    def tearDown(self):
        # Whatever was thrown at it, the daemon is still serving and stops cleanly.
        try:
            self.assertIsNone(self.b.proc.poll(), "the daemon died")
            self.assertEqual(self.b.get("/healthz")[0], 200)
            self.assertEqual(self.b.stop(), 0)
        finally:
            super().tearDown()

    def test_huge_header_is_431(self):
        req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 20000 + b"\r\n\r\n")
        status, text = exchange(self.port, req)
        self.assertEqual(status, 431)
        json_error(text)

    def test_body_over_max_body_bytes_is_413(self):
        body = b"{" + b" " * 4000 + b"}"
        req = (b"POST /api/v1/hooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        status, text = exchange(self.port, req)
        self.assertEqual(status, 413)
        json_error(text)
        # Announced only (Content-Length over the limit, body not sent): refused without waiting for it.
        req = (b"POST /api/v1/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        t0 = time.monotonic()
        status, _ = exchange(self.port, req)
        self.assertEqual(status, 413)
        self.assertLess(time.monotonic() - t0, READ_TIMEOUT_MS / 1000 * 4)

    def test_garbage_request_line_is_400(self):
        status, text = exchange(self.port, b"\x16\x03\x01 HELLO THERE\r\n\r\n")
        self.assertEqual(status, 400, text)
        json_error(text)
        status, text = exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost x no colon\r\n\r\n")
        self.assertEqual(status, 400, text)

    def test_half_a_request_is_408(self):
        t0 = time.monotonic()
        status, text = exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", timeout=10)
        self.assertEqual(status, 408, text)
        json_error(text)
        waited = time.monotonic() - t0
        self.assertGreaterEqual(waited, READ_TIMEOUT_MS / 1000 * 0.8, "timed out before read_timeout_ms")

    def test_slow_loris_does_not_block_other_clients(self):
        loris = []
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ")
            loris.append(s)
        try:
            for _ in range(3):
                # trickle a byte on every slow connection, then another client asks for /healthz
                for s in loris:
                    s.sendall(b"a")
                t0 = time.monotonic()
                status, body, _ = self.b.get("/healthz")
                self.assertEqual(status, 200)
                self.assertLess(time.monotonic() - t0, READ_TIMEOUT_MS / 1000,
                                "/healthz waited for the slow clients")
            # read_timeout_ms bounds the WHOLE request, so trickling does not keep a loris alive forever.
            status, _ = read_response(loris[0], timeout=READ_TIMEOUT_MS / 1000 * 6)
            self.assertEqual(status, 408)
        finally:
            for s in loris:
                s.close()


if __name__ == "__main__":
    unittest.main()
