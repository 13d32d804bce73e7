// The hook perform and its signature check on their own (no daemon): Standard Webhooks' published test
// vector, a body the test signs like the daemon does, an altered body, a missing signature, batching.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';

process.env.NODE_ENV = 'test';
const require = createRequire(import.meta.url);
const zapier = require('zapier-platform-core');
const App = require('../index.js');
const { verify } = require('../lib/signature.js');
const { sampleOf } = require('../lib/payload.js');
const appTester = zapier.createAppTester(App);

const raw = (id, ts, body, sig) => ({
  method: 'POST', querystring: '', content: body,
  headers: { 'Content-Type': 'application/json', 'Http-Webhook-Id': id, 'Http-Webhook-Timestamp': ts, 'Http-Webhook-Signature': sig },
});

test("Standard Webhooks' test vector verifies; a changed byte does not", () => {
  // github.com/standard-webhooks/standard-webhooks libraries/javascript test (reference/webhook-delivery.md).
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const r = raw('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}',
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  assert.equal(verify(r, secret), true);
  assert.equal(verify({ ...r, content: '{"test": 2432232315}' }, secret), false);
  assert.equal(verify(r, 'whsec_' + Buffer.alloc(24, 1).toString('base64')), false);
  // Several signatures (secret rotation): any valid v1 one counts; other versions are ignored.
  assert.equal(verify({ ...r, headers: { ...r.headers, 'Http-Webhook-Signature': 'v1a,xyz v1,bad= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' } }, secret), true);
});

const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const sign = (id, ts, body) =>
  'v1,' + createHmac('sha256', Buffer.alloc(32, 7)).update(`${id}.${ts}.${body}`).digest('base64');

test('perform returns the signed body as one item, without the query string', async () => {
  const event = sampleOf('call.missed');
  const body = JSON.stringify(event);
  const items = await appTester(App.triggers.missed_call.operation.perform, {
    subscribeData: { id: 'hook_1', secret },
    cleanedRequest: { ...event, querystring: { a: '1' } },
    rawRequest: raw(event.id, '1700000000', body, sign(event.id, '1700000000', body)),
  });
  assert.deepEqual(items, [event]);
});

test('perform drops an unsigned or altered body, and an event of another type', async () => {
  const event = sampleOf('call.missed');
  const body = JSON.stringify(event);
  const bundle = (content, sig, parsed = event) => ({
    subscribeData: { id: 'hook_1', secret },
    cleanedRequest: { ...parsed, querystring: {} },
    rawRequest: raw(event.id, '1700000000', content, sig),
  });
  const perform = App.triggers.missed_call.operation.perform;
  assert.deepEqual(await appTester(perform, bundle(body, undefined)), []);
  assert.deepEqual(await appTester(perform, bundle(body.replace('Jane', 'Joan'), sign(event.id, '1700000000', body))), []);
  const other = sampleOf('call.ended');
  const otherBody = JSON.stringify(other);
  assert.deepEqual(await appTester(perform, bundle(otherBody, sign(event.id, '1700000000', otherBody), other)), []);
});

test('a batched body (an array) becomes one item per event', async () => {
  const a = sampleOf('call.ended');
  const b = { ...sampleOf('call.ended'), id: 'evt_2' };
  const items = await appTester(App.triggers.call_ended.operation.perform, { cleanedRequest: [a, b] });
  assert.deepEqual(items.map((i) => i.id), [a.id, 'evt_2']);
});
