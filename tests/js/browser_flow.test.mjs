// The whole authorization flow in a real browser: Debian's Chromium, headless, driven by playwright-core
// (which never downloads a browser). The login page (app name, scopes, CSRF field, CSP), a wrong password,
// the right one, the redirect with code + state + iss, then oauth4webapi completes code + PKCE, refresh,
// revocation and introspection (strict_client.mjs). Also: the page without JavaScript and on a phone.
// Without /usr/bin/chromium (`make bootstrap` installs it) the tests are reported as skipped.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { ACME, Bridge, CHROMIUM, Receiver, SecretLedger, Simulator, Workdir, user, waitFor } from './harness.mjs';
import { completeFlow, prepare } from './strict_client.mjs';

const haveChromium = existsSync(CHROMIUM);

describe('Chromium', { skip: haveChromium ? false : `no browser at ${CHROMIUM} (run make bootstrap)` }, () => {
  let wd, sim, bridge, receiver, client, browser;
  const ledger = new SecretLedger();

  before(async () => {
    const { chromium } = await import('playwright-core');
    wd = new Workdir();
    sim = await Simulator.start(wd);
    receiver = await Receiver.start();
    bridge = new Bridge(wd, sim, { oauth: { product_name: '"Acme Voice"' } });
    client = bridge.addClient('Zap Test App', [receiver.callback]);
    ledger.add('client secret', client.client_secret);
    await bridge.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  after(async () => {
    await browser?.close();
    await bridge?.stop();
    await sim?.stop();
    await receiver?.stop();
    wd?.remove();
  });

  test('login page, wrong password, right password, redirect with code, then the strict client', () => wd.guard(async () => {
    const alice = user(ACME, 'alice');
    ledger.add('password', alice.password);
    const f = await prepare(bridge, client);
    const context = await browser.newContext();
    const page = await context.newPage();

    const response = await page.goto(f.url.href);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.equal(response.headers()['x-frame-options'], 'DENY');
    assert.equal(response.headers()['cache-control'], 'no-store');
    assert.match(await page.locator('h1').innerText(), /Sign in to Acme Voice/);
    assert.match(await page.locator('.app').innerText(), /Zap Test App/);
    const scopes = await page.locator('.app li').allInnerTexts();
    assert.deepEqual(scopes, ['See your calls and be notified of new ones', 'Place calls from your phone (click-to-call)']);
    assert.equal(await page.locator('form input[type=hidden][name=csrf_token]').count(), 1);
    assert.ok((await page.locator('input[name=csrf_token]').getAttribute('value')).length > 20);
    await page.screenshot({ path: wd.file('login-page.png'), fullPage: true });

    // A wrong password: the clear message, still on the form (user name kept, password not echoed), no redirect.
    const wrong = 'not-' + alice.password;
    ledger.add('password', wrong);
    await page.fill('#account', alice.account);
    await page.fill('#username', alice.username);
    await page.fill('#password', wrong);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('button[value=allow]')]);
    assert.equal(answer.status(), 400);
    assert.equal(await page.locator('#form-error').innerText(), 'The account name, user name or password is wrong.');
    assert.equal(new URL(page.url()).pathname, '/oauth/authorize');
    assert.equal(await page.inputValue('#username'), alice.username);
    assert.equal(await page.inputValue('#password'), '');
    assert.ok(!(await page.content()).includes(wrong));
    assert.equal(receiver.hits.length, 0, 'no redirect to the app');

    // The right password: signing in is the consent (one step); the browser lands on the app with a code.
    await page.fill('#account', alice.account);
    await page.fill('#password', alice.password);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(receiver.callback)), page.click('button[value=allow]')]);
    await waitFor(() => receiver.codes().length === 1, { what: 'the redirect with a code' });
    const callback = receiver.codes()[0];
    assert.equal(callback.searchParams.get('state'), f.state);
    assert.equal(callback.searchParams.get('iss'), bridge.url);
    assert.match(await page.locator('body').innerText(), /Connected/);
    await context.close();

    await completeFlow(f, callback, alice, ledger);
  })());

  test('the login page works without JavaScript and at a phone viewport', () => wd.guard(async () => {
    const carol = user(ACME, 'carol');
    ledger.add('password', carol.password);
    const f = await prepare(bridge, client);
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 375, height: 667 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    await page.goto(f.url.href);
    // Nothing overflows sideways on a phone and the buttons are reachable.
    // (Playwright evaluates in its own isolated world, which works with the page's JavaScript disabled.)
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `page is ${width}px wide`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 0, 'the page has no script');
    const box = await page.locator('button[value=allow]').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, JSON.stringify(box));
    assert.ok(box.height >= 32, 'a touch-sized button');
    await page.screenshot({ path: wd.file('login-page-phone.png'), fullPage: true });
    const before = receiver.codes().length;
    await page.fill('#account', carol.account);
    await page.fill('#username', carol.username);
    await page.fill('#password', carol.password);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(receiver.callback)), page.tap('button[value=allow]')]);
    await waitFor(() => receiver.codes().length === before + 1, { what: 'the redirect with a code' });
    const callback = receiver.codes().at(-1);
    assert.equal(callback.searchParams.get('state'), f.state);
    ledger.add('code', callback.searchParams.get('code'));
    await context.close();
  })());

  test('the daemon log holds no password, code, token or client secret', () => wd.guard(async () => {
    await bridge.stop();
    assert.ok(ledger.values.size >= 10, `the ledger holds what the suite used (${ledger.values.size})`);
    assert.deepEqual(ledger.leaksIn(bridge.logText()), []);
  })());
});
