import { describeFailure, StartupError } from '../../src/cli/main';
import { ConfigError } from '../../src/config';
import { MissingToolError } from '../../src/embedded/temporal-cli';

test('operator-facing errors give their message alone', () => {
  expect(describeFailure(new StartupError('port 3000 is in use'))).toBe('port 3000 is in use');
  expect(describeFailure(new ConfigError('invalid configuration: PORT: x'))).toBe(
    'invalid configuration: PORT: x',
  );
  expect(new MissingToolError('no go')).toBeInstanceOf(StartupError);
  expect(describeFailure(new StartupError())).toBe('StartupError without a message');
});

test('whatever was thrown, the account is readable and never "undefined"', () => {
  const cases: unknown[] = [
    undefined,
    null,
    '',
    '  ',
    0,
    1,
    {},
    { code: 1 },
    [],
    new Error(),
    new TypeError(),
    new AggregateError([undefined, new Error('inner')]),
    new Error('', { cause: undefined }),
    Symbol('x'),
  ];
  for (const value of cases) {
    const text = describeFailure(value);
    expect(text.trim()).not.toBe('');
    expect(text).not.toMatch(/\bundefined\b/);
  }
  expect(describeFailure(new Error())).toMatch(/^Error without a message\n\s+at /);
  expect(describeFailure(new Error('boom'))).toMatch(/^Error: boom\n\s+at /);
  expect(describeFailure(new Error('outer', { cause: new Error('inner') }))).toMatch(
    /caused by: Error: inner/,
  );
  expect(describeFailure({ message: 'from an object' })).toBe('from an object');
  expect(describeFailure('a string')).toBe('a string');
  expect(describeFailure(3)).toBe('failed with code 3');
  expect(describeFailure({ code: 'EADDRINUSE' })).toContain("code: 'EADDRINUSE'");
});
