/**
 * Hosts a deployed gate cannot (or must not) reach: it runs on Cloudflare's
 * network, where localhost, loopback, private (RFC 1918, RFC 4193), link-local
 * and shared (RFC 6598) addresses are not the user's machine or network.
 * Takes a WHATWG URL's `hostname`, which has already turned `0x7f.1` or
 * `2130706433` into `127.0.0.1` and written IPv6 in brackets, compressed.
 */

/** [first address as a number, prefix length, what it is] */
const IPV4_RANGES: [number, number, string][] = [
  [ipv4("0.0.0.0"), 8, "the unspecified address (this host)"],
  [ipv4("10.0.0.0"), 8, "a private address (10.0.0.0/8)"],
  [ipv4("100.64.0.0"), 10, "a shared address (100.64.0.0/10, carrier-grade NAT)"],
  [ipv4("127.0.0.0"), 8, "a loopback address (127.0.0.0/8)"],
  [ipv4("169.254.0.0"), 16, "a link-local address (169.254.0.0/16)"],
  [ipv4("172.16.0.0"), 12, "a private address (172.16.0.0/12)"],
  [ipv4("192.168.0.0"), 16, "a private address (192.168.0.0/16)"],
];
/** Names that only a local network (or the machine itself) resolves. */
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];

/** What makes `hostname` unreachable from Cloudflare, or undefined when it may be a public host. */
export function localHost(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return ipv6Kind(host.slice(1, -1));
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return ipv4Kind(ipv4(host));
  if (host === "localhost") return "localhost";
  const suffix = LOCAL_SUFFIXES.find((end) => host.endsWith(end));
  if (suffix) return `a ${suffix} name, which only a local network resolves`;
  if (!host.includes(".")) return "a host name without a dot, which only a local network resolves";
  return undefined;
}

function ipv4(text: string): number {
  return text.split(".").reduce((value, part) => value * 256 + Number(part), 0);
}

function ipv4Kind(address: number): string | undefined {
  const found = IPV4_RANGES.find(([start, bits]) => Math.floor(address / 2 ** (32 - bits)) === Math.floor(start / 2 ** (32 - bits)));
  return found?.[2];
}

function ipv6Kind(text: string): string | undefined {
  const words = ipv6Words(text);
  if (!words) return undefined;
  if (words.every((word) => word === 0)) return "the unspecified address (::)";
  if (words.slice(0, 7).every((word) => word === 0) && words[7] === 1) return "the loopback address (::1)";
  // ::ffff:a.b.c.d is an IPv4 address in IPv6 clothes.
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) return ipv4Kind(words[6] * 65536 + words[7]);
  if ((words[0] & 0xfe00) === 0xfc00) return "a unique-local address (fc00::/7)";
  if ((words[0] & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((words[0] & 0xffc0) === 0xfec0) return "a site-local address (fec0::/10)";
  return undefined;
}

/** The eight 16-bit words of a compressed IPv6 address (as URL writes it: no zone, no dotted tail). */
function ipv6Words(text: string): number[] | undefined {
  const [head, tail] = text.split("::");
  const parse = (part: string | undefined) => (part ? part.split(":").map((word) => Number.parseInt(word, 16)) : []);
  const [first, last] = [parse(head), parse(tail)];
  const words = tail === undefined ? first : [...first, ...new Array(Math.max(0, 8 - first.length - last.length)).fill(0), ...last];
  return words.length === 8 && words.every((word) => Number.isInteger(word)) ? words : undefined;
}
