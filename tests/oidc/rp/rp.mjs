// An independent relying party built on panva's openid-client, driven by tests/oidc/test_rp_node.py.
// argv: issuer clientId clientSecret redirectUri postLogoutUri [claims]. `claims`, when given, is the
// OpenID `claims` request parameter (JSON), sent as it is. It prints one JSON line per step and
// reads the callback URL (what the browser was sent to) from standard input.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, clientId, clientSecret, redirectUri, postLogoutUri, claimsRequest] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (value) => process.stdout.write(JSON.stringify(value) + '\n')
const read = async () => (await lines.next()).value

try {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  })
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email phone offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
    ...(claimsRequest ? { claims: claimsRequest } : {}),
  })
  say({ step: 'authorize', url: url.href, state })
  const callback = await read()
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  })
  const claims = tokens.claims()
  // Checks the answer's sub against the ID token's (OpenID Connect Core 5.3.2).
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const refreshedClaims = refreshed.claims()
  const introspected = await client.tokenIntrospection(config, refreshed.access_token)
  await client.tokenRevocation(config, refreshed.access_token)
  const afterRevocation = await client.tokenIntrospection(config, refreshed.access_token)
  let reuse = 'accepted'
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token)
  } catch (error) {
    reuse = error.error || error.code || String(error)
  }
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token, post_logout_redirect_uri: postLogoutUri, state: 'bye-state',
  })
  say({
    step: 'done', claims, userinfo, refreshedClaims, introspected, afterRevocation, reuse,
    endSession: endSession.href,
  })
} catch (error) {
  say({ step: 'error', error: String(error), cause: error.cause ? String(error.cause) : null, code: error.code || null })
  process.exitCode = 1
}
