// The app definition on its own (no daemon): it passes zapier-platform-schema validation (what
// `zapier-platform validate` checks locally), the seven triggers share one shape, and the request
// middlewares put the token where it belongs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

process.env.NODE_ENV = 'test';
const require = createRequire(import.meta.url);
const zapier = require('zapier-platform-core');
const App = require('../index.js');
const api = require('../lib/api.js');
const { PAYLOAD_KEYS } = require('../lib/payload.js');

const EVENTS = {
  new_call: 'call.started', call_answered: 'call.answered', call_ended: 'call.ended', missed_call: 'call.missed',
  call_parked: 'call.parked', call_retrieved: 'call.retrieved', call_queued: 'call.queue.entered',
};

test('the app definition is valid for zapier-platform-schema', async () => {
  const handler = zapier.createAppHandler(App);
  const out = await new Promise((resolve, reject) =>
    handler({ command: 'validate' }, {}, (err, r) => (err ? reject(err) : resolve(r))));
  assert.deepEqual(out.results, []);
  // Zapier runs the app on the core it was built with; the lock pins it.
  assert.equal(App.platformVersion, require('../package-lock.json').packages['node_modules/zapier-platform-core'].version);
  assert.equal(App.platformVersion, require('../package.json').dependencies['zapier-platform-core']);
});

test('the seven call triggers: hook type, their event, every payload key labelled and in the sample', () => {
  assert.deepEqual(Object.keys(App.triggers).sort(), Object.keys(EVENTS).sort());
  for (const [key, t] of Object.entries(App.triggers)) {
    const op = t.operation;
    assert.equal(op.type, 'hook', key);
    assert.equal(op.sample.type, EVENTS[key], key);
    for (const fn of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
      assert.equal(typeof op[fn], 'function', `${key}.${fn}`);
    }
    assert.deepEqual(Object.keys(op.sample).sort(), [...PAYLOAD_KEYS].sort(), key);
    assert.deepEqual(op.outputFields.map((f) => f.key).sort(), [...PAYLOAD_KEYS].sort(), key);
    assert.ok(op.outputFields.every((f) => f.label && f.label !== f.key), `${key}: human labels`);
    const scope = op.inputFields.find((f) => f.key === 'scope');
    assert.deepEqual(Object.keys(scope.choices), ['user', 'account']);
  }
  assert.equal(new Set(Object.values(App.triggers).map((t) => t.display.label)).size, 7, 'distinct labels');
});

test('the Bearer token goes to the API, not to the token endpoint', () => {
  process.env.BRIDGE_URL = 'https://bridge.example.com/';
  const bundle = { authData: { access_token: 'at-1' } };
  const toApi = api.addBearer({ url: api.url('/api/v1/me'), headers: {} }, null, bundle);
  assert.equal(toApi.url, 'https://bridge.example.com/api/v1/me', 'a trailing slash in BRIDGE_URL is dropped');
  assert.equal(toApi.headers.Authorization, 'Bearer at-1');
  const toToken = api.addBearer({ url: api.url('/oauth/token'), headers: {} }, null, bundle);
  assert.equal(toToken.headers.Authorization, undefined);
  delete process.env.BRIDGE_URL;
  assert.throws(() => api.url('/api/v1/me'), /BRIDGE_URL is not set/);
});

test('the connection label names the user and the account, with fallbacks', async () => {
  const appTester = zapier.createAppTester(App);
  const label = (me) => appTester(App.authentication.connectionLabel, { authData: {}, inputData: me });
  assert.equal(await label({ name: 'Alice Smith', account_name: 'ACME' }), 'Alice Smith @ ACME');
  assert.equal(await label({ email: 'bob@acme.example', account_name: 'ACME' }), 'bob@acme.example @ ACME');
  assert.equal(await label({ name: 'Carol' }), 'Carol');
});
