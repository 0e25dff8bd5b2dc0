/**
 * A response body as the API shows it: the text when the bytes are valid UTF-8 (NUL included:
 * JSON escapes it), else base64, with the encoding said beside it. Stored as the bytes themselves.
 */
export type BodyEncoding = 'utf8' | 'base64';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function showBody(bytes: Buffer | Uint8Array): { body: string; bodyEncoding: BodyEncoding } {
  try {
    return { body: strictUtf8.decode(bytes), bodyEncoding: 'utf8' };
  } catch {
    return { body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' };
  }
}
