import { randomBytes, randomInt } from 'node:crypto';
import { constants } from 'node:os';
import { InvalidArgumentError } from './errors.js';

const ADJECTIVES = ['admiring', 'bold', 'brave', 'clever', 'dazzling', 'eager', 'festive', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'wizardly', 'zen'];
const NAMES = ['babbage', 'curie', 'darwin', 'euler', 'faraday', 'galois', 'hopper', 'jepsen', 'knuth', 'lamport', 'lovelace', 'mccarthy', 'noether', 'pike', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak'];

/** A Docker-style generated name ("jolly_turing"), avoiding the names in use. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    const name = i < 10 ? base : `${base}${i}`;
    if (!taken(name)) return name;
  }
  return `container_${randomBytes(4).toString('hex')}`;
}

/** 64 hex characters. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** "TERM", "SIGTERM", "15" → 15; throws a one-line error for anything else. */
export function parseSignal(signal: string): number {
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && n < 65) return n;
  } else {
    const name = (s.startsWith('SIG') ? s : `SIG${s}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (typeof n === 'number') return n;
  }
  throw new InvalidArgumentError(`invalid signal: ${signal}`);
}

export function signalName(n: number): string {
  const entry = Object.entries(constants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : String(n);
}
