// oauth4webapi as a strict OAuth 2.0 client of the daemon: discovery (RFC 8414), authorization request
// with PKCE S256 and state, the authorization response (RFC 9207 iss checked), code exchange, refresh
// with rotation and the grace window, introspection (RFC 7662), revocation (RFC 7009) and a call to
// /api/v1/me. Shared by the browser test and the form-post test, so both log-ins end in the same checks.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import * as oauth from 'oauth4webapi';

// oauth4webapi uses the WebCrypto global at call time; Debian 12's Node 18 only has it behind a flag.
globalThis.crypto ??= webcrypto;

const insecure = { [oauth.allowInsecureRequests]: true };  // loopback http in tests (RFC 8252 §8.3)

/** Discovers the daemon and prepares one authorization request. */
export async function prepare(bridge, client, scope = 'calls dial') {
  const issuer = new URL(bridge.url);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uri,
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  return { as, client: { client_id: client.client_id }, auth: oauth.ClientSecretPost(client.client_secret), verifier, state, url, redirect_uri: client.redirect_uri };
}

async function introspect(f, token) {
  const r = await oauth.introspectionRequest(f.as, f.client, f.auth, token, insecure);
  return oauth.processIntrospectionResponse(f.as, f.client, r);
}

/**
 * From the redirect the app received to revocation. `who` is the fixture user who signed in; the ledger
 * collects every code and token for the log scan. Returns what it issued.
 */
export async function completeFlow(f, callbackUrl, who, ledger) {
  // The authorization response: state and iss (RFC 9207) validated, no error.
  const params = oauth.validateAuthResponse(f.as, f.client, callbackUrl, f.state);
  assert.equal(callbackUrl.searchParams.get('iss'), f.as.issuer);
  ledger.add('code', params.get('code'));

  // Code + PKCE: the strict processing checks the JSON, token_type, Cache-Control: no-store...
  const tokenResponse = await oauth.authorizationCodeGrantRequest(f.as, f.client, f.auth, params, f.redirect_uri, f.verifier, insecure);
  assert.equal(tokenResponse.headers.get('cache-control'), 'no-store');
  const tokens = ledger.addTokens(await oauth.processAuthorizationCodeResponse(f.as, f.client, tokenResponse));
  assert.equal(tokens.token_type, 'bearer');  // oauth4webapi lower-cases it
  assert.ok(tokens.refresh_token, 'a refresh token is issued');
  assert.equal(tokens.scope, 'calls dial');
  assert.ok(tokens.expires_in > 0);

  // The API knows who signed in.
  const me = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(f.as.issuer + '/api/v1/me'), undefined, undefined, insecure);
  assert.equal(me.status, 200);
  const meBody = await me.json();
  assert.equal(meBody.id, who.id);
  assert.equal(meBody.name, `${who.first_name} ${who.last_name}`);
  assert.equal(meBody.account_name, who.account);
  assert.deepEqual([...meBody.scopes].sort(), ['calls', 'dial']);

  let info = await introspect(f, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.sub, who.id);
  assert.equal(info.client_id, f.client.client_id);
  assert.equal(info.iss, f.as.issuer);

  // Refresh rotates: a new access and refresh token.
  const rotated = ledger.addTokens(await oauth.processRefreshTokenResponse(f.as, f.client,
    await oauth.refreshTokenGrantRequest(f.as, f.client, f.auth, tokens.refresh_token, insecure)));
  assert.notEqual(rotated.refresh_token, tokens.refresh_token);
  assert.notEqual(rotated.access_token, tokens.access_token);
  // Within the grace window the previous refresh token still works (two Zap runs refreshing at once).
  const again = ledger.addTokens(await oauth.processRefreshTokenResponse(f.as, f.client,
    await oauth.refreshTokenGrantRequest(f.as, f.client, f.auth, tokens.refresh_token, insecure)));
  assert.notEqual(again.refresh_token, rotated.refresh_token);
  info = await introspect(f, rotated.access_token);
  assert.equal(info.active, true);
  assert.equal(info.token_type, 'Bearer');

  // Revoking the refresh token ends the whole grant (RFC 7009 §2.1), access tokens included.
  await oauth.processRevocationResponse(await oauth.revocationRequest(f.as, f.client, f.auth, rotated.refresh_token, insecure));
  for (const t of [rotated.refresh_token, rotated.access_token, again.access_token, tokens.access_token]) {
    assert.equal((await introspect(f, t)).active, false, 'revoked with its grant');
  }
  const after = await fetch(f.as.issuer + '/api/v1/me', { headers: { authorization: `Bearer ${rotated.access_token}` } });
  assert.equal(after.status, 401);
  // A refresh with a revoked grant is refused by the strict client as invalid_grant.
  await assert.rejects(async () => oauth.processRefreshTokenResponse(f.as, f.client,
    await oauth.refreshTokenGrantRequest(f.as, f.client, f.auth, again.refresh_token, insecure)),
  (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant');
  return { tokens, rotated, again };
}
