import { loadHelpClass, type Hook } from '@oclif/core';

/**
 * oclif's `command_not_found` hook: `mini-docker help [COMMAND]` shows the help (as `docker help
 * run`), and an unknown command is one line and exit 1, as the docker CLI says it, instead of
 * oclif's ` ›   Error: command foo not found` and exit 2.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const bin = this.config.bin;
  const unknown = (name: string): never => {
    process.stderr.write(`Error: '${name}' is not a ${bin} command. See '${bin} --help'.\n`);
    return process.exit(1);
  };
  if (options.id === 'help' || options.id.startsWith('help:')) {
    const words = [...options.id.split(':').slice(1), ...(options.argv ?? [])];
    if (words.length > 0 && !this.config.findCommand(words.join(':')) && !this.config.findTopic(words.join(':'))) unknown(words.join(' '));
    const Help = await loadHelpClass(this.config);
    await new Help(this.config).showHelp(words);
    return;
  }
  unknown(options.id.split(':').join(' '));
};

export default hook;
