import type { Handler } from './http.js';

interface Route {
  method: string;
  /** The path as registered, `{name}` placeholders included. */
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
  minVersion?: string;
}

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
  minVersion?: string;
}

/**
 * Path patterns use `{name}` for one segment and `{name:.*}` for the rest
 * (docker's volume routes take names with slashes).
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler, opts: { minVersion?: string } = {}): this {
    const keys: string[] = [];
    const source = path
      .split(/(\{\w+(?::\.\*)?\})/)
      .map((part) => {
        const m = /^\{(\w+)(:\.\*)?\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^$()[\]\\|{}]/g, '\\$&');
        keys.push(m[1]!);
        return m[2] ? '(.*)' : '([^/]+)';
      })
      .join('');
    this.routes.push({ method, path, pattern: new RegExp(`^${source}$`), keys, handler, minVersion: opts.minVersion });
    return this;
  }

  match(method: string, path: string): RouteMatch | undefined {
    for (const route of this.routes) {
      // HEAD is answered by GET routes unless one is registered for it.
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET' && !this.hasExact('HEAD', path))) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = safeDecode(m[i + 1] ?? '');
      });
      return { handler: route.handler, params, minVersion: route.minVersion };
    }
    return undefined;
  }

  /** Every registered route (method, path template, minimum API version), in match order. */
  list(): Array<{ method: string; path: string; minVersion?: string }> {
    return this.routes.map((r) => ({ method: r.method, path: r.path, minVersion: r.minVersion }));
  }

  private hasExact(method: string, path: string): boolean {
    return this.routes.some((r) => r.method === method && r.pattern.test(path));
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
