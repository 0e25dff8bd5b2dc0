import { readFileSync } from 'node:fs';
import { codeBlock, embed, GUIDE, languageOf, regions } from '../../scripts/embed-examples';
import { bodySignature, standardSignature } from '../../src/delivery/signing';

const guide = readFileSync(GUIDE, 'utf8');

test("the guide's example code blocks are the example files, verbatim", () => {
  const stale = regions(guide)
    .filter((r) => r.current !== r.expected)
    .map((r) => r.file);
  if (stale.length > 0) {
    throw new Error(
      `docs/receiving-webhooks.md differs from ${stale.join(', ')}: run npm run docs:examples to copy them in`,
    );
  }
});

test('the guide embeds every runnable example and the files that install it', () => {
  expect(regions(guide).map((r) => r.file)).toEqual(
    expect.arrayContaining([
      'examples/node-express/server.js',
      'examples/node-express/hmac-sha256.js',
      'examples/node-express/package.json',
      'examples/python-flask/app.py',
      'examples/python-flask/requirements.txt',
      'examples/go-nethttp/main.go',
      'examples/go-nethttp/go.mod',
      'examples/java/src/main/java/herald/example/Receiver.java',
      'examples/java/pom.xml',
      'examples/php-laravel/app/Http/Controllers/HeraldWebhookController.php',
      'examples/php-laravel/routes/api.php',
      'examples/php-laravel/config/services.php',
      'examples/ruby-rails/app/controllers/herald_webhooks_controller.rb',
      'examples/ruby-rails/config/routes.rb',
      'examples/ruby-rails/Gemfile',
    ]),
  );
});

test('a region that drifted from its file is found, and embedding refills it from the file', () => {
  const files: Record<string, string> = { 'examples/a.js': "console.log('new');\n" };
  const read = (file: string) => files[file];
  const drifted =
    "text\n<!-- example: examples/a.js -->\n```js\nconsole.log('old');\n```\n<!-- /example -->\nmore\n";
  expect(regions(drifted, read)).toEqual([
    {
      file: 'examples/a.js',
      current: "```js\nconsole.log('old');\n```\n",
      expected: "```js\nconsole.log('new');\n```\n",
    },
  ]);
  const fixed = embed(drifted, read);
  expect(fixed).toBe(
    "text\n<!-- example: examples/a.js -->\n```js\nconsole.log('new');\n```\n<!-- /example -->\nmore\n",
  );
  expect(regions(fixed, read).every((r) => r.current === r.expected)).toBe(true);
});

test("a code block's language comes from the file's extension, or its name", () => {
  expect(languageOf('examples/php-laravel/routes/api.php')).toBe('php');
  expect(languageOf('examples/ruby-rails/config/routes.rb')).toBe('ruby');
  expect(languageOf('examples/ruby-rails/Gemfile')).toBe('ruby');
  expect(languageOf('examples/python-flask/requirements.txt')).toBe('text');
});

test('a file holding a code fence gets a longer fence', () => {
  expect(codeBlock('examples/a.md', 'a\n```\nb')).toBe('````text\na\n```\nb\n````\n');
});

test("the guide's worked example carries Herald's real signatures for its secret", () => {
  const block = /<!-- worked-example -->\n```http\n([\s\S]*?)\n```\n<!-- \/worked-example -->/.exec(guide);
  expect(block).not.toBeNull();
  const [head, body] = block![1].split('\n\n');
  const headers = Object.fromEntries(
    head
      .split('\n')
      .slice(1)
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  );
  const secret = /signed with the secret `(whsec_[^`]+)`/.exec(guide)![1];
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  expect(JSON.parse(body).id).toBe(id);
  expect(headers['webhook-signature']).toBe(standardSignature(secret, id, timestamp, body));
  expect(guide).toContain(`\`signature: ${bodySignature(secret, body)}\``);
});
