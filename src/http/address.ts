/**
 * Client addresses in one canonical form, so that one client is one key
 * however its address is written (`2001:DB8::7`, `2001:db8:0:0::7`,
 * `::ffff:192.0.2.1` for 192.0.2.1), and networks cut from it for rate limits
 * (an IPv6 client holds a whole /64) and for session binding (/24, /48).
 * Hand-written: it parses the one header Cloudflare's edge sets
 * (`CF-Connecting-IP`), bounded, with no regular expression over untrusted
 * input longer than an address.
 */

/** A parsed address: IPv4 as 4 bytes, IPv6 as 8 groups. */
export type Address = { v: 4; bytes: number[] } | { v: 6; groups: number[] };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** The longest text an address can be written in (IPv6 with an embedded IPv4, and a zone left out). */
const MAX_ADDRESS_LENGTH = 45;

function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  const bytes = match?.slice(1).map(Number);
  return bytes?.every((byte) => byte <= 255) ? bytes : undefined;
}

/** Eight 16-bit groups, or undefined; `::` and a trailing dotted IPv4 are understood. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const side = (part: string) => (part === "" ? [] : part.split(":"));
  const [head, tail] = [side(halves[0]), halves.length === 2 ? side(halves[1]) : []];
  const last = (tail.length > 0 ? tail : head).at(-1) ?? "";
  const embedded = last.includes(".") ? parseIpv4(last) : undefined;
  if (last.includes(".") && !embedded) return undefined;
  if (embedded)
    (tail.length > 0 ? tail : head).splice(-1, 1, ((embedded[0] << 8) | embedded[1]).toString(16), ((embedded[2] << 8) | embedded[3]).toString(16));
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  return groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group)) ? groups.map((group) => Number.parseInt(group, 16)) : undefined;
}

/** Parses an address; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address. */
export function parseAddress(text: string): Address | undefined {
  if (text.length > MAX_ADDRESS_LENGTH) return undefined;
  const v4 = parseIpv4(text);
  if (v4) return { v: 4, bytes: v4 };
  const groups = text.includes(":") ? parseIpv6(text) : undefined;
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  return mapped ? { v: 4, bytes: [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255] } : { v: 6, groups };
}

/**
 * The address cut to its first `bits` (IPv6) or `v4Bits` (IPv4), in canonical
 * form: IPv4 dotted, IPv6 as lower-case groups without leading zeros, joined
 * by `:`, followed by `/prefix` when cut. Text that is not an address is
 * returned as it is, cut to its bound (it then keys only itself).
 */
export function networkKey(text: string, v6Bits: number, v4Bits = 32): string {
  const address = parseAddress(text);
  if (!address) return text.slice(0, MAX_ADDRESS_LENGTH);
  if (address.v === 4) {
    const kept = address.bytes.map((byte, i) => byte & (0xff << Math.max(0, 8 - Math.max(0, v4Bits - i * 8))) & 0xff);
    return `${kept.join(".")}${v4Bits < 32 ? `/${v4Bits}` : ""}`;
  }
  const kept = address.groups.map((group, i) => group & (0xffff << Math.max(0, 16 - Math.max(0, v6Bits - i * 16))) & 0xffff);
  return `${kept.map((group) => group.toString(16)).join(":")}${v6Bits < 128 ? `/${v6Bits}` : ""}`;
}
