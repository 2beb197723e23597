import { InvalidArgumentError } from '../engine/errors.js';

/** Linux signal numbers (x86-64/arm64), by name without the SIG prefix. */
const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21,
  TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

const NAMES: readonly string[] = (() => {
  const out: string[] = [];
  for (const [name, n] of Object.entries(SIGNALS)) out[n] ??= name;
  return out;
})();

/**
 * Normalises the signal forms clients send ("TERM", "SIGTERM", "sigterm", "15", "SIGRTMIN+3")
 * to "SIGTERM"-style names. Throws a 400 for an unknown signal, with moby's wording.
 */
export function normaliseSignal(value: string): string {
  const v = value.trim().toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n < NAMES.length && NAMES[n]) return `SIG${NAMES[n]}`;
    if (n >= 32 && n <= 64) return String(n);
    throw new InvalidArgumentError(`Invalid signal: ${value}`);
  }
  const bare = v.startsWith('SIG') ? v.slice(3) : v;
  if (SIGNALS[bare] !== undefined) return `SIG${bare}`;
  if (/^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(bare)) return `SIG${bare}`;
  throw new InvalidArgumentError(`Invalid signal: ${value}`);
}

/** The number of a signal given in any form, or undefined when unknown ("SIGKILL" → 9). */
export function signalNumber(value: string): number | undefined {
  const v = value.trim().toUpperCase();
  if (/^\d+$/.test(v)) return Number(v);
  const bare = v.startsWith('SIG') ? v.slice(3) : v;
  return SIGNALS[bare];
}
