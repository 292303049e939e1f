// A local OpenID Provider (node-oidc-provider) shaped like Microsoft Entra ID tenants, for tests.
//
// Usage: node server.mjs config.json   (prints "ready <port>" once listening)
// config: {port, cert, key, tenants: [{id, clients: [...oidc-provider client metadata],
//          accounts: {login: {oid, sub?, email?, name?, amr?}}, conform?: bool}]}
// Each tenant is served at https://127.0.0.1:<port>/<tenant-id>/v2.0 (its issuer), with `tid`
// and `oid` in the ID token like Entra's v2.0 endpoint. By default the ID token also carries the
// profile and e-mail claims; a `conform` tenant keeps them for its userinfo endpoint (the ID
// token has only sub, tid, oid, amr), as OpenID Connect Core 5.4 allows for the code flow.
// POST /_control/<tenant-id> with JSON {"id_token": {"claim": value | null}, "foreign_key": bool,
// "userinfo": {"claim": value | null}, "userinfo_status": int} makes the tenant misbehave on its
// next token or userinfo responses (a claim changed and re-signed, a key it does not publish, a
// userinfo claim changed, an error status at userinfo); {} puts it back to normal.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = `https://127.0.0.1:${config.port}`;

const b64 = (buf) => Buffer.from(buf).toString('base64url');
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function rsaKey(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

function resign(idToken, overrides, key) {
  const [, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  for (const [name, value] of Object.entries(overrides || {})) {
    if (value === null) delete claims[name];
    else claims[name] = value;
  }
  const header = b64(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
  const body = b64(JSON.stringify(claims));
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${body}`), key.privateKey);
  return `${header}.${body}.${b64(signature)}`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function page(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Tenant sign-in</title></head><body>${html}</body></html>`);
}

function buildTenant(tenant) {
  const key = rsaKey(`${tenant.id}-1`);
  const foreign = rsaKey(`${tenant.id}-1`); // same kid, key the tenant does not publish
  const state = { control: {} };
  const accounts = tenant.accounts || {};
  const provider = new Provider(`${origin}/${tenant.id}/v2.0`, {
    clients: tenant.clients,
    jwks: { keys: [key.jwk] },
    cookies: { keys: ['tenant-test-cookie-key'] },
    conformIdTokenClaims: Boolean(tenant.conform),
    claims: {
      openid: ['sub', 'tid', 'oid', 'amr'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/${tenant.id}/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          // name and preferred_username default to the login; an empty one is left out.
          const claims = { sub: account.sub || `pairwise-${account.oid}`, oid: account.oid, tid: tenant.id };
          const name = 'name' in account ? account.name : id;
          const username = 'preferred_username' in account ? account.preferred_username : id;
          if (name) claims.name = name;
          if (username) claims.preferred_username = username;
          if (account.email) claims.email = account.email;
          return claims;
        },
      };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    const control = state.control;
    if (ctx.oidc?.route === 'token' && ctx.body?.id_token && (control.id_token || control.foreign_key)) {
      ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, control.id_token, control.foreign_key ? foreign : key) };
    }
    if (ctx.oidc?.route === 'userinfo' && control.userinfo_status) {
      ctx.status = control.userinfo_status;
      ctx.body = { error: 'server_error', error_description: 'the tenant was told to fail' };
    } else if (ctx.oidc?.route === 'userinfo' && control.userinfo && ctx.body) {
      const body = { ...ctx.body };
      for (const [name, value] of Object.entries(control.userinfo)) {
        if (value === null) delete body[name];
        else body[name] = value;
      }
      ctx.body = body;
    }
  });
  return { tenant, provider, state, accounts, callback: provider.callback() };
}

const tenants = new Map(config.tenants.map((t) => [t.id, buildTenant(t)]));

async function interaction(t, req, res, rest) {
  const { provider } = t;
  const details = await provider.interactionDetails(req, res);
  const action = `/${t.tenant.id}/interaction/${details.uid}`;
  if (details.prompt.name === 'consent') {
    // Work accounts in a tenant consent through the admin: grant what the client asked for.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST' && rest === '/login') {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('cancel')) {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'AADSTS50126: the user cancelled the sign-in.',
      }, { mergeWithLastSubmission: false });
    }
    const login = form.get('login') || '';
    if (!t.accounts[login]) {
      return page(res, 400, `<p>Unknown account.</p><form method="post" action="${action}/login"><label>Account <input name="login"></label><button>Next</button></form>`);
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: login, amr: t.accounts[login].amr },
    }, { mergeWithLastSubmission: false });
  }
  return page(res, 200, `<h1>Tenant ${escape(t.tenant.id)}</h1>`
    + `<form method="post" action="${action}/login"><label>Account <input name="login" value="${escape(details.params.login_hint || '')}"></label>`
    + '<button type="submit">Next</button> <button type="submit" name="cancel" value="1">Cancel</button></form>');
}

const server = https.createServer({ cert: fs.readFileSync(config.cert), key: fs.readFileSync(config.key) }, async (req, res) => {
  try {
    const url = new URL(req.url, origin);
    const [, first, second, ...more] = url.pathname.split('/');
    if (first === '_control' && req.method === 'POST' && tenants.has(second)) {
      tenants.get(second).state.control = JSON.parse((await readBody(req)) || '{}');
      res.writeHead(204);
      return res.end();
    }
    const t = tenants.get(first);
    if (!t) {
      res.writeHead(404);
      return res.end('unknown tenant');
    }
    if (second === 'v2.0') {
      const prefix = `/${first}/v2.0`;
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || '/';
      return t.callback(req, res);
    }
    if (second === 'interaction') {
      return await interaction(t, req, res, more.length > 1 ? `/${more.slice(1).join('/')}` : '');
    }
    res.writeHead(404);
    return res.end('not found');
  } catch (err) {
    process.stderr.write(`${err.stack}\n`);
    if (!res.headersSent) page(res, 500, `<p>${escape(err.message)}</p>`);
    return undefined;
  }
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
