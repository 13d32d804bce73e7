"""Click-to-call, POST /api/v1/calls (docs/api.md "Click-to-call"), with the real daemon and kazoo-sim: Kazoo
quickcall rings the user's phone and the call shows up in the call history and the event stream; bad numbers,
missing scope, another user's device, Kazoo refusing and Kazoo down each get their documented answer."""
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from harness import E2ETest, load_fixture, wait_for
from harness import http as request

REDIRECT = "http://localhost:9000/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class DialTest(E2ETest):
    def setUp(self):
        super().setUp()
        fx = load_fixture()
        acme = next(a for a in fx["accounts"] if a["name"] == "acme")
        self.users = {u["username"]: u for u in acme["users"]}
        self.devices = {d["owner_id"]: d for d in acme["devices"]}
        self.b = self.bridge(extra_toml='\n[dial]\ndefault_country = "US"\ncalls_per_minute = 3\n')
        out = self.b.cli("client", "add", "--name", "e2e", "--redirect-uri", REDIRECT).stdout
        ids = dict(re.findall(r"^(client_id|client_secret)\s+(\S+)$", out, re.M))
        self.client_id, self.client_secret = ids["client_id"], ids["client_secret"]
        self.b.start()

    # -- OAuth: a token for a fixture user with the given scopes (the code flow of docs/oauth.md)
    def token(self, username, scope):
        opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        base = f"http://127.0.0.1:{self.b.port}"

        def call(method, path, form=None):
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if data else {}
            req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
            try:
                with opener.open(req, timeout=10) as r:
                    return r.status, r.read().decode(), dict(r.headers)
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode(), dict(e.headers)

        q = urllib.parse.urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT,
                                    "state": "s", "scope": scope, "code_challenge": CHALLENGE,
                                    "code_challenge_method": "S256"})
        status, page, _ = call("GET", "/oauth/authorize?" + q)
        self.assertEqual(status, 200, page[:300])
        fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
        fields.update({"account": "acme", "username": username, "password": self.users[username]["password"],
                       "decision": "allow"})
        status, body, headers = call("POST", "/oauth/authorize", fields)
        self.assertEqual(status, 303, body[:300])
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]
        status, body, _ = call("POST", "/oauth/token", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": self.client_id, "client_secret": self.client_secret, "code_verifier": VERIFIER})
        self.assertEqual(status, 200, body)
        granted = json.loads(body)
        self.assertEqual(sorted(granted["scope"].split()), sorted(scope.split()))
        return granted["access_token"]

    def dial(self, token, body):
        status, text, headers = request("POST", f"http://127.0.0.1:{self.b.port}/api/v1/calls", body,
                                     {"Authorization": "Bearer " + token})
        return status, (json.loads(text) if text else None), headers

    def api_get(self, token, path):
        status, text, _ = request("GET", f"http://127.0.0.1:{self.b.port}{path}", headers={"Authorization": "Bearer " + token})
        return status, json.loads(text)

    # -- tests
    def test_the_call_rings_the_users_phone_and_shows_up_as_an_outbound_quickcall(self):
        bob = self.users["bob"]
        token = self.token("bob", "calls dial")
        status, body, headers = self.dial(token, {"to": "+1 (555) 123-4567"})
        self.assertEqual(status, 202, body)
        self.assertEqual(body["status"], "originating")
        self.assertEqual(body["to"], "+15551234567")
        call_id = body["call_id"]
        self.assertRegex(call_id, r"^[0-9a-f-]+-quickcall$")
        self.assertEqual(headers.get("Location"), "/api/v1/calls/" + call_id)
        self.assertEqual(self.sim.stats()["calls_started"], 1)

        def listed():
            status, page = self.api_get(token, "/api/v1/calls")
            return next((c for c in page.get("data", []) if c["call_id"] == call_id), None)
        call = wait_for(listed, what="the click-to-call in GET /api/v1/calls")
        self.assertEqual(call["direction"], "outbound")
        self.assertEqual(call["to_number"], "+15551234567")
        self.assertEqual(call["user_id"], bob["id"])
        status, one = self.api_get(token, "/api/v1/calls/" + call_id)
        self.assertEqual(status, 200, one)
        events = wait_for(lambda: self.b.events("--call", call_id), what="the call's events")
        self.assertEqual(events[0]["type"], "call.started")
        self.assertEqual(events[0]["direction"], "outbound")
        self.assertEqual(events[0]["origin"], "quickcall")
        self.assertEqual(events[0]["to_number"], "+15551234567")
        # A national number uses [dial] default_country (US); an extension is passed as it is.
        status, body, _ = self.dial(token, {"to": "555-123-4567"})
        self.assertEqual((status, body["to"]), (202, "+15551234567"), body)
        status, body, _ = self.dial(token, {"to": "101"})
        self.assertEqual((status, body["to"]), (202, "101"), body)
        # calls_per_minute = 3: the fourth within the minute waits.
        status, body, headers = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 429, body)
        self.assertEqual(body["error"], "rate_limited")
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(self.sim.stats()["calls_started"], 3)
        self.assertNotIn(token, self.b.log_text())

    def test_bad_numbers_and_bodies_are_400_and_nothing_rings(self):
        token = self.token("bob", "calls dial")
        for to, phrase in (("1-800-FLOWERS", "letters"), ("911", "emergency"), ("+1 555 123", "10 digits"),
                           ("+1234567890123456", "15"), ("", "empty")):
            status, body, _ = self.dial(token, {"to": to})
            self.assertEqual(status, 400, (to, body))
            self.assertEqual(body["error"], "invalid_number")
            self.assertIn(phrase, body["error_description"])
        for bad in ({}, {"to": 15551234567}, {"to": "+15551234567", "device_id": "../users"}, ["+15551234567"]):
            status, body, _ = self.dial(token, bad)
            self.assertEqual(status, 400, (bad, body))
            self.assertEqual(body["error"], "invalid_request")
        self.assertEqual(self.sim.stats()["calls_started"], 0)

    def test_without_the_dial_scope_403(self):
        token = self.token("bob", "calls")
        status, body, headers = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"], "insufficient_scope")
        self.assertIn('scope="dial"', headers.get("WWW-Authenticate", ""))
        status, body, headers = self.dial("no-such-token", {"to": "+15551234567"})
        self.assertEqual(status, 401, body)
        self.assertEqual(self.sim.stats()["calls_started"], 0)

    def test_a_device_of_another_user_is_refused_unless_account_admin(self):
        alice, bob = self.users["alice"], self.users["bob"]
        bob_token = self.token("bob", "calls dial")
        status, body, _ = self.dial(bob_token, {"to": "+15551234567", "device_id": self.devices[alice["id"]]["id"]})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"], "forbidden")
        status, body, _ = self.dial(bob_token, {"to": "+15551234567", "device_id": "ab" * 16})
        self.assertEqual(status, 404, body)
        self.assertEqual(self.sim.stats()["calls_started"], 0)
        status, body, _ = self.dial(bob_token, {"to": "+15551234567", "device_id": self.devices[bob["id"]]["id"]})
        self.assertEqual(status, 202, body)
        # An account administrator (account scope) may ring anyone's device.
        admin = self.token("alice", "calls dial account")
        status, body, _ = self.dial(admin, {"to": "+15551234567", "device_id": self.devices[bob["id"]]["id"]})
        self.assertEqual(status, 202, body)
        self.assertEqual(self.sim.stats()["calls_started"], 2)

    def test_kazoo_refusing_is_502_and_kazoo_trouble_503(self):
        token = self.token("bob", "calls dial")
        self.sim.fault("quickcall", status=403)
        status, body, _ = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 502, body)
        self.assertEqual(body["error"], "kazoo_refused")
        self.assertIn("forbidden", body["error_description"])
        self.sim.fault("quickcall", status=500)
        status, body, _ = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 502, body)
        self.assertIn("DESTINATION_OUT_OF_ORDER", body["error_description"])
        self.sim.fault("quickcall", status=503)
        status, body, headers = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"], "temporarily_unavailable")
        self.assertIn("Retry-After", headers)
        self.sim.fault("quickcall", status=0)
        self.assertEqual(self.sim.stats()["calls_started"], 0)

    def test_an_expired_crossbar_token_is_renewed_once(self):
        token = self.token("bob", "calls dial")
        self.sim.fault("expire_tokens")  # the bridge's API-key token now gets 401 from Crossbar
        status, body, _ = self.dial(token, {"to": "+15551234567", "device_id": self.devices[self.users["bob"]["id"]]["id"]})
        self.assertEqual(status, 202, body)
        self.sim.fault("expire_tokens")
        status, body, _ = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 202, body)
        self.assertEqual(self.sim.stats()["calls_started"], 2)

    def test_kazoo_down_is_503_with_retry_after(self):
        token = self.token("bob", "calls dial")
        self.sim.stop()
        status, body, headers = self.dial(token, {"to": "+15551234567"})
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"], "temporarily_unavailable")
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
