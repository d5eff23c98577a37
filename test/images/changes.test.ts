import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from '../../src/images/changes.js';

test('changes: CMD and ENTRYPOINT in exec and shell form', () => {
  assert.deepEqual(applyChanges(['CMD ["sh"]']).Cmd, ['sh']);
  assert.deepEqual(applyChanges(['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges(['cmd   echo  "a b"  ']).Cmd, ['/bin/sh', '-c', 'echo  "a b"'], 'instruction is case-insensitive; shell form verbatim');
  assert.deepEqual(applyChanges(['CMD [not json']).Cmd, ['/bin/sh', '-c', '[not json'], 'invalid JSON falls back to shell form');
  assert.deepEqual(applyChanges(['ENTRYPOINT ["/bin/echo", "x"]']), { Entrypoint: ['/bin/echo', 'x'], Cmd: null }, 'ENTRYPOINT alone resets Cmd');
  assert.deepEqual(applyChanges(['CMD ["a"]', 'ENTRYPOINT ["b"]']), { Cmd: ['a'], Entrypoint: ['b'] });
  assert.deepEqual(applyChanges(['ENTRYPOINT ["b"]', 'CMD ["a"]']), { Cmd: ['a'], Entrypoint: ['b'] });
  assert.deepEqual(applyChanges(['CMD echo \\', '  continued']).Cmd, ['/bin/sh', '-c', 'echo   continued'], 'line continuation');
});

test('changes: ENV and LABEL forms, quoting and expansion', () => {
  assert.deepEqual(applyChanges(['ENV A=1 B=2']).Env, ['A=1', 'B=2']);
  assert.deepEqual(applyChanges(['ENV A 1']).Env, ['A=1']);
  assert.deepEqual(applyChanges(['ENV A hello   world']).Env, ['A=hello   world']);
  assert.deepEqual(applyChanges(['ENV A="x y" B=\'$lit\' C=a\\ b']).Env, ['A=x y', 'B=$lit', 'C=a b']);
  assert.deepEqual(applyChanges(['ENV A=1', 'ENV B=$A-${A}-${UNSET:-def}-${A:+alt}', 'ENV A=2']).Env, ['A=2', 'B=1-1-def-alt']);
  assert.deepEqual(applyChanges(['ENV A=1', 'ENV A=3 B=$A']).Env, ['A=3', 'B=1'], 'expansion uses the environment before the instruction');
  assert.deepEqual(applyChanges(['ENV P=/x', 'ENV PATH="$P:/bin"']).Env, ['P=/x', 'PATH=/x:/bin']);
  assert.deepEqual(applyChanges(['LABEL a=b "c d"="e f"', 'LABEL legacy form value']).Labels, { __proto__: null, a: 'b', 'c d': 'e f', legacy: 'form value' });
  assert.throws(() => applyChanges(['ENV A=1 B']), /can't find = in "B"/);
  assert.throws(() => applyChanges(['ENV']), /ENV requires at least one argument/);
  assert.throws(() => applyChanges(['ENV A']), /ENV must have two arguments/);
  assert.throws(() => applyChanges(['ENV A="unterminated']), /matching double-quote/);
});

test('changes: WORKDIR, USER, VOLUME, EXPOSE, STOPSIGNAL, ONBUILD, HEALTHCHECK', () => {
  assert.equal(applyChanges(['WORKDIR /a', 'WORKDIR b/', 'WORKDIR ../c']).WorkingDir, '/a/c');
  assert.equal(applyChanges(['WORKDIR rel']).WorkingDir, '/rel');
  assert.equal(applyChanges(['ENV D=/srv', 'WORKDIR $D/app']).WorkingDir, '/srv/app');
  assert.equal(applyChanges(['USER 1000:1000']).User, '1000:1000');
  assert.deepEqual(applyChanges(['VOLUME /data /other']).Volumes, { '/data': {}, '/other': {} });
  assert.deepEqual(applyChanges(['VOLUME ["/data", "/with space"]']).Volumes, { '/data': {}, '/with space': {} });
  assert.throws(() => applyChanges(['VOLUME [""]']), /can not be an empty string/);
  assert.deepEqual(applyChanges(['EXPOSE 80 443/tcp 53/UDP 7000-7002']).ExposedPorts, {
    '80/tcp': {},
    '443/tcp': {},
    '53/udp': {},
    '7000/tcp': {},
    '7001/tcp': {},
    '7002/tcp': {},
  });
  assert.throws(() => applyChanges(['EXPOSE 99999']), /invalid containerPort: 99999/, "go-connections' wording as moby 28 vendors it");
  assert.throws(() => applyChanges(['EXPOSE 80/bogus']), /invalid proto/);
  assert.equal(applyChanges(['STOPSIGNAL SIGKILL']).StopSignal, 'SIGKILL');
  assert.deepEqual(applyChanges(['ONBUILD RUN echo hi']).OnBuild, ['RUN echo hi']);
  assert.throws(() => applyChanges(['ONBUILD ONBUILD RUN x']), /Chaining ONBUILD/);
  assert.deepEqual(applyChanges(['HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/']).Healthcheck, {
    Test: ['CMD-SHELL', 'curl -f http://localhost/'],
    Interval: 30e9,
    Retries: 3,
  });
  assert.deepEqual(applyChanges(['HEALTHCHECK CMD ["true"]']).Healthcheck, { Test: ['CMD', 'true'] });
  assert.deepEqual(applyChanges(['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test('changes: unsupported instructions use docker\'s message', () => {
  for (const [change, msg] of [
    ['RUN echo hi', 'RUN is not a valid change command'],
    ['COPY a b', 'COPY is not a valid change command'],
    ['add a b', 'add is not a valid change command'],
    ['FROM scratch', 'FROM is not a valid change command'],
    ['BOGUS x', 'BOGUS is not a valid change command'],
  ] as const) {
    assert.throws(() => applyChanges([change]), (e: Error) => e.name === 'InvalidParameter' && e.message === msg);
  }
  // Comments and blank lines are ignored; the base config is not mutated.
  const base = { Env: ['X=1'] };
  assert.deepEqual(applyChanges(['# comment', '', 'ENV Y=2'], base).Env, ['X=1', 'Y=2']);
  assert.deepEqual(base.Env, ['X=1']);
});
