// The benchmark's peer: node-oidc-provider, one process, in-memory adapter. It seeds the tokens the
// load needs (a grant, an access token, N refresh tokens) and writes them to TOKENS_FILE.
// usage: node server.mjs PORT TOKENS_FILE N
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import Provider from 'oidc-provider'

const [port, tokensFile, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] || 1000)]
const issuer = `http://127.0.0.1:${port}`
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })

// oidc-provider's own development adapter is an LRU of 1,000 entries, fewer than the seeded
// tokens; this one is the same idea (process memory) without eviction.
const store = new Map()
const grants = new Map()
class MemoryAdapter {
  constructor (model) { this.model = model }
  key (id) { return `${this.model}:${id}` }
  async upsert (id, payload, expiresIn) {
    store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity })
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set())
      grants.get(payload.grantId).add(this.key(id))
    }
  }
  async find (id) {
    const entry = store.get(this.key(id))
    if (!entry || entry.expiresAt < Date.now()) return undefined
    return entry.payload
  }
  async findByUid (uid) {
    for (const entry of store.values()) if (entry.payload.uid === uid) return entry.payload
    return undefined
  }
  async findByUserCode () { return undefined }
  async consume (id) {
    const entry = store.get(this.key(id))
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000)
  }
  async destroy (id) { store.delete(this.key(id)) }
  async revokeByGrantId (grantId) {
    for (const key of grants.get(grantId) || []) store.delete(key)
    grants.delete(grantId)
  }
}

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  clients: [
    {
      client_id: 'bench-rp', client_secret: 'bench-rp-secret', redirect_uris: ['https://rp.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    },
    {
      client_id: 'bench-service', client_secret: 'bench-service-secret', redirect_uris: [],
      grant_types: ['client_credentials'], response_types: [], scope: 'reports',
    },
  ],
  jwks: { keys: [{ ...rsa, kid: 'rs', alg: 'RS256', use: 'sig' }, { ...ec, kid: 'es', alg: 'ES256', use: 'sig' }] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'reports'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    // PEER_JWT_ACCESS_TOKENS=1: the service client's tokens are RFC 9068 JWTs signed with RS256,
    // the same work as the service under test does for every access token. Otherwise they are
    // the peer's default, opaque tokens kept in process memory.
    resourceIndicators: {
      enabled: process.env.PEER_JWT_ACCESS_TOKENS === '1',
      defaultResource: (ctx, client) => (client && client.clientId === 'bench-service' ? 'urn:bench:reports' : undefined),
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({
        scope: 'reports', audience: 'urn:bench:reports', accessTokenTTL: 600,
        accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // Same policy as the service under test: rotate at every use.
  rotateRefreshToken: true,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: 'bench@example.com', email_verified: false, name: 'Bench Person' }),
  }),
  cookies: { keys: ['bench-cookie-key'] },
})

const client = await provider.Client.find('bench-rp')
const grant = new provider.Grant({ accountId: 'bench-person', clientId: 'bench-rp' })
grant.addOIDCScope('openid email profile offline_access')
const grantId = await grant.save()
const now = Math.floor(Date.now() / 1000)
const access = await new provider.AccessToken({
  accountId: 'bench-person', client, grantId, scope: 'openid email profile', gty: 'authorization_code',
}).save()
const refresh = []
for (let i = 0; i < count; i += 1) {
  refresh.push(await new provider.RefreshToken({
    accountId: 'bench-person', client, grantId, scope: 'openid email profile offline_access',
    gty: 'authorization_code', authTime: now,
  }).save())
}
writeFileSync(tokensFile, JSON.stringify({
  access_token: access, refresh_tokens: refresh,
  rp: ['bench-rp', 'bench-rp-secret'], service: ['bench-service', 'bench-service-secret'],
}))
provider.listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${issuer}\n`))
