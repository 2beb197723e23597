/**
 * IPv4 addresses and CIDR subnets as plain numbers: parsing, formatting and overlap. Pure; the
 * IPAM (ipam.ts) and the port and resolver code build on it.
 */

/** A subnet: its first address (as an unsigned 32-bit number) and its prefix length. */
export interface Subnet {
  readonly base: number;
  readonly prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a number, or null when `text` is not a dotted IPv4 address. */
export function parseIpv4(text: string): number | null {
  const m = IPV4.exec(text);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return null; // 010 is octal to some parsers: refuse it
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The netmask of a prefix length as a number (0 for /0). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "172.18.0.0/16"; null when malformed. Host bits are cleared only when `strict` is false. */
export function parseSubnet(text: string, strict = false): Subnet | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === null || !/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 32) return null;
  const base = (address & maskOf(prefix)) >>> 0;
  if (strict && base !== address) return null;
  return { base, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIpv4(subnet.base)}/${subnet.prefix}`;
}

/** How many addresses the subnet spans. */
export function sizeOf(subnet: Subnet): number {
  return 2 ** (32 - subnet.prefix);
}

export function lastAddress(subnet: Subnet): number {
  return subnet.base + sizeOf(subnet) - 1;
}

export function contains(subnet: Subnet, address: number): boolean {
  return address >= subnet.base && address <= lastAddress(subnet);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}
