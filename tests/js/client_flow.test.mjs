// oauth4webapi, a strict OAuth 2.0 client, against the real daemon and kazoo-sim: the login form is posted
// as a browser without JavaScript would (cookie + hidden fields), then code + PKCE, refresh with rotation
// and grace, introspection, revocation and /api/v1/me (strict_client.mjs). browser_flow.test.mjs does the
// same log-in in Chromium.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ACME, Bridge, Receiver, SecretLedger, Simulator, Workdir, openLogin, submitLogin, user } from './harness.mjs';
import { completeFlow, prepare } from './strict_client.mjs';

let wd, sim, bridge, receiver, client;
const ledger = new SecretLedger();

before(async () => {
  wd = new Workdir();
  sim = await Simulator.start(wd);
  receiver = await Receiver.start();
  bridge = new Bridge(wd, sim);
  client = bridge.addClient('Strict client', [receiver.callback]);
  ledger.add('client secret', client.client_secret);
  await bridge.start();
});

after(async () => {
  await bridge?.stop();
  await sim?.stop();
  await receiver?.stop();
  wd?.remove();
});

test('code + PKCE, refresh, revocation and introspection with oauth4webapi', () => wd.guard(async () => {
  const bob = user(ACME, 'bob');
  ledger.add('password', bob.password);
  const f = await prepare(bridge, client);
  const page = await openLogin(bridge.url, f.url.searchParams);
  assert.equal(page.status, 200);
  const res = await submitLogin(bridge.url, page, bob);
  assert.equal(res.status, 303, res.text.slice(0, 300));
  const callback = new URL(res.location);
  assert.equal(callback.origin + callback.pathname, receiver.callback);
  await completeFlow(f, callback, bob, ledger);
})());

test('the daemon log holds no password, code, token or client secret', () => wd.guard(async () => {
  await bridge.stop();  // flushed
  const log = bridge.logText();
  assert.ok(log.length > 0 && /debug/i.test(log), 'the log is at debug level');
  assert.ok(ledger.values.size >= 8, `the ledger holds what the suite used (${ledger.values.size})`);
  assert.deepEqual(ledger.leaksIn(log), []);
})());
