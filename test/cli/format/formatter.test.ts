import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelHeader, renderList, type RenderListOptions } from '../../../src/cli/format/formatter.js';

interface Vol {
  name: string;
  driver: string;
  labels: Record<string, string>;
  size?: string;
}

// Mirrors docker's volumeContext: every field is a method.
const volumeContext = (v: Vol): object => ({
  Name: () => v.name,
  Driver: () => v.driver,
  Scope: () => 'local',
  Mountpoint: () => `/var/lib/docker/volumes/${v.name}/_data`,
  Labels: () => Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(','),
  Label: (k: string) => v.labels[k] ?? '',
  Links: () => 'N/A',
  Size: () => v.size ?? 'N/A',
  Group: () => 'N/A',
  Availability: () => 'N/A',
  Status: () => 'N/A',
});

const opts = (format: string, quiet = false): RenderListOptions<Vol> => ({
  format,
  quiet,
  defaultTable: 'table {{.Driver}}\\t{{.Name}}',
  quietTemplate: '{{.Name}}',
  headers: {
    Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS',
    Links: 'LINKS', Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS',
  },
  context: volumeContext,
});

const v1: Vol = { name: 'v1', driver: 'local', labels: {} };
const lbl: Vol = { name: 'specr-lbl', driver: 'local', labels: { env: 'prod', tier: 'db' } };
const custom: Vol = { name: 'v2', driver: 'specrdrv', labels: {} };

test('default and bare `table` use the default table', () => {
  assert.equal(renderList([v1], opts('')), 'DRIVER    VOLUME NAME\nlocal     v1\n');
  assert.equal(renderList([v1], opts('table')), 'DRIVER    VOLUME NAME\nlocal     v1\n');
  assert.equal(renderList([v1, custom], opts('')), 'DRIVER     VOLUME NAME\nlocal      v1\nspecrdrv   v2\n');
});

test('the table header prints even with no rows', () => {
  assert.equal(renderList([], opts('')), 'DRIVER    VOLUME NAME\n');
  assert.equal(renderList([], opts('table {{.Name}}')), 'VOLUME NAME\n');
});

test('quiet uses the quiet template unless a format is given', () => {
  assert.equal(renderList([v1, custom], opts('', true)), 'v1\nv2\n');
  assert.equal(renderList([v1, custom], opts('table', true)), 'v1\nv2\n');
  assert.equal(renderList([v1], opts('{{.Driver}}', true)), 'local\n');
});

test('custom templates print one line per row', () => {
  assert.equal(renderList([v1, custom], opts('{{.Name}}: {{.Driver}}')), 'v1: local\nv2: specrdrv\n');
  assert.equal(renderList([], opts('{{.Name}}')), '');
  assert.equal(renderList([v1], opts('{{.Name}}\\t{{.Driver}}\\n')), 'v1\tlocal\n\n');
  assert.equal(renderList([lbl], opts('{{.Label "tier"}}')), 'db\n');
});

test('custom table templates: headers come from the header names', () => {
  assert.equal(
    renderList([lbl], opts('table {{.Name}}\\t{{.Labels}}\\t{{.Size}}')),
    'VOLUME NAME   LABELS             SIZE\nspecr-lbl     env=prod,tier=db   N/A\n',
  );
  // Spaces around the template are trimmed, as docker does.
  assert.equal(renderList([v1], opts('table   {{.Name}}  ')), 'VOLUME NAME\nv1\n');
});

test('.Label "key" in a table header renders the key\'s last segment', () => {
  assert.equal(labelHeader('com.docker.compose.project'), 'project');
  assert.equal(labelHeader('com.example.some-key_x'), 'some key x');
  assert.equal(
    renderList([lbl], opts('table {{.Name}}\\t{{.Label "com.example.env"}}')),
    'VOLUME NAME   env\nspecr-lbl     \n',
  );
});

test('header functions keep headers intact', () => {
  assert.equal(renderList([v1], opts('table {{lower .Name}}\\t{{json .Driver}}')), 'VOLUME NAME   DRIVER\nv1            "local"\n');
});

test('a header that fails to render keeps what came before the failure', () => {
  // The header context is a map of names, so a method call with arguments
  // (other than .Label) fails there; docker keeps the partial header.
  const o: RenderListOptions<Vol> = {
    ...opts('table {{.Driver}}\\t{{.Short 1}}\\t{{.Name}}'),
    context: (v) => ({ ...volumeContext(v), Short: (n: number) => v.driver.slice(0, n) }),
  };
  assert.equal(renderList([v1], o), 'DRIVER    \nlocal     l         v1\n');
});

test('json prints one compact object per row with sorted keys', () => {
  assert.equal(
    renderList([lbl], opts('json')),
    '{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"env=prod,tier=db","Links":"N/A",'
      + '"Mountpoint":"/var/lib/docker/volumes/specr-lbl/_data","Name":"specr-lbl","Scope":"local","Size":"N/A","Status":"N/A"}\n',
  );
  assert.equal(renderList([], opts('json')), '');
});

test('template errors are reported the way docker reports them', () => {
  assert.throws(() => renderList([v1], opts('{{.Name')), { message: 'template parsing error: template: :1: unclosed action' });
  assert.throws(() => renderList([v1], opts('{{nope .Name}}')), { message: 'template parsing error: template: :1: function "nope" not defined' });
  assert.throws(() => renderList([v1], opts('{{.Name.X}}')), {
    message: 'template parsing error: template: :1:7: executing "" at <.Name.X>: can\'t evaluate field X in type string',
  });
});
