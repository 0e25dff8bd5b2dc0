import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type Cidr = [Address, number];

/** Ranges no webhook request may reach unless the operator allows them (HERALD_ALLOWED_NETWORKS). */
export const BLOCKED_RANGES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '::ffff:0:0/96',
  '64:ff9b::/96',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];
const BLOCKED: Cidr[] = BLOCKED_RANGES.map((r) => ipaddr.parseCIDR(r));

/**
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach an IPv4 host, so that
 * host is what must be judged. Undefined when the address is not of either form.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (address.range() === 'rfc6052') {
    const bytes = address.toByteArray();
    return ipaddr.fromByteArray(bytes.slice(12)) as ipaddr.IPv4;
  }
  return undefined;
}

function inAny(address: Address, ranges: Cidr[]): Cidr | undefined {
  return ranges.find(([net, bits]) => address.kind() === net.kind() && address.match(net, bits));
}

/**
 * Why `ip` may not be dialled, or undefined when it may. An allowed range wins over a blocked
 * one; for mapped and NAT64 forms both the IPv6 form and the IPv4 host inside are judged.
 */
export function blockedReason(ip: string, allowed: Cidr[]): string | undefined {
  let address: Address;
  try {
    address = ipaddr.parse(ip);
  } catch {
    return `"${ip}" is not an IP address`;
  }
  const candidates: Address[] = [address];
  if (address.kind() === 'ipv6') {
    const inner = embeddedIPv4(address as ipaddr.IPv6);
    if (inner) candidates.push(inner);
  }
  if (candidates.some((a) => inAny(a, allowed))) return undefined;
  for (const candidate of candidates) {
    const hit = inAny(candidate, BLOCKED);
    if (hit) return `${ip} is in the blocked range ${hit[0].toString()}/${hit[1]}`;
  }
  return undefined;
}

/** The host of a URL as an IP literal, or undefined when it is a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(bare) ? bare : undefined;
}
