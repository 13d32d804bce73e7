'use strict';
// The daemon's base URL and the request plumbing every operation shares.
//
// BRIDGE_URL (not KAZOO_BRIDGE_URL): the daemon reads every KAZOO_BRIDGE_* variable of its environment
// as one of its own config keys and refuses to start on an unknown one, so a developer who exports the
// app's variable in the shell that runs the daemon would break the daemon.
const ENV_URL = 'BRIDGE_URL';

/** `path` on the daemon, e.g. url('/api/v1/me'); read at call time so `zapier env:set` takes effect. */
const url = (path) => {
  const base = (process.env[ENV_URL] || '').trim().replace(/\/+$/, '');
  if (!base) {
    throw new Error(`${ENV_URL} is not set: run \`zapier env:set <version> ${ENV_URL}=https://bridge.example.com\``);
  }
  return base + path;
};

const isTokenEndpoint = (requestUrl) => /\/oauth\/(token|revoke|introspect)(\?|$)/.test(requestUrl || '');

/**
 * beforeRequest: the Bearer token on every API call. Not on the token endpoint: the refresh request
 * authenticates the client in its body, and an old access token there only adds a second credential
 * (the daemon ignores it, docs/oauth.md; other servers refuse it).
 */
const addBearer = (request, z, bundle) => {
  const token = bundle.authData && bundle.authData.access_token;
  if (token && !isTokenEndpoint(request.url)) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${token}`;
  }
  request.headers = request.headers || {};
  if (!request.headers.Accept && !request.headers.accept) request.headers.Accept = 'application/json';
  return request;
};

/**
 * afterResponse: the daemon's RFC 6749-style error body ({"error","error_description"}) as the message a
 * Zap user reads. 401 (autoRefresh turns it into RefreshAuthError) and 429 (ThrottledError) are left to
 * core's own middlewares, as is a request that asked to see its status (skipThrowForStatus).
 */
const explainErrors = (response, z) => {
  const status = response.status;
  if (status < 400 || status === 401 || status === 429 || response.skipThrowForStatus) return response;
  let body;
  try {
    body = typeof response.data === 'object' && response.data !== null ? response.data : JSON.parse(response.content);
  } catch (e) {
    body = undefined;
  }
  if (body && typeof body.error === 'string') {
    const what = body.error_description ? `${body.error_description} (${body.error})` : body.error;
    throw new z.errors.Error(`kazoo-bridge answered ${status}: ${what}`, body.error, status);
  }
  return response;
};

module.exports = { ENV_URL, url, addBearer, explainErrors, isTokenEndpoint };
