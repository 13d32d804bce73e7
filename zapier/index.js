'use strict';
// kazoo-bridge's Zapier app (README.md): OAuth 2.0 + PKCE against the daemon, seven instant call
// triggers (REST hooks) and the "Call a Phone Number" action.
const api = require('./lib/api');
const authentication = require('./authentication');
const { triggers } = require('./triggers/call_event');
const callPhone = require('./creates/call_phone');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: [api.addBearer],
  afterResponse: [api.explainErrors],
  triggers: Object.fromEntries(triggers.map((t) => [t.key, t])),
  creates: { [callPhone.key]: callPhone },
  searches: {},
};
