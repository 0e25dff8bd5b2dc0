/**
 * Who may see what, and which webhook wants which event. Pure functions: the unit tests pin the
 * rules, and the SQL fan-out in src/db/queries/events.ts encodes the same ones (see eventPatternsFor).
 */

export interface Access {
  entityTypes: string[];
  scopes: string[];
}

/** An application sees an entity when both its type and one of its scopes are in the access (or `*`). */
export function canSee(access: Access, entity: { type: string; scopes: string[] }): boolean {
  const typeOk = access.entityTypes.includes('*') || access.entityTypes.includes(entity.type);
  const scopeOk = access.scopes.includes('*') || entity.scopes.some((s) => access.scopes.includes(s));
  return typeOk && scopeOk;
}

/** Every filter entry that selects `eventType`: itself, `<entity>.*`, `*.<action>` and `*`. */
export function eventPatternsFor(eventType: string): string[] {
  const [entity, action] = eventType.split('.');
  return [eventType, `${entity}.*`, `*.${action}`, '*'];
}

/** An empty filter means every event. */
export function matchesFilter(filter: string[], eventType: string): boolean {
  if (filter.length === 0) return true;
  const patterns = eventPatternsFor(eventType);
  return filter.some((f) => patterns.includes(f));
}
