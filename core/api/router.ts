import { InvalidArgumentError } from '../engine/errors.js';
import type { RouteHandler } from './exchange.js';

interface Route {
  readonly method: string;
  readonly regex: RegExp;
  readonly keys: readonly string[];
  readonly handler: RouteHandler;
}

export interface RouteMatch {
  readonly handler: RouteHandler;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * A small method + path router. Patterns use `{name}` for one path segment and `{name:.*}` for a
 * greedy parameter that may contain slashes (image names: `/images/{name:.*}/json`). Routes are
 * tried in the order they were added; parameters are URL-decoded.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const source = pattern
      .split(/(\{[a-zA-Z]+(?::\.\*)?\})/)
      .map((part) => {
        const m = /^\{([a-zA-Z]+)(:\.\*)?\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        keys.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('');
    this.routes.push({ method, regex: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  get(pattern: string, handler: RouteHandler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: RouteHandler): this {
    return this.add('POST', pattern, handler);
  }

  delete(pattern: string, handler: RouteHandler): this {
    return this.add('DELETE', pattern, handler);
  }

  /** The handler for a request, or undefined (the server answers 404 "page not found"). */
  match(method: string, path: string): RouteMatch | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        const raw = m[i + 1]!;
        try {
          params[key] = decodeURIComponent(raw);
        } catch {
          throw new InvalidArgumentError(`malformed path parameter ${key}: ${raw}`);
        }
      });
      return { handler: route.handler, params };
    }
    return undefined;
  }
}
