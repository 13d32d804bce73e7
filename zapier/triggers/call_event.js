'use strict';
// One factory for every instant (REST hook) call trigger: each is a lifecycle event type of design.md,
// subscribed through POST /api/v1/hooks and sampled through GET /api/v1/events (docs/api.md).
const api = require('../lib/api');
const payload = require('../lib/payload');
const signature = require('../lib/signature');

const scopeField = {
  key: 'scope',
  label: 'Whose Calls',
  helpText:
    "**My calls** (the connected user's). **All users' calls** needs a connection made by a Kazoo account " +
    'administrator.',
  choices: { user: 'My calls', account: "All users' calls" },
  default: 'user',
  required: false,
  altersDynamicFields: false,
};

const directionField = {
  key: 'direction',
  label: 'Direction',
  helpText: 'Only calls in this direction. Leave empty for all.',
  choices: { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal' },
  required: false,
};

/** The hook body (or bodies, if the daemon ever batches) as trigger items. */
const itemsOf = (body) =>
  (Array.isArray(body) ? body : [body])
    .filter((p) => p && typeof p === 'object')
    // cleanedRequest also holds the target URL's query string; it is not part of the event.
    .map(({ querystring, ...rest }) => rest);

/**
 * makeCallTrigger({ key, event, noun, label, description }) -> a Zapier trigger definition.
 * `event` is the design.md lifecycle type the hook subscribes to.
 */
const makeCallTrigger = ({ key, event, noun = 'Call', label, description }) => {
  const performSubscribe = async (z, bundle) => {
    const body = { target_url: bundle.targetUrl, event, scope: bundle.inputData.scope || 'user' };
    if (bundle.inputData.direction) body.filters = { direction: bundle.inputData.direction };
    const response = await z.request({ method: 'POST', url: api.url('/api/v1/hooks'), body });
    // Stored by Zapier as bundle.subscribeData: the id to unsubscribe, the secret to check signatures.
    return response.data;
  };

  const performUnsubscribe = async (z, bundle) => {
    const id = bundle.subscribeData && bundle.subscribeData.id;
    if (!id) return { deleted: false };
    const response = await z.request({
      method: 'DELETE',
      url: api.url(`/api/v1/hooks/${encodeURIComponent(id)}`),
      skipThrowForStatus: true,
    });
    // 404: already gone (the daemon deletes a hook whose target answered 410, or a retried Zap-off).
    if (response.status === 204 || response.status === 200 || response.status === 404) {
      return { id, deleted: true };
    }
    // (A 401 never gets here: autoRefresh's middleware has already thrown RefreshAuthError.)
    response.skipThrowForStatus = false;
    api.explainErrors(response, z);
    response.throwForStatus();
    return { id, deleted: false };
  };

  const perform = (z, bundle) => {
    const secret = bundle.subscribeData && bundle.subscribeData.secret;
    const raw = bundle.rawRequest;
    // A leaked target URL must not start Zaps: with the subscription's secret at hand, only a body signed
    // by the daemon counts (Standard Webhooks, design.md). Dropped, not thrown: [] means "no trigger".
    if (secret && raw && typeof raw.content === 'string' && raw.content.length > 0 && !signature.verify(raw, secret)) {
      z.console.log(`${key}: dropped a request without a valid webhook-signature`);
      return [];
    }
    return itemsOf(bundle.cleanedRequest).filter((p) => p.type === event);
  };

  const performList = async (z, bundle) => {
    const input = bundle.inputData || {};
    // GET /api/v1/events shows everything the token may see: an admin's token (scope `account`) sees the
    // whole account even for a "My calls" trigger, and the route has no direction filter. The sample should
    // look like what this Zap will get, so those two inputs are applied here, on a larger page.
    const seesAccount = ((bundle.authData && bundle.authData.scope) || '').split(/[ ,]+/).includes('account');
    const ownOnly = (input.scope || 'user') === 'user' && seesAccount;
    const narrow = ownOnly || Boolean(input.direction);
    const response = await z.request({
      url: api.url('/api/v1/events'),
      params: { type: event, limit: narrow ? 50 : 3 },
    });
    const events = response.data.data;
    if (!narrow) return events;
    const me = ownOnly ? (await z.request({ url: api.url('/api/v1/me') })).data.id : undefined;
    const matching = events.filter((e) =>
      (!input.direction || e.direction === input.direction) && (!me || e.user_id === me || e.from_user_id === me));
    // A sample of someone else's call beats no sample at all (the editor needs one to map fields).
    return (matching.length > 0 ? matching : events).slice(0, 3);
  };

  return {
    key,
    noun,
    display: { label, description },
    operation: {
      type: 'hook',
      inputFields: [scopeField, directionField],
      performSubscribe,
      performUnsubscribe,
      perform,
      performList,
      sample: payload.sampleOf(event),
      outputFields: payload.outputFields,
    },
  };
};

const triggers = [
  makeCallTrigger({ key: 'new_call', event: 'call.started', label: 'New Call',
    description: 'Triggers when a call starts (inbound, outbound or internal).' }),
  makeCallTrigger({ key: 'call_answered', event: 'call.answered', label: 'Call Answered',
    description: 'Triggers when a person answers a call.' }),
  makeCallTrigger({ key: 'call_ended', event: 'call.ended', label: 'Call Ended',
    description: 'Triggers when a call is over, answered or not.' }),
  makeCallTrigger({ key: 'missed_call', event: 'call.missed', label: 'Missed Call',
    description: 'Triggers when an inbound call ends without a person answering it.' }),
  makeCallTrigger({ key: 'call_parked', event: 'call.parked', label: 'Call Parked',
    description: 'Triggers when a call is parked in a parking slot.' }),
  makeCallTrigger({ key: 'call_retrieved', event: 'call.retrieved', label: 'Parked Call Retrieved',
    description: 'Triggers when a parked call is picked up from its slot.' }),
  makeCallTrigger({ key: 'call_queued', event: 'call.queue.entered', label: 'Call Queued',
    description: 'Triggers when a call enters a call center queue.' }),
];

module.exports = { makeCallTrigger, triggers, itemsOf };
