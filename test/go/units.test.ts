import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, fromHumanSize, humanSize, humanSizeWithPrecision, ramInBytes } from '../../src/go/units.js';

test('humanSize: decimal units with %.4g', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1024), '1.024kB');
  assert.equal(humanSize(102400), '102.4kB');
  assert.equal(humanSize(1500000), '1.5MB');
  assert.equal(humanSize(1048576), '1.049MB');
  assert.equal(humanSize(1234567), '1.235MB');
  assert.equal(humanSize(2e9), '2GB');
  assert.equal(humanSize(3.42e9), '3.42GB');
  assert.equal(humanSize(5.372e12), '5.372TB');
  assert.equal(humanSize(2.22e15), '2.22PB');
  assert.equal(humanSize(999999), '1000kB');
  assert.equal(humanSize(1e28), '1e+04YB');
});

test('humanSizeWithPrecision: %.*g, a negative precision meaning shortest as in fmt', () => {
  assert.equal(humanSizeWithPrecision(1234567, 2), '1.2MB');
  assert.equal(humanSizeWithPrecision(1234567, 6), '1.23457MB');
  assert.equal(humanSizeWithPrecision(1234567, -1), '1.234567MB');
  assert.equal(humanSizeWithPrecision(1500, 0), '2kB');
});

test('bytesSize: binary units with %.4g', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(1048576), '1MiB');
  assert.equal(bytesSize(3.42 * 1024 ** 3), '3.42GiB');
  assert.equal(bytesSize(2.22 * 1024 ** 5), '2.22PiB');
  assert.equal(bytesSize(1024 ** 6), '1EiB');
  assert.equal(bytesSize(2 ** 100), '1.049e+06YiB');
  // 12.125 KiB is an exact tie at 4 digits: Go rounds half to even.
  assert.equal(bytesSize(12416), '12.12KiB');
});

test('ramInBytes: binary multiples, optional b / ib, any case', () => {
  assert.equal(ramInBytes('32'), 32);
  assert.equal(ramInBytes('32b'), 32);
  assert.equal(ramInBytes('32B'), 32);
  assert.equal(ramInBytes('32k'), 32 * 1024);
  assert.equal(ramInBytes('32K'), 32 * 1024);
  assert.equal(ramInBytes('32kb'), 32 * 1024);
  assert.equal(ramInBytes('32KiB'), 32 * 1024);
  assert.equal(ramInBytes('64m'), 67108864);
  assert.equal(ramInBytes('32Mb'), 32 * 1024 ** 2);
  assert.equal(ramInBytes('32Gb'), 32 * 1024 ** 3);
  assert.equal(ramInBytes('32Tb'), 32 * 1024 ** 4);
  assert.equal(ramInBytes('32PB'), 32 * 1024 ** 5);
  assert.equal(ramInBytes('32.3'), 32);
  assert.equal(ramInBytes('32.3Kb'), 33075);
  assert.equal(ramInBytes('32 MB'), 32 * 1024 ** 2);
});

test('ramInBytes rejects bad input with go-units messages', () => {
  assert.throws(() => ramInBytes('abc'), { message: "invalid size: 'abc'" });
  assert.throws(() => ramInBytes(''), { message: "invalid size: ''" });
  assert.throws(() => ramInBytes('-32'), { message: "invalid size: '-32'" });
  assert.throws(() => ramInBytes('32kk'), { message: "invalid suffix: 'kk'" });
  assert.throws(() => ramInBytes('32bb'), { message: "invalid suffix: 'bb'" });
  assert.throws(() => ramInBytes('32x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('32kbb'), { message: "invalid suffix: 'kbb'" });
  assert.throws(() => ramInBytes('32  MB'), { message: 'strconv.ParseFloat: parsing "32 ": invalid syntax' });
  assert.throws(() => ramInBytes('  32  '), /strconv.ParseFloat/);
  assert.throws(() => ramInBytes('32.5.3'), /strconv.ParseFloat/);
});

test('fromHumanSize: decimal multiples', () => {
  assert.equal(fromHumanSize('32'), 32);
  assert.equal(fromHumanSize('32k'), 32000);
  assert.equal(fromHumanSize('32kB'), 32000);
  assert.equal(fromHumanSize('32Mb'), 32e6);
  // 32.3 * 1000 is 32299.999999999996 in float64; Go truncates it too.
  assert.equal(fromHumanSize('32.3Kb'), 32299);
  assert.equal(fromHumanSize('32.5 kB'), 32500);
  assert.equal(fromHumanSize('32.5 B'), 32);
  assert.equal(fromHumanSize('0.3 K'), 300);
  assert.equal(fromHumanSize('.3kB'), 300);
  assert.equal(fromHumanSize('1.5G'), 1.5e9);
  assert.equal(fromHumanSize('2 tb'), 2e12);
  assert.throws(() => fromHumanSize('abc'), { message: "invalid size: 'abc'" });
  assert.throws(() => fromHumanSize('32m b'), /strconv.ParseFloat/);
  assert.throws(() => fromHumanSize('32bm'), { message: "invalid suffix: 'bm'" });
});
