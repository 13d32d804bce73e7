// The "Call a Phone Number" action (creates/call_phone.js) through appTester against the real daemon and
// kazoo-sim's quickcall: the action answers "originating" at once, the call then shows up in the user's
// call history and in the "New Call" trigger's sample, and a bad number is reported with the daemon's
// reason. Needs the branch dial (POST /api/v1/calls); the trigger-sample check also needs hooks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ACME, App, Workdir, apiGet, appTester, connect, startStack, user, waitFor } from './support.mjs';

let wd, stack, bob, dialled;
const NUMBER = '+15557654321';
const callPhone = App.creates.call_phone.operation.perform;
// The dialled call as the daemon reports it: the call id the action returned is the call's id.
const isDialled = (c) => c.call_id === dialled.call_id;

before(async () => {
  wd = new Workdir();
  stack = await startStack(wd);
  bob = (await connect(stack.bridge, stack.client, user(ACME, 'bob'))).authData;
});

after(async () => {
  await stack?.bridge.stop();
  await stack?.sim.stop();
  await stack?.redirect.stop();
  wd?.remove();
});

test('the action dials: originating at once, then the call is in the history as an outbound call', () => wd.guard(async () => {
  dialled = await appTester(callPhone, { authData: bob, inputData: { to: ' +1 555 765 4321 ' } });
  assert.equal(dialled.status, 'originating');
  assert.equal(dialled.to, NUMBER);
  assert.ok(typeof dialled.call_id === 'string' && dialled.call_id.length > 0);
  const call = await waitFor(async () => (await apiGet(stack.bridge, bob, '/api/v1/calls?limit=20')).json?.data?.find(isDialled),
    { what: 'the dialled call in GET /api/v1/calls' });
  assert.equal(call.direction, 'outbound');
  assert.equal(call.origin, 'quickcall');
  assert.equal(call.from_user_id, user(ACME, 'bob').id);
  assert.equal(call.to_number, NUMBER);
})());

test('the dialled call appears in the New Call trigger sample (performList)', () => wd.guard(async () => {
  assert.ok(dialled, 'the call was dialled');
  const item = await waitFor(async () =>
    (await appTester(App.triggers.new_call.operation.performList, { authData: bob, inputData: {} })).find(isDialled),
  { what: 'the dialled call among the call.started events' });
  assert.equal(item.type, 'call.started');
  assert.equal(item.origin, 'quickcall');
})());

test("a number that is not one is refused with the daemon's reason", () => wd.guard(async () => {
  await assert.rejects(appTester(callPhone, { authData: bob, inputData: { to: 'call me maybe' } }), /invalid_number/);
})());
