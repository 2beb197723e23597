/**
 * Loads @oclif/core, for help, `plugins …` and the commands of plugins. The CLI's bundle
 * (scripts/build.mjs) replaces this module with a `require` of the same package: the bundle runs in
 * a vm.Script, where a dynamic import() has no loader.
 */
export function loadOclif(): Promise<typeof import('@oclif/core')> {
  return import('@oclif/core');
}
