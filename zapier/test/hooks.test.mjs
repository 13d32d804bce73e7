// The seven instant triggers end to end: the app subscribes through the real daemon (POST /api/v1/hooks),
// kazoo-sim plays calls, the daemon's delivery engine POSTs the events to a local stand-in for
// hooks.zapier.com, and the app's perform turns those exact requests into trigger items; performList
// shows the real recent events; unsubscribing twice succeeds. Needs the branches hooks (API, events,
// fan-out) and delivery (the POSTs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  ACME, App, HookReceiver, PAYLOAD_KEYS, Workdir, apiGet, appTester, connect, startStack, user, waitFor, zapierBundleOf,
} from './support.mjs';

let wd, stack, hooks, bob, alice;
const subs = new Map();   // trigger key -> { subscribeData, authData }
const played = new Map(); // scenario -> Set of its leg call ids

// Who subscribes each trigger, with which scope, and which scenario produces its event.
const plan = {
  new_call: { who: 'alice', scope: 'user', scenario: 'internal' },
  call_answered: { who: 'bob', scope: 'user', scenario: 'inbound_answered' },
  call_ended: { who: 'bob', scope: 'user', scenario: 'inbound_answered' },
  missed_call: { who: 'bob', scope: 'user', scenario: 'inbound_missed_voicemail' },
  call_parked: { who: 'alice', scope: 'account', scenario: 'park_retrieve' },
  call_retrieved: { who: 'alice', scope: 'account', scenario: 'park_retrieve' },
  call_queued: { who: 'alice', scope: 'account', scenario: 'acdc_queue_answered' },
};
const trigger = (key) => App.triggers[key];
const eventOf = (key) => trigger(key).operation.sample.type;
const auth = (who) => (who === 'bob' ? bob : alice);

before(async () => {
  wd = new Workdir();
  stack = await startStack(wd);
  hooks = await HookReceiver.start();
  bob = (await connect(stack.bridge, stack.client, user(ACME, 'bob'))).authData;
  alice = (await connect(stack.bridge, stack.client, user(ACME, 'alice'))).authData;
});

after(async () => {
  await stack?.bridge.stop();
  await stack?.sim.stop();
  await stack?.redirect.stop();
  await hooks?.stop();
  wd?.remove();
});

/** The delivery of `key`'s event for a call of `scenario`, once the daemon POSTed it. */
const deliveryOf = (key) => waitFor(() => hooks.hitsFor(key).find((h) => {
  const body = JSON.parse(h.body);
  return body.type === eventOf(key) && played.get(plan[key].scenario).has(body.call_id);
}), { what: `the ${eventOf(key)} delivery to ${key}'s target` });

test('subscribing each trigger creates a real hook row for its event, scope and target', () => wd.guard(async () => {
  for (const [key, p] of Object.entries(plan)) {
    const authData = auth(p.who);
    const subscribeData = await appTester(trigger(key).operation.performSubscribe,
      { authData, targetUrl: hooks.target(key), inputData: { scope: p.scope } });
    assert.match(subscribeData.id, /^hook_/, key);
    assert.match(subscribeData.secret, /^whsec_/, key);
    subs.set(key, { subscribeData, authData });
    const row = await apiGet(stack.bridge, authData, `/api/v1/hooks/${subscribeData.id}`);
    assert.equal(row.status, 200, `${key}: ${row.text}`);
    assert.equal(row.json.event, eventOf(key));
    assert.equal(row.json.scope, p.scope);
    assert.equal(row.json.target_url, hooks.target(key));
    assert.equal(row.json.status, 'active');
    assert.equal(row.json.secret, undefined, 'the secret is shown only at creation');
  }
})());

test("a user's connection cannot subscribe to all users' calls", () => wd.guard(async () => {
  await assert.rejects(appTester(trigger('missed_call').operation.performSubscribe,
    { authData: bob, targetUrl: hooks.target('refused'), inputData: { scope: 'account' } }), /insufficient_scope/);
})());

test('after each call kazoo-sim plays, performList shows it in the sample of its triggers, in the hook schema', () => wd.guard(async () => {
  // One call at a time, each over before the next starts: at most two events of a trigger's type exist when
  // it is checked, so the played call is in a sample of three (the simulator's calls can start within the
  // same second, so which one is "newest" is not defined).
  for (const scenario of new Set(Object.values(plan).map((p) => p.scenario))) {
    const r = await stack.sim.play(scenario);
    const calls = new Set(r.instances.flatMap((i) => i.call_ids));
    played.set(scenario, calls);
    for (const [key, p] of Object.entries(plan).filter(([, q]) => q.scenario === scenario)) {
      const performList = () => appTester(trigger(key).operation.performList, { authData: auth(p.who), inputData: { scope: p.scope } });
      const list = await waitFor(async () => {
        const l = await performList();
        return l.some((e) => calls.has(e.call_id)) && l;
      }, { what: `${key}'s sample to show the ${scenario} call` });
      assert.ok(list.length <= 3, key);
      assert.ok(list.every((e) => e.type === eventOf(key) && e.example === undefined), key);
      assert.ok(list.every((e, i) => i === 0 || e.occurred_at <= list[i - 1].occurred_at), `${key}: newest first`);
      assert.deepEqual(Object.keys(list[0]).sort(), [...PAYLOAD_KEYS].sort(), `${key}: the payload keys of docs/events.md`);
    }
    await waitFor(async () => (await apiGet(stack.bridge, alice, '/api/v1/events?type=call.ended&limit=5')).json?.data
      ?.some((e) => calls.has(e.call_id)), { what: `the ${scenario} call to end` });
  }
})());

test("a user-scope trigger's sample on an admin's connection holds the admin's own calls only", () => wd.guard(async () => {
  // new_call on Alice's connection, "My calls": Alice placed the internal call; the other four calls
  // played are call.started events of her account but not hers.
  const mine = await appTester(trigger('new_call').operation.performList, { authData: alice, inputData: { scope: 'user' } });
  const aliceId = user(ACME, 'alice').id;
  const hers = (e) => e.user_id === aliceId || e.from_user_id === aliceId;
  assert.ok(mine.length >= 1 && mine.every(hers), JSON.stringify(mine.map((e) => e.summary)));
  assert.ok(mine.some((e) => played.get('internal').has(e.call_id)), 'her internal call');
  // "All users' calls" on the same connection: the account's calls (four of the five are not hers).
  const all = await appTester(trigger('new_call').operation.performList, { authData: alice, inputData: { scope: 'account' } });
  assert.equal(all.length, 3);
  assert.ok(all.some((e) => !hers(e)), JSON.stringify(all.map((e) => e.summary)));
})());

test('the calls reach the hook targets and perform turns each delivery into its trigger item', () => wd.guard(async () => {
  assert.equal(subs.size, Object.keys(plan).length, 'every trigger subscribed');
  assert.equal(played.size, new Set(Object.values(plan).map((p) => p.scenario)).size, 'every scenario played');
  for (const key of Object.keys(plan)) {
    const hit = await deliveryOf(key);
    assert.equal(hit.method, 'POST');
    assert.match(hit.headers['content-type'], /^application\/json/);
    assert.ok(hit.headers['webhook-id'] && hit.headers['webhook-signature'], `${key}: Standard Webhooks headers`);
    const { subscribeData, authData } = subs.get(key);
    const items = await appTester(trigger(key).operation.perform, zapierBundleOf(hit, subscribeData, authData));
    assert.equal(items.length, 1, key);
    const item = items[0];
    assert.equal(item.type, eventOf(key));
    assert.equal(item.id, hit.headers['webhook-id']);
    assert.deepEqual(Object.keys(item).sort(), [...PAYLOAD_KEYS].sort(), `${key}: the payload keys of docs/events.md, no more`);
    assert.equal(item.account_id, ACME.id);
    if (key === 'call_parked' || key === 'call_retrieved') assert.equal(item.park_slot, '101');
    if (key === 'missed_call' || key === 'call_answered') assert.equal(item.user_id, user(ACME, 'bob').id);
    // The item is the event the sample (GET /api/v1/events) shows: same schema, same values.
    const stored = (await apiGet(stack.bridge, authData, `/api/v1/events?type=${eventOf(key)}&limit=100`)).json.data;
    assert.deepEqual(stored.find((e) => e.id === item.id), item, `${key}: the hook body is the stored event`);

    // A forged or altered body on the same target URL starts no Zap.
    // (Trailing white space: still the same JSON, no longer the signed bytes.)
    const forged = { ...hit, body: `${hit.body} ` };
    assert.deepEqual(await appTester(trigger(key).operation.perform, zapierBundleOf(forged, subscribeData, authData)), []);
  }
})());

test("performList applies the trigger's Direction input to the sample", () => wd.guard(async () => {
  const list = await appTester(trigger('call_ended').operation.performList, { authData: bob, inputData: { direction: 'internal' } });
  assert.ok(list.length >= 1);
  assert.ok(list.every((e) => e.direction === 'internal'), JSON.stringify(list.map((e) => e.direction)));
  assert.ok(list.some((e) => played.get('internal').has(e.call_id)), 'the internal call Alice made to Bob');
})());

test('unsubscribing deletes the hook; a second unsubscribe (already gone: 404) still succeeds', () => wd.guard(async () => {
  assert.equal(subs.size, Object.keys(plan).length, 'every trigger subscribed');
  for (const [key, { subscribeData, authData }] of subs) {
    const first = await appTester(trigger(key).operation.performUnsubscribe, { authData, subscribeData });
    assert.equal(first.deleted, true, key);
    assert.equal((await apiGet(stack.bridge, authData, `/api/v1/hooks/${subscribeData.id}`)).status, 404, key);
    const second = await appTester(trigger(key).operation.performUnsubscribe, { authData, subscribeData });
    assert.equal(second.deleted, true, key);
  }
  const left = await apiGet(stack.bridge, alice, '/api/v1/hooks');
  assert.deepEqual(left.json.data, []);
})());
