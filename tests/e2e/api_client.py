"""The API as a client sees it, for the e2e tests of hooks and deliveries: tokens from the real OAuth server
through the code flow with PKCE (as test_clients.py does) and JSON calls with a bearer token. A mixin for
E2ETest subclasses that set `self.b` (a started Bridge) and `self.client_id` / `self.client_secret`."""
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

REDIRECT = "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
ALICE = "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a"  # account admin (fixture)
BOB = "4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"    # rung and answering in inbound_answered


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class ApiClient:
    def register_client(self):
        """Registers the Zapier-like OAuth client on the (not yet started) bridge self.b."""
        out = self.b.cli("client", "add", "--name", "Zapier", "--redirect-uri", REDIRECT).stdout
        ids = dict(re.findall(r"^(client_id|client_secret)\s+(\S+)$", out, re.M))
        self.client_id, self.client_secret = ids["client_id"], ids["client_secret"]

    def call(self, method, path, body=None, token=None, form=None, opener=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = "Bearer " + token
        req = urllib.request.Request(f"http://127.0.0.1:{self.b.port}{path}", data=data, method=method,
                                     headers=headers)
        op = opener or urllib.request.build_opener(NoRedirect)
        try:
            with op.open(req, timeout=10) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, (json.loads(text) if text else None)

    def tokens(self, username, password, scope="calls"):
        opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        q = urllib.parse.urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT,
                                    "state": "s", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
                                    "scope": scope})
        req = urllib.request.Request(f"http://127.0.0.1:{self.b.port}/oauth/authorize?{q}")
        with opener.open(req, timeout=10) as r:
            page = r.read().decode()
        fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
        fields.update({"account": "acme", "username": username, "password": password, "decision": "allow"})
        req = urllib.request.Request(f"http://127.0.0.1:{self.b.port}/oauth/authorize",
                                     data=urllib.parse.urlencode(fields).encode(), method="POST")
        try:
            opener.open(req, timeout=10)
            self.fail("no redirect after the login")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 303)
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(e.headers["Location"]).query)["code"][0]
        status, tok = self.call("POST", "/oauth/token", form={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": self.client_id, "client_secret": self.client_secret, "code_verifier": VERIFIER})
        self.assertEqual(status, 200, tok)
        return tok
