// POST /auth: docker login asks the daemon to check credentials against a
// registry; the answer is {"Status": "Login Succeeded", "IdentityToken": ""}.
import type { Router } from '../router.js';
import { readJsonObject, sendJson } from '../http.js';
import { authConfigFrom, type AuthConfig } from '../../registry/auth.js';
import type { LoginResult } from '../../registry/login.js';

export interface AuthBackend {
  login(auth: AuthConfig): Promise<LoginResult>;
}

export function registerAuthRoutes(router: Router, backend: AuthBackend): void {
  router.add('POST', '/auth', async (ctx) => {
    const auth = authConfigFrom(await readJsonObject(ctx.req));
    sendJson(ctx.res, 200, await backend.login(auth));
  });
}
