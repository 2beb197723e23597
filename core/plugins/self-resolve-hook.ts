/**
 * A Node module-resolution hook the daemon registers before loading plugins: it resolves the
 * specifier `tiny-docker` (and `tiny-docker/...`) to the running engine's own package, wherever
 * the plugin lives, so every plugin shares the engine's single copy of inversify and its contracts.
 */
interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions: readonly string[];
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string }>;

const ENGINE_PACKAGE_URL = new URL('../../../package.json', import.meta.url).href;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  if (specifier === 'tiny-docker' || specifier.startsWith('tiny-docker/')) {
    return next(specifier, { ...context, parentURL: ENGINE_PACKAGE_URL });
  }
  return next(specifier, context);
}
