// End-to-end harness for the JavaScript suites: the real kazoo-sim and kazoo-bridge binaries as child
// processes on 127.0.0.1, a temp dir with their config, SQLite file and logs, OAuth clients registered
// with `kazoo-bridge client add`, and a node:http redirect receiver. The JS twin of tests/e2e/harness.py;
// paths come from the same environment CTest sets (KB_E2E_BRIDGE_BIN, KB_E2E_SIM_BIN, KB_E2E_SOURCE_DIR).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, chmodSync, closeSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const BRIDGE = process.env.KB_E2E_BRIDGE_BIN ?? 'build/dev/src/kazoo-bridge';
export const SIM = process.env.KB_E2E_SIM_BIN ?? 'build/dev/tools/kazoo-sim/kazoo-sim';
export const SOURCE_DIR = process.env.KB_E2E_SOURCE_DIR ?? '.';
export const CHROMIUM = process.env.KB_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The simulator's fixture: accounts with users and their clear-text passwords. */
export const FIXTURE = JSON.parse(readFileSync(join(SOURCE_DIR, 'tools/kazoo-sim/fixtures/account.json'), 'utf8'));
export const ACME = FIXTURE.accounts.find((a) => a.name === 'acme');
export const GLOBEX = FIXTURE.accounts.find((a) => a.name === 'globex');
export const user = (account, name) => ({ ...account.users.find((u) => u.username === name), account: account.name });

/** Polls `predicate` (sync or async) until it returns a truthy value; generous default for ASan builds. */
export async function waitFor(predicate, { timeout = 120_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A free loopback port (the daemon's issuer must name its real port, so it cannot listen on port 0). */
async function freePort() {
  const srv = createNetServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

export class Workdir {
  constructor() {
    this.path = mkdtempSync(join(tmpdir(), 'kb-js-'));
  }
  file(name) {
    return join(this.path, name);
  }
  /** Wraps a test body: a failure keeps the directory (logs, screenshots) for the post-mortem. */
  guard(fn) {
    return async (t) => {
      try {
        return await fn(t);
      } catch (e) {
        this.failed = true;
        throw e;
      }
    };
  }
  remove() {
    if (this.failed || process.env.KB_E2E_KEEP) console.log(`[e2e] kept ${this.path}`);
    else rmSync(this.path, { recursive: true, force: true });
  }
}

export class Simulator {
  /** kazoo-sim on port 0; `info` is its start line (ws_url, api_url, api_key, account_id). */
  static async start(workdir) {
    const s = new Simulator();
    s.logFd = openSync(workdir.file('kazoo-sim.log'), 'w');
    s.proc = spawn(SIM, ['--ws-listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', s.logFd],
    });
    const lines = createInterface({ input: s.proc.stdout });
    const first = await new Promise((resolve, reject) => {
      lines.once('line', resolve);
      s.proc.once('exit', (code) => reject(new Error(`kazoo-sim exited ${code}`)));
    });
    s.info = JSON.parse(first);
    s.control = s.info.api_url.replace(/\/v2$/, '') + '/sim';
    return s;
  }
  async play(scenario, extra = {}) {
    const r = await fetch(this.control + '/play', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scenario, flavour: 'kz43', count: 1, speed: 100, ...extra }),
    });
    if (!r.ok) throw new Error(`/sim/play ${scenario}: ${r.status} ${await r.text()}`);
    return r.json();
  }
  async stop() {
    await stopProcess(this.proc);
    closeSync(this.logFd);
  }
}

async function stopProcess(proc, signal = 'SIGTERM') {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** The environment of kazoo-bridge: ours without KAZOO_BRIDGE_* (a developer's overrides must not leak in). */
function bridgeEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KAZOO_BRIDGE_')));
  return { ...env, ...extra };
}

export class Bridge {
  /**
   * kazoo-bridge serve with its own config; `oauth` is the [oauth] table (key -> TOML literal),
   * `apiKey` the Kazoo API key (default: the simulator's, i.e. acme's), `db` a database to share.
   */
  constructor(workdir, sim, { name = 'kb', oauth = {}, apiKey, db } = {}) {
    this.workdir = workdir;
    this.sim = sim;
    this.name = name;
    this.oauth = oauth;
    this.db = db ?? workdir.file(`${name}.db`);
    this.config = workdir.file(`${name}.toml`);
    this.logPath = workdir.file(`${name}.log`);
    this.apiKey = apiKey ?? sim.info.api_key;
    writeFileSync(this.logPath, '');
    this.writeConfig(0);
  }

  writeConfig(port) {
    const oauth = Object.entries(this.oauth).map(([k, v]) => `${k} = ${v}`).join('\n');
    writeFileSync(this.config, `[server]
listen = "127.0.0.1:${port}"
public_url = "http://127.0.0.1:${port}"
[storage]
database = "${this.db}"
[kazoo]
api_url = "${this.sim.info.api_url}"
websocket_url = "${this.sim.info.ws_url}"
[oauth]
${oauth}
[log]
level = "debug"
`);
    chmodSync(this.config, 0o600);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts serve and waits for its port (read from its log, like harness.py) and /readyz. */
  async start() {
    for (let attempt = 0; ; ++attempt) {
      const port = await freePort();
      this.writeConfig(port);
      const offset = readFileSync(this.logPath).length;
      const fd = openSync(this.logPath, 'a');
      this.proc = spawn(BRIDGE, ['serve', '--config', this.config], {
        stdio: ['ignore', fd, fd],
        env: bridgeEnv({ KAZOO_BRIDGE_KAZOO_API_KEY: this.apiKey }),
      });
      closeSync(fd);
      let exited = false;
      this.proc.once('exit', () => (exited = true));
      const found = await waitFor(() => {
        const text = this.logText().slice(offset);
        const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(text);
        if (m) return Number(m[1]);
        if (exited) return { exited: text.slice(-2000) };
        return null;
      }, { what: `${this.name} to listen` });
      if (typeof found === 'number') {
        if (found !== port) throw new Error(`${this.name} listens on ${found}, configured ${port}`);
        this.port = found;
        break;
      }
      // Lost the race for the free port to another process: try another one.
      if (attempt < 2 && /address already in use/i.test(found.exited)) continue;
      throw new Error(`${this.name} exited: ${found.exited}`);
    }
    await waitFor(async () => (await fetch(this.url + '/readyz').catch(() => null))?.status === 200,
      { what: `${this.name} /readyz` });
    return this;
  }

  async stop() {
    await stopProcess(this.proc);
  }

  logText() {
    return readFileSync(this.logPath, 'utf8');
  }

  /** Runs a kazoo-bridge sub-command against this config; throws on a non-zero exit unless check is false. */
  cli(args, { check = true } = {}) {
    const r = spawnSync(BRIDGE, [...args, '--config', this.config], {
      encoding: 'utf8',
      env: bridgeEnv(),
      timeout: 120_000,
    });
    if (check && r.status !== 0) throw new Error(`kazoo-bridge ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r;
  }

  /** `client add`: registers a confidential client; returns { client_id, client_secret }. */
  addClient(name, redirectUris) {
    const out = this.cli(['client', 'add', '--name', name, ...redirectUris.flatMap((u) => ['--redirect-uri', u])]).stdout;
    const get = (k) => new RegExp(`^${k}\\s+(\\S+)$`, 'm').exec(out)?.[1];
    const c = { client_id: get('client_id'), client_secret: get('client_secret'), redirect_uri: redirectUris[0] };
    if (!c.client_id || !c.client_secret) throw new Error(`client add printed no id/secret: ${out}`);
    return c;
  }

  clientList() {
    return this.cli(['client', 'list', '--json']).stdout;
  }

  jsonLines(args) {
    return this.cli([...args, '--json', '--limit', '1000000']).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  async metrics() {
    const r = await fetch(this.url + '/metrics');
    if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
    return parseMetrics(await r.text());
  }
}

/** Prometheus text -> Map("name{a="b",...}" with labels sorted -> value). */
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`bad metrics line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => `${x[1]}="${x[2]}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

/** A node:http redirect receiver at /cb: records every request's URL, answers a small page. */
export class Receiver {
  static async start() {
    const r = new Receiver();
    r.hits = [];
    r.server = createServer((req, res) => {
      r.hits.push(new URL(req.url, r.base));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>back in the app</title><p>Connected.</p>');
    });
    await new Promise((ok) => r.server.listen(0, '127.0.0.1', ok));
    r.base = `http://127.0.0.1:${r.server.address().port}`;
    r.callback = r.base + '/cb';
    return r;
  }
  /** Redirects that carried a code. */
  codes() {
    return this.hits.filter((u) => u.searchParams.has('code'));
  }
  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((ok) => this.server.close(ok));
  }
}

// ---- The login page without a browser (what a form post does), for the strict-client and hostile suites.

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** GET /oauth/authorize: { status, headers, html, fields (hidden inputs), cookie }. */
export async function openLogin(bridgeUrl, params, cookie) {
  const qs = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  const r = await fetch(`${bridgeUrl}/oauth/authorize?${qs}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const html = await r.text();
  const fields = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)].map((m) => [m[1], unescapeHtml(m[2])]));
  const setCookie = r.headers.get('set-cookie');
  return { status: r.status, headers: r.headers, html, fields, cookie: setCookie ? setCookie.split(';')[0] : cookie };
}

/** POST /oauth/authorize with a urlencoded body (a URLSearchParams keeps repeated keys). */
export async function postForm(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body instanceof URLSearchParams ? body : new URLSearchParams(body),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json, location: r.headers.get('location') };
}

/** Signs `who` in on a login page opened with `openLogin`; returns the POST's answer. */
export async function submitLogin(bridgeUrl, page, who, extra = {}) {
  return postForm(`${bridgeUrl}/oauth/authorize`,
    { ...page.fields, account: who.account, username: who.username, password: who.password, decision: 'allow', ...extra },
    page.cookie ? { cookie: page.cookie } : {});
}

/** Every secret a suite handled; the daemon's log must contain none of them (design: secrets never logged). */
export class SecretLedger {
  constructor() {
    this.values = new Map();
  }
  add(kind, value) {
    if (typeof value === 'string' && value.length >= 6) this.values.set(value, kind);
    return value;
  }
  addTokens(t) {
    this.add('access token', t.access_token);
    this.add('refresh token', t.refresh_token);
    return t;
  }
  leaksIn(text) {
    return [...this.values].filter(([v]) => text.includes(v)).map(([v, kind]) => `${kind} ${v.slice(0, 6)}...`);
  }
}
