// The hostile suite (issue #3 item 6): requests an attacker, a buggy client or a confused user sends to the
// real daemon's OAuth server and API. One table; each case names its request, the status and error it must
// get, and proves that nothing changed: no redirect carrying a code, no token issued (the daemon's
// /metrics token counters), `kazoo-bridge client list` unchanged, and a live grant of the same user still
// active (introspection) - or, where the point of the case is a revocation, that exactly that happened.
// Behaviour checked is the one docs/oauth.md and docs/api.md promise.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ACME, Bridge, GLOBEX, Receiver, SecretLedger, Simulator, Workdir, openLogin, postForm, submitLogin, user, waitFor,
} from './harness.mjs';

// RFC 7636 Appendix B's verifier and challenge.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const EVIL = `"><script>alert(1)</script>' OR '1'='1; DROP TABLE oauth_tokens;--\r\nX-Injected: 1 ../../etc/passwd \u0000 \u202e`;
const WRONG_CREDENTIALS = 'The account name, user name or password is wrong.';

const wd = new Workdir();
const ledger = new SecretLedger();
let sim, receiver, bridge, short, globexBridge, clientA, clientB, clientShort;
let sentinel;  // a live grant of alice (acme admin, scope calls dial account) that no case may disturb
let gina;      // tokens of gina, globex's admin
let acmeCall, globexCall;
const alice = user(ACME, 'alice');
const bob = user(ACME, 'bob');
const dave = user(ACME, 'dave');
const ginaUser = user(GLOBEX, 'gina');
for (const u of [alice, bob, dave, ginaUser]) ledger.add('password', u.password);

// ---- helpers ----------------------------------------------------------------------------------------------

function authorizeParams(client, overrides = {}) {
  const p = new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uri, state: 'st-' + Math.random().toString(36).slice(2),
    scope: 'calls dial', code_challenge: CHALLENGE, code_challenge_method: 'S256',
  });
  for (let [k, v] of Object.entries(overrides)) {
    if (typeof v === 'function') v = v();
    if (v === undefined) p.delete(k);
    else if (Array.isArray(v)) { p.delete(k); for (const x of v) p.append(k, x); } else p.set(k, v);
  }
  return p;
}

/** Signs `who` in and returns the code the app receives (through the real redirect receiver). */
async function codeFor(b, client, who, scope = 'calls dial') {
  const page = await openLogin(b.url, authorizeParams(client, { scope }));
  assert.equal(page.status, 200, page.html.slice(0, 300));
  const res = await submitLogin(b.url, page, who);
  assert.equal(res.status, 303, res.text.slice(0, 300));
  const location = new URL(res.location);
  await fetch(location);  // the browser follows the 303 to the app
  return ledger.add('code', location.searchParams.get('code'));
}

function tokenRequest(b, body, headers) {
  return postForm(`${b.url}/oauth/token`, body, headers);
}

function redeem(b, client, code, extra = {}) {
  return tokenRequest(b, {
    grant_type: 'authorization_code', code, redirect_uri: client.redirect_uri, client_id: client.client_id,
    client_secret: client.client_secret, code_verifier: VERIFIER, ...extra,
  });
}

async function tokensFor(b, client, who, scope) {
  const res = await redeem(b, client, await codeFor(b, client, who, scope));
  assert.equal(res.status, 200, res.text);
  return ledger.addTokens(res.json);
}

function refresh(b, client, refreshToken) {
  return tokenRequest(b, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id, client_secret: client.client_secret });
}

async function active(b, client, token) {
  const r = await postForm(`${b.url}/oauth/introspect`, { token, client_id: client.client_id, client_secret: client.client_secret });
  assert.equal(r.status, 200, r.text);
  return r.json.active;
}

function api(b, path, token) {
  return fetch(b.url + path, { headers: { authorization: `Bearer ${token}` } });
}

/** What must not move when a hostile request is refused. */
async function snapshot(b = bridge) {
  const m = await b.metrics();
  const issued = [...m].filter(([k]) => k.startsWith('kazoo_bridge_oauth_tokens_issued_total')).sort();
  return {
    issued: JSON.stringify(issued),
    logins_ok: m.get('kazoo_bridge_oauth_logins_total{result="ok"}') ?? 0,
    clients: b.clientList(),
    codes: receiver.codes().length,
    sentinel: b === bridge ? [await active(b, clientA, sentinel.access_token), await active(b, clientA, sentinel.refresh_token)] : null,
  };
}

async function assertUnchanged(before, b = bridge) {
  const now = await snapshot(b);
  assert.equal(now.issued, before.issued, 'no token issued');
  assert.equal(now.logins_ok, before.logins_ok, 'no successful login');
  assert.equal(now.clients, before.clients, 'client list unchanged');
  assert.equal(now.codes, before.codes, 'no redirect with a code');
  if (now.sentinel) assert.deepEqual(now.sentinel, [true, true], 'the live grant is still active');
}

/** The error page of the authorization endpoint: shown, never redirected (RFC 9700 §4.11). */
function expectPage(res, status, error) {
  assert.equal(res.status, status, res.html?.slice(0, 300));
  assert.equal(res.headers.get('location'), null, 'not redirected');
  assert.match(res.html, new RegExp(`<code>(?:${error})</code>`));
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
}

/** An error sent back to the app: a redirect to the registered URI with error, state, iss and no code. */
function expectErrorRedirect(res, error, state) {
  assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.origin + loc.pathname, receiver.callback);
  assert.equal(loc.searchParams.get('error'), error, loc.href);
  assert.equal(loc.searchParams.get('code'), null);
  assert.equal(loc.searchParams.get('iss'), bridge.url);
  if (state !== undefined) assert.equal(loc.searchParams.get('state'), state);
}

function expectTokenError(res, status, error) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error, error, res.text);
  assert.equal(res.json.access_token, undefined);
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

/** The hostile string, if shown at all, is HTML-escaped (a CR LF inside an attribute value is inert). */
function expectHtmlSafe(html) {
  assert.ok(!html.includes('<script>'), 'no markup injected');
  assert.ok(!html.includes(`'1'='1`), 'quotes escaped');
}

// ---- the table ---------------------------------------------------------------------------------------------
// { name, setup(s): what the case needs before the snapshot (a fresh code, a grant), run(s): the request(s) and
//   their expected status + error, then the snapshot must be unchanged; or proof(s): a case that is allowed to
//   change something proves exactly what changed; target(): the daemon (default: the main one) }

const cases = [];
const authorizeCase = (name, overrides, expect) => cases.push({ name, run: async () => {
  const p = authorizeParams(clientA, overrides);
  expect(await openLogin(bridge.url, p), p.get('state') ?? undefined);
} });

// Authorization request: the client or its redirect URI is wrong -> our error page, never a redirect.
authorizeCase('unknown client_id', { client_id: '0'.repeat(32) }, (r) => expectPage(r, 400, 'invalid_client'));
authorizeCase('redirect_uri not registered (another port)', { redirect_uri: 'http://127.0.0.1:1/cb' }, (r) => expectPage(r, 400, 'invalid_request'));
authorizeCase('redirect_uri with a trailing slash (exact match only)', { redirect_uri: () => clientA.redirect_uri + '/' }, (r) => expectPage(r, 400, 'invalid_request'));
authorizeCase('redirect_uri with an added query', { redirect_uri: () => clientA.redirect_uri + '?next=https://evil.example' }, (r) => expectPage(r, 400, 'invalid_request'));
authorizeCase('redirect_uri of another host', { redirect_uri: 'https://evil.example/cb' }, (r) => expectPage(r, 400, 'invalid_request'));
authorizeCase('duplicated client_id', { client_id: () => [clientA.client_id, clientB.client_id] }, (r) => expectPage(r, 400, 'invalid_request'));
authorizeCase('duplicated redirect_uri', { redirect_uri: () => [clientA.redirect_uri, 'https://evil.example/cb'] }, (r) => expectPage(r, 400, 'invalid_request'));
// Not looked up at all (service.cpp), so it is an unknown client: the error page, not a redirect.
authorizeCase('oversized client_id (3000 characters)', { client_id: 'a'.repeat(3000) }, (r) => expectPage(r, 400, 'invalid_client'));
authorizeCase('oversized redirect_uri (3000 characters)', { redirect_uri: () => clientA.redirect_uri + '?' + 'a'.repeat(3000) }, (r) => expectPage(r, 400, 'invalid_request'));
// Authorization request: anything else wrong -> back to the app with an error, the state and iss, no code.
authorizeCase('missing state', { state: undefined }, (r) => expectErrorRedirect(r, 'invalid_request'));
authorizeCase('duplicated state', { state: ['s1', 's2'] }, (r) => expectErrorRedirect(r, 'invalid_request'));
authorizeCase('oversized state (2049 characters)', { state: 'x'.repeat(2049) }, (r) => expectErrorRedirect(r, 'invalid_request'));
authorizeCase('missing PKCE code_challenge', { code_challenge: undefined, code_challenge_method: undefined }, (r, s) => expectErrorRedirect(r, 'invalid_request', s));
authorizeCase('PKCE method plain (S256 only)', { code_challenge: VERIFIER, code_challenge_method: 'plain' }, (r, s) => expectErrorRedirect(r, 'invalid_request', s));
authorizeCase('duplicated code_challenge', { code_challenge: [CHALLENGE, CHALLENGE] }, (r, s) => expectErrorRedirect(r, 'invalid_request', s));
authorizeCase('response_type token (implicit grant)', { response_type: 'token' }, (r, s) => expectErrorRedirect(r, 'unsupported_response_type', s));
authorizeCase('unknown scope', { scope: 'calls admin' }, (r, s) => expectErrorRedirect(r, 'invalid_scope', s));
// Injection-like strings in every parameter of the authorization request.
authorizeCase('injection in client_id', { client_id: EVIL }, (r) => { expectPage(r, 400, 'invalid_client'); expectHtmlSafe(r.html); });
authorizeCase('injection in redirect_uri', { redirect_uri: EVIL }, (r) => { expectPage(r, 400, 'invalid_request'); expectHtmlSafe(r.html); });
authorizeCase('injection in response_type', { response_type: EVIL }, (r, s) => expectErrorRedirect(r, 'unsupported_response_type', s));
authorizeCase('injection in scope', { scope: EVIL }, (r, s) => expectErrorRedirect(r, 'invalid_scope', s));
authorizeCase('injection in code_challenge', { code_challenge: EVIL }, (r, s) => expectErrorRedirect(r, 'invalid_request', s));
authorizeCase('injection in code_challenge_method', { code_challenge_method: EVIL }, (r, s) => expectErrorRedirect(r, 'invalid_request', s));
cases.push({ name: 'injection in state: echoed escaped on the page and byte for byte in the redirect', run: async () => {
  const p = authorizeParams(clientA, { state: EVIL });
  const page = await openLogin(bridge.url, p);
  assert.equal(page.status, 200);
  expectHtmlSafe(page.html);
  assert.equal(page.headers.get('x-injected'), null);
  assert.equal(page.fields.state, EVIL);
  const res = await submitLogin(bridge.url, page, bob, { decision: 'deny' });
  expectErrorRedirect(res, 'access_denied', EVIL);
} });

// The login form.
async function loginPage(client = clientA) {
  return openLogin(bridge.url, authorizeParams(client));
}
cases.push({ name: 'login form without its CSRF token', run: async () => {
  const page = await loginPage();
  delete page.fields.csrf_token;
  const res = await submitLogin(bridge.url, page, bob);
  assert.equal(res.status, 403, res.text.slice(0, 300));
  assert.equal(res.location, null);
} });
cases.push({ name: 'login form without the CSRF cookie (a cross-site post)', run: async () => {
  const page = await loginPage();
  page.cookie = undefined;
  const res = await submitLogin(bridge.url, page, bob);
  assert.equal(res.status, 403, res.text.slice(0, 300));
  assert.equal(res.location, null);
} });
cases.push({ name: 'login form whose request was changed (another state under the same CSRF token)', run: async () => {
  const page = await loginPage();
  const res = await submitLogin(bridge.url, page, bob, { state: 'changed-state' });
  assert.equal(res.status, 403, res.text.slice(0, 300));
  assert.equal(res.location, null);
} });
cases.push({ name: 'login form CSRF token of another browser (cookie swapped)', run: async () => {
  const page = await loginPage();
  const other = await loginPage();
  const res = await submitLogin(bridge.url, { ...page, cookie: other.cookie }, bob);
  assert.equal(res.status, 403, res.text.slice(0, 300));
} });
cases.push({ name: 'login form posted as JSON', run: async () => {
  const page = await loginPage();
  const r = await fetch(`${bridge.url}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', cookie: page.cookie }, body: JSON.stringify({ ...page.fields, account: 'acme', username: 'bob', password: bob.password }) });
  assert.equal(r.status, 415);
  assert.equal(r.headers.get('location'), null);
} });
cases.push({ name: 'wrong password: the form again with a clear message', run: async () => {
  const page = await loginPage();
  const res = await submitLogin(bridge.url, page, { ...bob, password: ledger.add('password', 'bob-wrong-1') });
  assert.equal(res.status, 400);
  assert.ok(res.text.includes(WRONG_CREDENTIALS));
  assert.ok(!res.text.includes('bob-wrong-1'), 'the password is never echoed');
  assert.equal(res.location, null);
} });
for (const field of ['account', 'username', 'password']) {
  cases.push({ name: `injection in the login form's ${field}`, run: async () => {
    const page = await loginPage();
    const who = { account: 'acme', username: `inj-${field}`, password: 'x-pass-1', [field]: EVIL };
    const res = await submitLogin(bridge.url, page, who);
    assert.equal(res.status, 400, res.text.slice(0, 300));
    assert.ok(res.text.includes(WRONG_CREDENTIALS));
    expectHtmlSafe(res.text);
    assert.equal(res.location, null);
  } });
}
cases.push({ name: 'oversized password (1 MB body)', run: async () => {
  const page = await loginPage();
  const res = await submitLogin(bridge.url, page, { ...bob, password: 'p'.repeat(1 << 20) });
  assert.equal(res.status, 413);  // [server] max_body_bytes: refused before Kazoo is asked
  assert.equal(res.location, null);
} });
cases.push({ name: 'brute force on one user name: 429 with Retry-After, then even the right password is refused', run: async () => {
  for (let i = 1; i <= 5; ++i) {
    const res = await submitLogin(bridge.url, await loginPage(), { ...dave, password: ledger.add('password', `guess-${i}-dave`) });
    assert.equal(res.status, 400, `attempt ${i}`);
  }
  const blocked = await submitLogin(bridge.url, await loginPage(), { ...dave, password: 'guess-6-dave' });
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  const right = await submitLogin(bridge.url, await loginPage(), dave);
  assert.equal(right.status, 429, 'the right password is not even tried');
  assert.equal(right.location, null);
  const m = await bridge.metrics();
  assert.ok(m.get('kazoo_bridge_oauth_logins_total{result="throttled"}') >= 2);
} });
cases.push({ name: 'a non-admin asking for account alone: invalid_scope after signing in', run: async () => {
  const p = authorizeParams(clientA, { scope: 'account' });
  const res = await submitLogin(bridge.url, await openLogin(bridge.url, p), bob);
  expectErrorRedirect(res, 'invalid_scope', p.get('state'));
} });
cases.push({ name: 'a non-admin asking for calls + account gets calls only', proof: async () => {
  const before = await snapshot();
  const t = await tokensFor(bridge, clientA, bob, 'calls account');
  assert.equal(t.scope, 'calls');
  const me = await (await api(bridge, '/api/v1/me', t.access_token)).json();
  assert.deepEqual(me.scopes, ['calls']);
  assert.equal(me.admin, false);
  const now = await snapshot();
  assert.equal(now.codes, before.codes + 1);
  assert.equal(now.clients, before.clients);
} });
cases.push({ name: 'Cancel on the login page: access_denied, no code', run: async () => {
  const p = authorizeParams(clientA);
  const res = await submitLogin(bridge.url, await openLogin(bridge.url, p), bob, { decision: 'deny' });
  expectErrorRedirect(res, 'access_denied', p.get('state'));
} });

// The token endpoint. Each case gets a fresh code (obtained before the snapshot).
const codeCase = (name, request, expect, extra = {}) => cases.push({ name, ...extra, setup: async (s) => { s.code = await codeFor(bridge, clientA, bob); }, run: async (s) => expect(await request(s)) });
codeCase('wrong code_verifier', (s) => redeem(bridge, clientA, s.code, { code_verifier: 'x'.repeat(43) }), (r) => expectTokenError(r, 400, 'invalid_grant'));
codeCase('missing code_verifier', (s) => redeem(bridge, clientA, s.code, { code_verifier: '' }), (r) => expectTokenError(r, 400, 'invalid_grant'));  // RFC 7636 §4.6
codeCase('redirect_uri at the token endpoint differs from the authorization request', (s) => redeem(bridge, clientA, s.code, { redirect_uri: receiver.base + '/other' }), (r) => expectTokenError(r, 400, 'invalid_grant'));
codeCase('code redeemed by another client (its own valid credentials)', (s) => redeem(bridge, clientB, s.code), (r) => expectTokenError(r, 400, 'invalid_grant'));
codeCase('wrong client secret', (s) => redeem(bridge, clientA, s.code, { client_secret: 'not-the-secret' }), (r) => {
  expectTokenError(r, 401, 'invalid_client');
  assert.match(r.headers.get('www-authenticate') ?? '', /^Basic /);
});
codeCase('duplicated code parameter', (s) => tokenRequest(bridge, new URLSearchParams([
  ['grant_type', 'authorization_code'], ['code', s.code], ['code', s.code], ['redirect_uri', clientA.redirect_uri],
  ['client_id', clientA.client_id], ['client_secret', clientA.client_secret], ['code_verifier', VERIFIER]])), (r) => expectTokenError(r, 400, 'invalid_request'));
codeCase('two client authentications at once (Basic and post)', (s) => tokenRequest(bridge, {
  grant_type: 'authorization_code', code: s.code, redirect_uri: clientA.redirect_uri, client_id: clientA.client_id,
  client_secret: clientA.client_secret, code_verifier: VERIFIER,
}, { authorization: 'Basic ' + Buffer.from(`${clientA.client_id}:${clientA.client_secret}`).toString('base64') }), (r) => expectTokenError(r, 400, 'invalid_request'));
codeCase('token request as JSON', (s) => fetch(`${bridge.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'authorization_code', code: s.code, redirect_uri: clientA.redirect_uri, client_id: clientA.client_id, client_secret: clientA.client_secret, code_verifier: VERIFIER }) }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.clone().text(), json: await r.json() })), (r) => expectTokenError(r, 400, 'invalid_request'));
codeCase('unsupported grant_type password', () => tokenRequest(bridge, { grant_type: 'password', username: 'bob', password: bob.password, client_id: clientA.client_id, client_secret: clientA.client_secret }), (r) => expectTokenError(r, 400, 'unsupported_grant_type'));
codeCase('oversized code (5000 characters)', () => redeem(bridge, clientA, 'c'.repeat(5000)), (r) => expectTokenError(r, 400, 'invalid_request'));
for (const [field, status, error] of [['code', 400, 'invalid_grant'], ['redirect_uri', 400, 'invalid_grant'],
  ['client_id', 401, 'invalid_client'], ['code_verifier', 400, 'invalid_request'], ['grant_type', 400, 'unsupported_grant_type']]) {
  codeCase(`injection in the token request's ${field}`, (s) => redeem(bridge, clientA, s.code, { [field]: EVIL }), (r) => {
    expectTokenError(r, status, error);
    assert.equal(r.headers.get('x-injected'), null);
  });
}
cases.push({ name: "injection in a refresh request's refresh_token", run: async () => {
  expectTokenError(await refresh(bridge, clientA, EVIL), 400, 'invalid_grant');
} });
cases.push({ name: "injection in a refresh request's scope", setup: async (s) => { s.t = await tokensFor(bridge, clientA, bob); }, run: async (s) => {
  const r = await tokenRequest(bridge, { grant_type: 'refresh_token', refresh_token: s.t.refresh_token, scope: EVIL, client_id: clientA.client_id, client_secret: clientA.client_secret });
  expectTokenError(r, 400, 'invalid_scope');
  assert.equal(await active(bridge, clientA, s.t.refresh_token), true, 'the refresh token is not consumed');
} });
cases.push({ name: 'injection in the token of introspection and revocation', run: async () => {
  const i = await postForm(`${bridge.url}/oauth/introspect`, { token: EVIL, client_id: clientA.client_id, client_secret: clientA.client_secret });
  assert.equal(i.status, 200);
  assert.deepEqual(i.json, { active: false });
  const r = await postForm(`${bridge.url}/oauth/revoke`, { token: EVIL, token_type_hint: EVIL, client_id: clientA.client_id, client_secret: clientA.client_secret });
  assert.equal(r.status, 200);  // RFC 7009 §2.2: an invalid token is not an error
} });
cases.push({ name: 'code reuse: refused, and the tokens issued from it are revoked', setup: async (s) => {
  s.code = await codeFor(bridge, clientA, bob);
  const first = await redeem(bridge, clientA, s.code);
  assert.equal(first.status, 200);
  s.first = ledger.addTokens(first.json);
  assert.equal(await active(bridge, clientA, s.first.access_token), true);
}, run: async (s) => {
  expectTokenError(await redeem(bridge, clientA, s.code), 400, 'invalid_grant');
  assert.equal(await active(bridge, clientA, s.first.access_token), false, 'access token of the first redemption revoked');
  assert.equal(await active(bridge, clientA, s.first.refresh_token), false, 'refresh token of the first redemption revoked');
  assert.equal((await api(bridge, '/api/v1/me', s.first.access_token)).status, 401);
} });
cases.push({ name: 'refresh token presented by another client', setup: async (s) => { s.t = await tokensFor(bridge, clientA, bob); }, run: async (s) => {
  expectTokenError(await refresh(bridge, clientB, s.t.refresh_token), 400, 'invalid_grant');
  assert.equal(await active(bridge, clientA, s.t.refresh_token), true, 'the grant is untouched');
} });
cases.push({ name: 'refresh token used as an access token on the API', setup: async (s) => { s.t = await tokensFor(bridge, clientA, bob); }, run: async (s) => {
  const r = await api(bridge, '/api/v1/me', s.t.refresh_token);
  assert.equal(r.status, 401);
} });
cases.push({ name: 'introspection of a token by another client: inactive', run: async () => {
  const r = await postForm(`${bridge.url}/oauth/introspect`, { token: sentinel.access_token, client_id: clientB.client_id, client_secret: clientB.client_secret });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { active: false });
} });
cases.push({ name: 'revocation of a token by another client: 200, and the token stays active', run: async () => {
  const r = await postForm(`${bridge.url}/oauth/revoke`, { token: sentinel.refresh_token, client_id: clientB.client_id, client_secret: clientB.client_secret });
  assert.equal(r.status, 200);
} });
cases.push({ name: 'revocation with a wrong client secret', run: async () => {
  const r = await postForm(`${bridge.url}/oauth/revoke`, { token: sentinel.refresh_token, client_id: clientA.client_id, client_secret: 'wrong' });
  expectTokenError(r, 401, 'invalid_client');
} });

// Lifetimes, reached by polling the clock (no sleep): codes on a second daemon with code_ttl_s = 1,
// refresh tokens on the main one (refresh_grace_s = 1).
const pastDeadline = (ms) => waitFor(() => Date.now() > ms, { what: 'the lifetime to pass' });
cases.push({ name: 'expired code (code_ttl_s = 1)', setup: async (s) => { s.code = await codeFor(short, clientShort, bob); s.at = Date.now(); }, target: () => short, run: async (s) => {
  await pastDeadline(s.at + 1500);
  expectTokenError(await redeem(short, clientShort, s.code), 400, 'invalid_grant');
} });
cases.push({ name: 'refresh reuse after the grace window (refresh_grace_s = 1): the whole grant is revoked', setup: async (s) => {
  s.t = await tokensFor(bridge, clientA, bob);
  const r = await refresh(bridge, clientA, s.t.refresh_token);
  assert.equal(r.status, 200);
  s.rotated = ledger.addTokens(r.json);
  s.at = Date.now();
}, run: async (s) => {
  await pastDeadline(s.at + 1500);
  expectTokenError(await refresh(bridge, clientA, s.t.refresh_token), 400, 'invalid_grant');
  for (const t of [s.rotated.access_token, s.rotated.refresh_token]) assert.equal(await active(bridge, clientA, t), false, 'the family is revoked');
  assert.equal((await api(bridge, '/api/v1/me', s.rotated.access_token)).status, 401);
} });

// The API across accounts: calls of both accounts are in the database.
cases.push({ name: "a token of account A reading account B's call", run: async () => {
  const stored = new Map(bridge.jsonLines(['calls']).map((c) => [c.call_id, c.account_id]));
  assert.equal(stored.get(globexCall), GLOBEX.id, "B's call is in the database");
  assert.equal(stored.get(acmeCall), ACME.id, "A's call is in the database");
  const one = await api(bridge, `/api/v1/calls/${globexCall}`, sentinel.access_token);
  assert.equal(one.status, 404);
  assert.ok(!(await one.text()).includes(GLOBEX.id));
  const list = await (await api(bridge, '/api/v1/calls?limit=200', sentinel.access_token)).json();
  assert.ok(list.data.length >= 1, 'A sees its own calls');
  assert.ok(list.data.every((c) => c.account_id === ACME.id), 'never a call of B');
  assert.ok(list.data.some((c) => c.call_id === acmeCall));
} });
cases.push({ name: "a token of account B reading account A's call", run: async () => {
  const one = await api(bridge, `/api/v1/calls/${acmeCall}`, gina.access_token);
  assert.equal(one.status, 404);
  const list = await (await api(bridge, '/api/v1/calls?limit=200', gina.access_token)).json();
  assert.ok(list.data.some((c) => c.call_id === globexCall), 'B sees its own call');
  assert.ok(list.data.every((c) => c.account_id === GLOBEX.id), 'never a call of A');
  const filtered = await (await api(bridge, `/api/v1/calls?user_id=${alice.id}`, gina.access_token)).json();
  assert.deepEqual(filtered.data, [], "filtering on A's user gives nothing");
} });
cases.push({ name: 'injection in the API: call id and filters', run: async () => {
  const one = await api(bridge, `/api/v1/calls/${encodeURIComponent(EVIL)}`, sentinel.access_token);
  assert.equal(one.status, 404);
  const list = await api(bridge, `/api/v1/calls?user_id=${encodeURIComponent(EVIL)}`, sentinel.access_token);
  assert.equal(list.status, 200);
  assert.deepEqual((await list.json()).data, []);
  const bad = await api(bridge, `/api/v1/calls?status=${encodeURIComponent(EVIL)}`, sentinel.access_token);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error, 'invalid_request');
} });
cases.push({ name: 'an access token in the query string', run: async () => {
  const r = await fetch(`${bridge.url}/api/v1/me?access_token=${sentinel.access_token}`);
  assert.equal(r.status, 400);
} });

// ---- the run -----------------------------------------------------------------------------------------------

/** Plays `scenario` for `account` through a daemon following it and returns the Call-ID it stored. */
async function recordCall(b, account, scenario) {
  const known = new Set(b.jsonLines(['calls']).map((c) => c.call_id));
  await sim.play(scenario, { account_id: account.id });
  return waitFor(() => b.jsonLines(['calls']).find((c) => !known.has(c.call_id) && c.status === 'ended' && c.account_id === account.id)?.call_id,
    { what: `a ${scenario} call of ${account.name}` });
}

describe('hostile requests', () => {
  before(async () => {
    sim = await Simulator.start(wd);
    receiver = await Receiver.start();
    // The simulator's API keys see one account each (no hierarchy in the fixture): a daemon following
    // globex records its call first into the database the main daemon (following acme) then serves.
    globexBridge = new Bridge(wd, sim, { name: 'kb-globex', apiKey: GLOBEX.api_key, db: wd.file('kb.db') });
    await globexBridge.start();
    globexCall = await recordCall(globexBridge, GLOBEX, 'inbound_answered');
    await globexBridge.stop();

    // refresh_grace_s = 1: reuse after the grace window is reachable by polling the clock for a second.
    bridge = new Bridge(wd, sim, { oauth: { login_attempts_per_user: 5, login_attempts_per_ip: 1000, refresh_grace_s: 1 } });
    clientA = bridge.addClient('Client A', [receiver.callback]);
    clientB = bridge.addClient('Client B', [receiver.callback]);
    short = new Bridge(wd, sim, { name: 'kb-short', oauth: { code_ttl_s: 1 } });
    clientShort = short.addClient('Short-lived', [receiver.callback]);
    for (const c of [clientA, clientB, clientShort]) ledger.add('client secret', c.client_secret);
    await Promise.all([bridge.start(), short.start()]);
    acmeCall = await recordCall(bridge, ACME, 'inbound_answered');
    sentinel = await tokensFor(bridge, clientA, alice, 'calls dial account');
    assert.equal(sentinel.scope, 'calls dial account');
    gina = await tokensFor(bridge, clientA, ginaUser, 'calls account');
  });

  after(async () => {
    await bridge?.stop();
    await short?.stop();
    await sim?.stop();
    await receiver?.stop();
    wd.remove();
  });

  test('there are at least 30 cases', () => assert.ok(cases.length >= 30, `${cases.length} cases`));

  for (const c of cases) {
    test(c.name, () => wd.guard(async () => {
      const s = {};
      const target = c.target?.() ?? bridge;
      if (c.setup) await c.setup(s);
      if (c.proof) return c.proof(s);
      const before = await snapshot(target);
      await c.run(s);
      await assertUnchanged(before, target);
    })());
  }

  test('the daemons\' logs hold no password, code, token or client secret', () => wd.guard(async () => {
    await bridge.stop();
    await short.stop();
    assert.ok(ledger.values.size >= 30, `the ledger holds what the suite used (${ledger.values.size})`);
    for (const b of [bridge, short, globexBridge]) assert.deepEqual(ledger.leaksIn(b.logText()), [], b.logPath);
  })());
});
