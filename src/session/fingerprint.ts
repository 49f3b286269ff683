/** Browser families, most specific first (Edge and Opera also say "Chrome"). */
const FAMILIES: ReadonlyArray<[string, RegExp]> = [
  ["edge", /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ["opera", /\bOPR\/(\d+)/],
  ["samsung", /\bSamsungBrowser\/(\d+)/],
  ["chrome", /\b(?:Chrome|CriOS)\/(\d+)/],
  ["firefox", /\b(?:Firefox|FxiOS)\/(\d+)/],
  ["safari", /\bVersion\/(\d+)[\d.]*(?: Mobile\/\S+)? Safari\//],
];

/** Browser family and major version: a minor update does not change it. */
export function browserOf(userAgent: string): string {
  for (const [family, pattern] of FAMILIES) {
    const match = pattern.exec(userAgent);
    if (match) return `${family}/${match[1]}`;
  }
  const product = /^([A-Za-z][\w.-]{0,31})\/(\d+)/.exec(userAgent);
  return product ? `${product[1].toLowerCase()}/${product[2]}` : "other";
}

/** The IP's network: /24 for IPv4, /48 for IPv6, so a new address from the same network still matches. */
export function networkOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}`;
  if (!ip.includes(":")) return "unknown";
  const [head, tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return groups.slice(0, 3).map((group) => group.replace(/^0+(?=.)/, "")).join(":");
}

/** The coarse fingerprint a session is bound to (contract §2). */
export function fingerprintOf(userAgent: string, ip: string): string {
  return `${browserOf(userAgent)}|${networkOf(ip)}`;
}
