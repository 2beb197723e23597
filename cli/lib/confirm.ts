import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.js';

/**
 * Asks a yes/no question on the terminal (default no). Never prompts when stdin is not a
 * terminal: then it fails and tells the user to pass --force, so scripts and tests never hang.
 */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliError(`${question.split('\n')[0]} Not confirmed: stdin is not a terminal; use -f/--force`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
