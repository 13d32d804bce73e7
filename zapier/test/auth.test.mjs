// The app's OAuth 2.0 connection (authentication.js) through the real zapier-platform-core appTester
// against the real daemon and kazoo-sim: authorize URL, code + PKCE exchange, the connection test and
// label, scopes for a user and an admin, refresh, and an invalid token turning into RefreshAuthError.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ACME, App, SecretLedger, Workdir, apiGet, appTester, connect as connectAs, startStack, user, zapier } from './support.mjs';

let wd, stack;
const ledger = new SecretLedger();
/** Every connection's tokens go to the ledger: the daemon's log must hold none of them. */
const connect = async (...args) => {
  const c = await connectAs(...args);
  ledger.addTokens(c.authData);
  return c;
};
const bob = user(ACME, 'bob');
const alice = user(ACME, 'alice');

before(async () => {
  wd = new Workdir();
  stack = await startStack(wd);
  ledger.add('client secret', stack.client.client_secret);
  ledger.add('password', bob.password);
  ledger.add('password', alice.password);
});

after(async () => {
  await stack?.bridge.stop();
  await stack?.sim.stop();
  await stack?.redirect.stop();
  wd?.remove();
});

test('the authorize URL is the daemon page with the client, state, redirect URI and code flow', () => wd.guard(async () => {
  const rendered = new URL(await appTester(App.authentication.oauth2Config.authorizeUrl,
    { inputData: { state: 'st4te', redirect_uri: stack.client.redirect_uri } }));
  assert.equal(rendered.origin + rendered.pathname, `${stack.bridge.url}/oauth/authorize`);
  assert.equal(rendered.searchParams.get('client_id'), stack.client.client_id);
  assert.equal(rendered.searchParams.get('state'), 'st4te');
  assert.equal(rendered.searchParams.get('redirect_uri'), stack.client.redirect_uri);
  assert.equal(rendered.searchParams.get('response_type'), 'code');
  assert.equal(App.authentication.oauth2Config.enablePkce, true);
  assert.equal(App.authentication.oauth2Config.autoRefresh, true);
})());

test('a user connects: tokens, the connection test answers /me, the label names user and account', () => wd.guard(async () => {
  const { authData } = await connect(stack.bridge, stack.client, bob);
  assert.match(authData.access_token, /^\S{20,}$/);
  assert.match(authData.refresh_token, /^\S{20,}$/);
  // "account" is asked for but only admins get it (docs/oauth.md); bob keeps calls and dial.
  assert.deepEqual(authData.scope.split(' ').sort(), ['calls', 'dial']);

  const me = await appTester(App.authentication.test, { authData });
  assert.equal(me.id, bob.id);
  assert.equal(me.admin, false);
  assert.match(me.name, /Bob/);
  assert.ok(me.account_name, 'the account has a name');
  assert.deepEqual([...me.scopes].sort(), ['calls', 'dial']);

  const label = await appTester(App.authentication.connectionLabel, { authData, inputData: me });
  assert.equal(label, `${me.name} @ ${me.account_name}`);
  assert.ok(!label.includes(authData.access_token));
})());

test('an account admin connects with the account scope', () => wd.guard(async () => {
  const { authData } = await connect(stack.bridge, stack.client, alice);
  assert.deepEqual(authData.scope.split(' ').sort(), ['account', 'calls', 'dial']);
  const me = await appTester(App.authentication.test, { authData });
  assert.equal(me.id, alice.id);
  assert.equal(me.admin, true);
  assert.ok(me.scopes.includes('account'));
})());

test('refreshAccessToken rotates both tokens and the new access token works', () => wd.guard(async () => {
  const { authData } = await connect(stack.bridge, stack.client, bob);
  const fresh = ledger.addTokens(await appTester(App.authentication.oauth2Config.refreshAccessToken, { authData }));
  assert.notEqual(fresh.access_token, authData.access_token);
  assert.notEqual(fresh.refresh_token, authData.refresh_token);
  assert.deepEqual(fresh.scope.split(' ').sort(), ['calls', 'dial']);
  const me = await appTester(App.authentication.test, { authData: { ...authData, ...fresh } });
  assert.equal(me.id, bob.id);
  // The rotated refresh token refreshes again (what the next expiry does).
  const third = await appTester(App.authentication.oauth2Config.refreshAccessToken, { authData: { ...authData, ...fresh } });
  assert.equal((await apiGet(stack.bridge, third, '/api/v1/me')).json.id, bob.id);
})());

test('a revoked or unknown access token makes Zapier refresh (RefreshAuthError), not fail the Zap', () => wd.guard(async () => {
  await assert.rejects(appTester(App.authentication.test, { authData: { access_token: 'not-a-token-of-this-daemon' } }),
    (e) => e instanceof zapier.errors.RefreshAuthError || e.name === 'RefreshAuthError');
  const { authData } = await connect(stack.bridge, stack.client, bob);
  const r = await fetch(`${stack.bridge.url}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: authData.access_token, client_id: stack.client.client_id, client_secret: stack.client.client_secret }),
  });
  assert.equal(r.status, 200);
  await assert.rejects(appTester(App.authentication.test, { authData }), (e) => e.name === 'RefreshAuthError');
  // ...and the refresh Zapier then runs gets the connection going again.
  const fresh = await appTester(App.authentication.oauth2Config.refreshAccessToken, { authData });
  assert.equal((await appTester(App.authentication.test, { authData: { ...authData, ...fresh } })).id, bob.id);
})());

test('a refresh token that was revoked is refused with the daemon\'s reason', () => wd.guard(async () => {
  const { authData } = await connect(stack.bridge, stack.client, bob);
  await fetch(`${stack.bridge.url}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: authData.refresh_token, client_id: stack.client.client_id, client_secret: stack.client.client_secret }),
  });
  await assert.rejects(appTester(App.authentication.oauth2Config.refreshAccessToken, { authData }), /invalid_grant/);
})());

test('the daemon log holds none of the passwords, tokens or the client secret the app handled', () => wd.guard(async () => {
  await stack.bridge.stop();  // flushed
  const log = stack.bridge.logText();
  assert.ok(log.length > 0);
  assert.ok(ledger.values.size >= 10, `the ledger holds what the suite used (${ledger.values.size})`);
  assert.deepEqual(ledger.leaksIn(log), []);
})());
