"""OAuth clients from the command line (design.md "Executables": client add|list|remove, plus rotate-secret)
and the real daemon using them: the login page, the code flow over HTTP, a rotated secret, a removed client.
docs/oauth.md describes the behaviour checked here."""
import base64
import hashlib
import http.cookiejar
import json
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

from harness import E2ETest

REDIRECT = "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def parse_add(stdout):
    ids = dict(re.findall(r"^(client_id|client_secret)\s+(\S+)$", stdout, re.M))
    return ids.get("client_id"), ids.get("client_secret")


class ClientCommandsTest(E2ETest):
    def setUp(self):
        super().setUp()
        self.b = self.bridge()
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))

    def call(self, method, path, form=None, headers=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(f"http://127.0.0.1:{self.b.port}{path}", data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def login(self, client_id):
        q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                                    "state": "e2e-state", "code_challenge": CHALLENGE,
                                    "code_challenge_method": "S256"})
        status, page, _ = self.call("GET", "/oauth/authorize?" + q)
        self.assertEqual(status, 200, page[:300])
        fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
        fields.update({"account": "acme", "username": "alice", "password": "alice-secret-1", "decision": "allow"})
        status, body, headers = self.call("POST", "/oauth/authorize", fields)
        self.assertEqual(status, 303, body[:300])
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
        self.assertEqual(params["state"], ["e2e-state"])
        return params["code"][0]

    def test_add_list_rotate_remove_with_a_running_daemon(self):
        r = self.b.cli("client", "add", "--name", "Zapier", "--redirect-uri", REDIRECT, "--redirect-uri",
                       "http://localhost:9000")
        client_id, secret = parse_add(r.stdout)
        self.assertRegex(client_id or "", r"^[0-9a-f]{32}$")
        self.assertRegex(secret or "", r"^[A-Za-z0-9_-]{43}$")
        self.assertIn("only this once", r.stdout)

        listed = [json.loads(line) for line in self.b.cli("client", "list", "--json").stdout.splitlines()]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["client_id"], client_id)
        self.assertEqual(listed[0]["name"], "Zapier")
        self.assertEqual(sorted(listed[0]["redirect_uris"]), sorted([REDIRECT, "http://localhost:9000"]))
        self.assertFalse(listed[0]["public"])
        self.assertTrue(listed[0]["pkce_required"])
        self.assertNotIn(secret, json.dumps(listed))
        self.assertIn(client_id, self.b.cli("client", "list").stdout)
        # Stored hashed: the database holds SHA-256(secret), never the secret.
        with sqlite3.connect(self.b.db) as c:
            (stored,) = c.execute("SELECT secret_hash FROM oauth_clients").fetchone()
        self.assertEqual(stored, hashlib.sha256(secret.encode()).hexdigest())

        self.b.start()
        code = self.login(client_id)
        status, body, headers = self.call("POST", "/oauth/token", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client_id,
            "client_secret": secret, "code_verifier": VERIFIER})
        self.assertEqual(status, 200, body)
        tokens = json.loads(body)
        self.assertEqual(headers.get("Cache-Control"), "no-store")

        # rotate-secret: the old secret stops working at once, the new one works (Basic auth this time).
        new_secret = parse_add(self.b.cli("client", "rotate-secret", client_id).stdout)[1]
        self.assertNotEqual(new_secret, secret)
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        status, body, headers = self.call("POST", "/oauth/token", dict(refresh, client_id=client_id,
                                                                       client_secret=secret))
        self.assertEqual(status, 401, body)
        self.assertIn("Basic", headers.get("WWW-Authenticate", ""))
        basic = base64.b64encode(f"{client_id}:{new_secret}".encode()).decode()
        status, body, _ = self.call("POST", "/oauth/token", refresh, {"Authorization": "Basic " + basic})
        self.assertEqual(status, 200, body)
        rotated = json.loads(body)

        # remove: the client and everything issued to it are gone.
        self.assertIn("removed", self.b.cli("client", "remove", client_id).stdout)
        status, body, _ = self.call("POST", "/oauth/introspect", {"token": rotated["access_token"],
                                                                  "client_id": client_id,
                                                                  "client_secret": new_secret})
        self.assertEqual(status, 401, body)
        self.assertEqual(self.b.cli("client", "list", "--json").stdout, "")
        self.assertEqual(self.b.cli("client", "remove", client_id, check=False).returncode, 1)

        # Nothing secret reached the daemon's log.
        log = self.b.log_text()
        for s in (secret, new_secret, code, tokens["access_token"], tokens["refresh_token"],
                  rotated["refresh_token"], "alice-secret-1"):
            self.assertNotIn(s, log)

    def test_bad_arguments_exit_2_with_a_reason(self):
        r = self.b.cli("client", "add", "--name", "x", "--redirect-uri", "http://evil.example/cb", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("https", r.stderr)
        r = self.b.cli("client", "add", "--name", "x", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.b.cli("client", "frob", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.b.cli("client", "remove", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.b.cli("client", "add", "--name", "SPA", "--redirect-uri", "http://127.0.0.1:5173/cb", "--public")
        client_id, secret = parse_add(r.stdout)
        self.assertIsNotNone(client_id)
        self.assertIsNone(secret)
        self.assertEqual(self.b.cli("client", "rotate-secret", client_id, check=False).returncode, 1)
