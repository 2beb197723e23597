// Its own module, importing nothing: the CLI's tables (cli/lib/human.ts) use it without loading
// the presenters and what they import (node:crypto among them, ~2 ms of a command's start).

/**
 * Docker's go-units HumanDuration: "Less than a second", "1 second", "5 seconds", "About a minute",
 * "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "4 months", "2 years".
 * Takes milliseconds; negative durations (clock skew) read as "Less than a second".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}
