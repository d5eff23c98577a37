// `berth ps` / `berth images` output against what docker CLI 28.2.2 printed
// for the same daemon answers (docker-goldens.ts).
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPs } from '../../../src/cli/commands/container.js';
import { renderImages, renderRemoved } from '../../../src/cli/commands/image.js';
import {
  ContainerContext, displayablePorts, ellipsis, imageRows, truncateID,
} from '../../../src/cli/commands/contexts.js';
import { CAPTURED_AT, IMAGES_FIXTURE, LIST_OUTPUTS, PS_FIXTURE } from './docker-goldens.js';
import type { ApiContainerSummary, ApiImageSummary } from '../../../src/api/types/index.js';

const NOW = CAPTURED_AT * 1000 + 1500;
const ps = PS_FIXTURE as unknown as ApiContainerSummary[];
const images = IMAGES_FIXTURE as unknown as ApiImageSummary[];

function expected(args: string): string {
  const o = LIST_OUTPUTS.find((x) => x.args === args);
  assert.ok(o, `no golden for ${args}`);
  return o.out;
}

test('ps table, --no-trunc, -s, -q', () => {
  assert.equal(renderPs(ps, {}, NOW), expected('ps -a'));
  assert.equal(renderPs(ps, { trunc: false }, NOW), expected('ps -a --no-trunc'));
  assert.equal(renderPs(ps, { size: true }, NOW), expected('ps -a -s'));
  assert.equal(renderPs(ps, { quiet: true }, NOW), expected('ps -a -q'));
});

test('ps --format json and every field', () => {
  assert.equal(renderPs(ps, { format: 'json' }, NOW), expected('ps -a --format json'));
  const fields =
    '{{.ID}}|{{.Image}}|{{.Command}}|{{.CreatedAt}}|{{.RunningFor}}|{{.Ports}}|{{.State}}|{{.Status}}|{{.Size}}|{{.Names}}|{{.Labels}}|{{.Label "b"}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}';
  assert.equal(renderPs(ps, { format: fields }, NOW), expected(`ps -a --format ${fields}`));
  const table = 'table {{.Names}}\\t{{.Mounts}}\\t{{.Label "com.example"}}';
  assert.equal(renderPs(ps, { format: table }, NOW), expected(`ps -a --format ${table}`));
});

test('ps with no containers prints the header only', () => {
  assert.equal(renderPs([], {}, NOW), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('unknown template fields fail as they do for docker structs', () => {
  assert.throws(() => renderPs(ps, { format: '{{.Foo}}' }, NOW), /can't evaluate field Foo in type \*formatter\.ContainerContext/);
});

test('images table, --digests, --no-trunc, -q, json and every field', () => {
  assert.equal(renderImages(images, {}, NOW), expected('images'));
  assert.equal(renderImages(images, { digests: true }, NOW), expected('images --digests'));
  assert.equal(renderImages(images, { trunc: false }, NOW), expected('images --no-trunc'));
  assert.equal(renderImages(images, { quiet: true }, NOW), expected('images -q'));
  assert.equal(renderImages(images, { format: 'json' }, NOW), expected('images --format json'));
  const fields =
    '{{.ID}}|{{.Repository}}|{{.Tag}}|{{.Digest}}|{{.CreatedSince}}|{{.CreatedAt}}|{{.Size}}|{{.Containers}}|{{.VirtualSize}}|{{.SharedSize}}|{{.UniqueSize}}';
  assert.equal(renderImages(images, { format: fields }, NOW), expected(`images --format ${fields}`));
});

test('rmi lines', () => {
  assert.equal(
    renderRemoved([{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:abc' }]),
    'Untagged: busybox:latest\nDeleted: sha256:abc\n',
  );
});

test('image rows: one per tag, digest-only and dangling images', () => {
  // Partial answers, as another daemon may send: the CLI tolerates missing lists.
  const rows = (img: Partial<ApiImageSummary> & { Id: string }, need = false, flag = need) =>
    imageRows(img as ApiImageSummary, true, need, flag, NOW).map((r) => `${r.Repository()} ${r.Tag()} ${r.Digest()}`);
  assert.deepEqual(rows({ Id: 'sha256:a', RepoTags: ['a:1', 'b:2', 'a:3'] }), ['a 1 <none>', 'a 3 <none>', 'b 2 <none>']);
  assert.deepEqual(rows({ Id: 'sha256:a', RepoTags: [], RepoDigests: [] }), ['<none> <none> <none>']);
  assert.deepEqual(rows({ Id: 'sha256:a', RepoDigests: ['x@sha256:1'] }), ['x <none> ']);
  assert.deepEqual(rows({ Id: 'sha256:a', RepoDigests: ['x@sha256:1'] }, true), ['x <none> sha256:1']);
  assert.deepEqual(rows({ Id: 'sha256:a', RepoTags: ['x:1'], RepoDigests: ['x@sha256:1'] }, true, false), ['x 1 sha256:1']);
});

test('helpers: TruncateID, Ellipsis, DisplayablePorts', () => {
  assert.equal(truncateID('sha256:0123456789abcdef'), '0123456789ab');
  assert.equal(truncateID('abc'), 'abc');
  assert.equal(ellipsis('sh -c echo hello world', 20), 'sh -c echo hello wo…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('日本語のコマンドはとても長い', 20), '日本語のコマンドは…');
  assert.equal(displayablePorts([]), '');
  assert.equal(
    displayablePorts([
      { PrivatePort: 80, Type: 'tcp' },
      { PrivatePort: 81, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 8080, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 8081, PublicPort: 8081, Type: 'tcp' },
      { IP: '::', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
    ]),
    '80-81/tcp, 0.0.0.0:8080-8081->8080-8081/tcp, [::]:2222->22/tcp',
  );
});

test('container context: Names keeps one plain name when truncating, Image drops digests', () => {
  const c = new ContainerContext({ Id: 'x', Names: ['/a/link', '/web'], Image: 'busybox@sha256:11', ImageID: 'sha256:22' }, true, NOW);
  assert.equal(c.Names(), 'web');
  assert.equal(c.Image(), 'busybox');
  assert.equal(new ContainerContext({ Id: 'x', Image: '' }, true, NOW).Image(), '<no image>');
  assert.equal(new ContainerContext({ Id: 'x', Command: 'a "b"' }, true, NOW).Command(), '"a \\"b\\""');
});
