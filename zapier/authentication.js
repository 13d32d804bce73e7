'use strict';
// OAuth 2.0 authorization code + PKCE against the daemon's own authorization server (docs/oauth.md).
const api = require('./lib/api');

/**
 * Scopes asked for: "calls dial account". The daemon grants `account` only to Kazoo account admins and,
 * when other scopes are asked with it, silently drops it for everybody else (docs/oauth.md "Scopes"), so
 * one connection flow works for both: admins get "all users' calls" triggers, users get their own calls.
 */
const SCOPE = 'calls dial account';

const tokenRequest = async (z, form) => {
  const response = await z.request({
    method: 'POST',
    url: api.url('/oauth/token'),
    // Form encoding is the token endpoint's contract (RFC 6749 §4.1.3); without this header core sends JSON.
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: { ...form, client_id: process.env.CLIENT_ID, client_secret: process.env.CLIENT_SECRET },
  });
  const t = response.data;
  // Zapier stores only top-level scalar keys in authData.
  return {
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    expires_in: t.expires_in,
    scope: t.scope,
  };
};

const getAccessToken = (z, bundle) => {
  const form = {
    grant_type: 'authorization_code',
    code: bundle.inputData.code,
    redirect_uri: bundle.inputData.redirect_uri,
  };
  // Zapier fills code_verifier when enablePkce ran; an absent one must not be sent as "undefined".
  if (bundle.inputData.code_verifier) form.code_verifier = bundle.inputData.code_verifier;
  return tokenRequest(z, form);
};

// The daemon rotates refresh tokens (with a grace window for concurrent refreshes), so the new one is kept.
const refreshAccessToken = (z, bundle) =>
  tokenRequest(z, { grant_type: 'refresh_token', refresh_token: bundle.authData.refresh_token });

const test = async (z) => (await z.request({ url: api.url('/api/v1/me') })).data;

/** "Alice Smith @ ACME": the user and the Kazoo account (inputData holds the test's answer). */
const connectionLabel = (z, bundle) => {
  const me = bundle.inputData || {};
  const who = me.name || me.email || me.id || 'unknown user';
  return me.account_name ? `${who} @ ${me.account_name}` : who;
};

module.exports = {
  type: 'oauth2',
  fields: [],
  test,
  connectionLabel,
  oauth2Config: {
    // A template, not a function: Zapier's backend appends scope and the PKCE challenge to it.
    authorizeUrl: {
      url: `{{process.env.${api.ENV_URL}}}/oauth/authorize`,
      params: {
        client_id: '{{process.env.CLIENT_ID}}',
        state: '{{bundle.inputData.state}}',
        redirect_uri: '{{bundle.inputData.redirect_uri}}',
        response_type: 'code',
      },
    },
    getAccessToken,
    refreshAccessToken,
    scope: SCOPE,
    autoRefresh: true,
    enablePkce: true,
  },
};
