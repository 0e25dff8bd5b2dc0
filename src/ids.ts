import { monotonicFactory } from 'ulid';

/** Opaque ids with a type prefix; the ULID body sorts by creation time, which keyset pagination uses. */
export const ID_PREFIXES = ['app', 'key', 'pkey', 'wh', 'evt', 'dlv', 'att', 'sync', 'rcv'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const nextUlid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid().toLowerCase()}`;
}
