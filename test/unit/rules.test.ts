import ipaddr from 'ipaddr.js';
import { blockedReason, ipLiteral } from '../../src/delivery/address-policy';
import { parseRetryAfter, retryDelayMs } from '../../src/delivery/backoff';
import { canSee, matchesFilter } from '../../src/delivery/filters';

describe('access scope', () => {
  const person = { type: 'person', scopes: ['org:1', 'org:2'] };
  test.each([
    [{ entityTypes: ['*'], scopes: ['*'] }, true],
    [{ entityTypes: ['person'], scopes: ['org:2'] }, true],
    [{ entityTypes: ['person'], scopes: ['org:3'] }, false],
    [{ entityTypes: ['member'], scopes: ['*'] }, false],
    [{ entityTypes: ['*'], scopes: ['org:1'] }, true],
  ])('%j sees a person in org:1 and org:2: %s', (access, expected) => {
    expect(canSee(access, person)).toBe(expected);
  });
  test('an entity without scopes is seen only with scope "*"', () => {
    expect(canSee({ entityTypes: ['*'], scopes: ['org:1'] }, { type: 'x', scopes: [] })).toBe(false);
    expect(canSee({ entityTypes: ['*'], scopes: ['*'] }, { type: 'x', scopes: [] })).toBe(true);
  });
});

describe('event filter', () => {
  test.each([
    [[], 'person.updated', true],
    [['*'], 'person.updated', true],
    [['person.*'], 'person.deleted', true],
    [['person.created'], 'person.updated', false],
    [['*.deleted'], 'member.deleted', true],
    [['member.*'], 'person.created', false],
  ])('%j selects %s: %s', (filter, type, expected) => {
    expect(matchesFilter(filter, type)).toBe(expected);
  });
});

describe('backoff', () => {
  const policy = { initialMs: 5_000, backoff: 4, maxIntervalMs: 36_000_000, maxAttempts: 10 };
  const span = (random: () => number) =>
    Array.from({ length: policy.maxAttempts - 1 }, (_, i) => retryDelayMs(policy, i + 1, random)).reduce(
      (a, b) => a + b,
      0,
    );
  test('the defaults grow 5 s, 20 s, 80 s ... capped at 10 h', () => {
    const least = (n: number) => retryDelayMs(policy, n, () => 0);
    expect([1, 2, 3, 4].map(least)).toEqual([5_000, 20_000, 80_000, 320_000]);
    expect(least(9)).toBe(36_000_000);
    expect(retryDelayMs(policy, 9, () => 1)).toBe(36_000_000);
  });
  test('10 attempts span at least 24 h whatever the jitter, about 27 to 30 h', () => {
    expect(span(() => 0) / 3_600_000).toBeGreaterThan(24);
    expect(span(() => 1) / 3_600_000).toBeLessThan(31);
  });
  test('jitter adds up to 20 % and never shortens a delay', () => {
    expect(retryDelayMs(policy, 2, () => 0)).toBe(20_000);
    expect(retryDelayMs(policy, 2, () => 0.5)).toBe(22_000);
    expect(retryDelayMs(policy, 2, () => 1)).toBe(24_000);
  });
  test('Retry-After reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('address policy', () => {
  test.each([
    '127.0.0.1',
    '10.1.2.3',
    '169.254.169.254',
    '100.64.0.1',
    '192.168.1.1',
    '172.16.5.4',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    'fc00::1',
    'fe80::1',
    '2001:db8::1',
    'ff02::1',
  ])('%s is blocked', (ip) => {
    expect(blockedReason(ip, [])).toMatch(/blocked range/);
  });
  test.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111'])('%s is allowed', (ip) => {
    expect(blockedReason(ip, [])).toBeUndefined();
  });
  test('an allowed range opens loopback, including its mapped form', () => {
    const allowed = [ipaddr.parseCIDR('127.0.0.0/8')];
    expect(blockedReason('127.0.0.1', allowed)).toBeUndefined();
    expect(blockedReason('::ffff:127.0.0.1', allowed)).toBeUndefined();
    expect(blockedReason('10.0.0.1', allowed)).toMatch(/blocked/);
  });
  test('IP literals are recognised in URL host form', () => {
    expect(ipLiteral('[::1]')).toBe('::1');
    expect(ipLiteral('10.0.0.1')).toBe('10.0.0.1');
    expect(ipLiteral('example.com')).toBeUndefined();
  });
});
