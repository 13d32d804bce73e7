// What the Zapier app's suites share: tests/js/harness.mjs (the real kazoo-bridge and kazoo-sim on
// 127.0.0.1, reused, not copied), the real zapier-platform-core appTester around ../index.js, and the
// OAuth connection as Zapier's backend makes it (authorize URL + scope + PKCE, login, getAccessToken).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// CTest sets these; `npm test` in zapier/ falls back to the dev build of this checkout.
process.env.KB_E2E_SOURCE_DIR ??= root;
process.env.KB_E2E_BRIDGE_BIN ??= join(root, 'build/dev/src/kazoo-bridge');
process.env.KB_E2E_SIM_BIN ??= join(root, 'build/dev/tools/kazoo-sim/kazoo-sim');
// Core's test mode: output checks throw (CheckError) instead of logging, no per-call memory lines.
process.env.NODE_ENV = 'test';

const harness = await import('../../tests/js/harness.mjs');
export const { ACME, GLOBEX, Receiver, SecretLedger, Simulator, Workdir, openLogin, submitLogin, user, waitFor } = harness;

const require = createRequire(import.meta.url);
export const zapier = require('zapier-platform-core');
export const App = require('../index.js');
export const appTester = zapier.createAppTester(App);
export const { PAYLOAD_KEYS } = require('../lib/payload.js');

/** kazoo-bridge with [hooks] allow_private_targets: the stand-in for hooks.zapier.com is on loopback. */
export class Bridge extends harness.Bridge {
  writeConfig(port) {
    super.writeConfig(port);
    appendFileSync(this.config, '[hooks]\nallow_private_targets = true\n');
  }
}

/** Starts kazoo-sim and the daemon, registers a client for `redirect` and points the app at both. */
export async function startStack(wd) {
  const sim = await Simulator.start(wd);
  const redirect = await Receiver.start();
  const bridge = new Bridge(wd, sim);
  const client = bridge.addClient('Zapier', [redirect.callback]);
  await bridge.start();
  // What `zapier env:set` stores for the app (README.md).
  process.env.BRIDGE_URL = bridge.url;
  process.env.CLIENT_ID = client.client_id;
  process.env.CLIENT_SECRET = client.client_secret;
  return { sim, redirect, bridge, client };
}

const b64url = (buf) => buf.toString('base64url');

/**
 * Connects `who` the way Zapier does: renders the app's authorizeUrl, adds what Zapier's backend adds
 * (the app's scope and an S256 PKCE challenge; appTester does neither), signs in on the daemon's page and
 * runs the app's getAccessToken. Returns { authData, authorizeUrl }.
 */
export async function connect(bridge, client, who) {
  const state = b64url(randomBytes(12));
  const rendered = await appTester(App.authentication.oauth2Config.authorizeUrl,
    { inputData: { state, redirect_uri: client.redirect_uri } });
  const url = new URL(rendered);
  const verifier = b64url(randomBytes(32));
  url.searchParams.set('scope', App.authentication.oauth2Config.scope);
  url.searchParams.set('code_challenge', b64url(createHash('sha256').update(verifier).digest()));
  url.searchParams.set('code_challenge_method', 'S256');
  assert.equal(url.origin + url.pathname, `${bridge.url}/oauth/authorize`);
  const page = await openLogin(bridge.url, url.searchParams);
  assert.equal(page.status, 200, page.html.slice(0, 300));
  const res = await submitLogin(bridge.url, page, who);
  assert.equal(res.status, 303, res.text.slice(0, 300));
  const back = new URL(res.location);
  assert.equal(back.searchParams.get('state'), state);
  const authData = await appTester(App.authentication.oauth2Config.getAccessToken, {
    inputData: { code: back.searchParams.get('code'), state, redirect_uri: client.redirect_uri, code_verifier: verifier },
  });
  return { authData, authorizeUrl: url };
}

/** A direct API call with a token (to look behind the app, e.g. at the hook row). */
export async function apiGet(bridge, authData, path) {
  const r = await fetch(bridge.url + path, { headers: { authorization: `Bearer ${authData.access_token}` } });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/**
 * The stand-in for hooks.zapier.com: records every POST (path, headers, exact body) and answers 200 with
 * Zapier's small tracking JSON.
 */
export class HookReceiver {
  static async start() {
    const r = new HookReceiver();
    r.hits = [];
    r.server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        r.hits.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","attempt":"a1","id":"r1","request_id":"q1"}');
      });
    });
    await new Promise((ok) => r.server.listen(0, '127.0.0.1', ok));
    r.base = `http://127.0.0.1:${r.server.address().port}`;
    return r;
  }
  /** A per-Zap target URL, like https://hooks.zapier.com/hooks/standard/123/abc/. */
  target(name) {
    return `${this.base}/hooks/standard/${name}/`;
  }
  hitsFor(name) {
    return this.hits.filter((h) => h.path === `/hooks/standard/${name}/`);
  }
  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((ok) => this.server.close(ok));
  }
}

/** What Zapier hands perform for a received hook: cleanedRequest (parsed body) and rawRequest. */
export function zapierBundleOf(hit, subscribeData, authData) {
  // Zapier renames raw headers other than Content-Type/Length to "Http-" + Camel-Case.
  const camel = (h) => h.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('-');
  const headers = Object.fromEntries(Object.entries(hit.headers).map(([k, v]) =>
    [/^content-(type|length)$/.test(k) ? camel(k) : `Http-${camel(k)}`, v]));
  return {
    authData,
    subscribeData,
    cleanedRequest: { ...JSON.parse(hit.body), querystring: {} },
    rawRequest: { method: hit.method, querystring: '', headers, content: hit.body },
  };
}
