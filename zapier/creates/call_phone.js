'use strict';
// "Call a phone number": click-to-call through the daemon (POST /api/v1/calls, docs/api.md). Kazoo rings
// the connected user's phone (or the given device) and, once answered, dials the number; the request
// returns at once with "originating", well inside Zapier's 30 s budget.
const api = require('../lib/api');

const perform = async (z, bundle) => {
  const body = { to: String(bundle.inputData.to).trim() };
  if (bundle.inputData.device_id) body.device_id = String(bundle.inputData.device_id).trim();
  const response = await z.request({ method: 'POST', url: api.url('/api/v1/calls'), body });
  return response.data;
};

module.exports = {
  key: 'call_phone',
  noun: 'Call',
  display: {
    label: 'Call a Phone Number',
    description: 'Rings your phone and, when you pick up, dials the number (click-to-call).',
  },
  operation: {
    inputFields: [
      { key: 'to', label: 'Phone Number', required: true, type: 'string',
        helpText: 'The number to call, e.g. +15551234567 or an internal extension.' },
      { key: 'device_id', label: 'Device ID', required: false, type: 'string',
        helpText: 'The Kazoo device to ring first. Leave empty to ring all your phones.' },
    ],
    perform,
    sample: { call_id: '2f1e0d9c-quickcall', status: 'originating', to: '+15551234567' },
    outputFields: [
      { key: 'call_id', label: 'Call ID' },
      { key: 'status', label: 'Status' },
      { key: 'to', label: 'Number Called' },
    ],
  },
};
