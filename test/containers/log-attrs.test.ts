import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { detailsPrefix, logAttributes, type LogAttrsSource } from '../../src/containers/log-attrs.js';
import { LogDriverError } from '../../src/containers/log-config.js';

const container: LogAttrsSource = {
  id: 'f'.repeat(12) + '0'.repeat(52),
  name: 'web-1',
  entrypoint: 'sh',
  args: ['-c', 'echo hi'],
  imageId: `sha256:${'a'.repeat(64)}`,
  imageName: 'busybox:latest',
  env: ['PATH=/bin', 'FOO=bar', 'EMPTY=', 'NOEQUALS', 'BAR_1=x'],
  labels: { app: 'web', 'com.example.tier': 'front', other: 'y' },
};

const attrs = (config: Record<string, string>, type = 'json-file'): Record<string, string> => Object.fromEntries(logAttributes({ Type: type, Config: config }, container));

test('log attributes: labels and env by name (missing ones skipped), by regexp (unanchored), json-file only', () => {
  assert.deepEqual(attrs({ labels: 'app,missing', env: 'FOO,EMPTY,NOEQUALS' }), { app: 'web', FOO: 'bar', EMPTY: '' });
  assert.deepEqual(attrs({ 'labels-regex': 'example', 'env-regex': '^BAR' }), { 'com.example.tier': 'front', BAR_1: 'x' });
  assert.deepEqual(attrs({ 'max-size': '1m' }), {});
  assert.deepEqual(attrs({ labels: 'app' }, 'local'), {});
  assert.deepEqual(attrs({}, 'none'), {});
});

test('log attributes: tag is a Go template over the container, as dockerd\'s logger.Info has it; empty tags are left out', () => {
  assert.equal(attrs({ tag: '{{.Name}}|{{.ContainerName}}|{{.ID}}|{{.FullID}}' }).tag, `web-1|/web-1|ffffffffffff|${container.id}`);
  // ImageID is the first 12 characters of the full id, "sha256:" included, as in dockerd.
  assert.equal(attrs({ tag: '{{.ImageID}}|{{.ImageFullID}}|{{.ImageName}}' }).tag, `sha256:aaaaa|${container.imageId}|busybox:latest`);
  assert.equal(attrs({ tag: '{{.Command}}|{{.DaemonName}}|{{.Hostname}}' }).tag, `sh -c echo hi|docker|${hostname()}`);
  assert.equal(attrs({ tag: '{{index .ContainerLabels "app"}}' }).tag, 'web');
  assert.equal(attrs({ tag: '{{if false}}x{{end}}' }).tag, undefined);
});

test("log attributes: bad regexps and templates are dockerd's logging driver errors", () => {
  assert.throws(() => attrs({ 'env-regex': '(' }), (e: Error) => e instanceof LogDriverError && /^failed to initialize logging driver: error parsing regexp: .*: `\(`$/.test(e.message));
  assert.throws(() => attrs({ tag: '{{.Name' }), (e: Error) => e instanceof LogDriverError && e.message === 'failed to initialize logging driver: template: log-tag:1: unclosed action');
  assert.throws(
    () => attrs({ tag: '{{.Nope}}' }),
    (e: Error) => e instanceof LogDriverError && e.message === 'failed to initialize logging driver: template: log-tag:1:2: executing "log-tag" at <.Nope>: can\'t evaluate field Nope in type *logger.Info',
  );
});

test('details prefix: sorted by key as Go sorts, key=value query-escaped, joined by commas, then a space', () => {
  assert.equal(detailsPrefix(new Map()), ' ');
  assert.equal(detailsPrefix(new Map([['tag', 'a/b c'], ['B', "x!*'()~"], ['a', 'é']])), "B=x%21%2A%27%28%29~,a=%C3%A9,tag=a%2Fb+c ");
});
