// The OSC allow list's networks: parsing, normalising, and who is inside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowList, CidrError, formatCidr, parseCidr } from '../app/io/cidr.ts';

test('parseCidr: IPv4 and IPv6 networks and bare addresses, host bits cleared', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.0/8', '127.0.0.0/8'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.20', '192.168.1.20/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::1', '::1/128'],
    ['::', '::/128'],
    ['::/0', '::/0'],
    ['fe80::1/10', 'fe80::/10'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128'],
    ['2001:0db8:85a3::8a2e:370:7334/64', '2001:db8:85a3::/64'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304/128'],
    // IPv4-mapped IPv6 is IPv4.
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:192.168.1.20', '192.168.1.20/32'],
    ['::ffff:c0a8:0114', '192.168.1.20/32'],
    [' 127.0.0.1/32 ', '127.0.0.1/32'],
  ];
  for (const [spec, want] of cases) assert.equal(formatCidr(parseCidr(spec)), want, spec);
});

test('parseCidr: anything else is one readable error', () => {
  for (const bad of ['', 'localhost', '10.0.0.300', '10.0.0', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/', '::/129', '::1::2', '1.2.3.4/8/8', 'gggg::1', '10.0.0.0/08x']) {
    assert.throws(
      () => parseCidr(bad),
      (err: unknown) => err instanceof CidrError && err.message.includes(`"${bad}"`),
      bad,
    );
  }
});

test('AllowList: default is loopback only; mapped senders count as IPv4; comma lists', () => {
  const loop = new AllowList();
  assert.equal(loop.toString(), '127.0.0.0/8, ::1/128');
  for (const a of ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.2', '::ffff:7f00:1']) assert.ok(loop.allows(a), a);
  for (const a of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', '0.0.0.0', 'not an address', '']) assert.ok(!loop.allows(a), a);

  const lan = new AllowList(['192.168.1.0/24,10.0.0.7', 'fe80::/10', '::ffff:172.16.0.0/108']);
  assert.equal(lan.toString(), '192.168.1.0/24, 10.0.0.7/32, fe80::/10, 172.16.0.0/12');
  for (const a of ['192.168.1.1', '192.168.1.255', '::ffff:192.168.1.9', '10.0.0.7', 'fe80::1', 'fe80::abcd%eth0', '172.31.255.255']) assert.ok(lan.allows(a), a);
  for (const a of ['192.168.2.1', '10.0.0.8', '127.0.0.1', '::1', 'fec0::1', '172.32.0.0']) assert.ok(!lan.allows(a), a);

  // IPv6 "everything" is not IPv4 "everything": a mapped sender is IPv4.
  const v6 = new AllowList(['::/0']);
  assert.ok(v6.allows('2001:db8::1'));
  assert.ok(!v6.allows('::ffff:8.8.8.8'));
  assert.ok(new AllowList(['0.0.0.0/0']).allows('::ffff:8.8.8.8'));

  assert.equal(new AllowList([]).toString(), 'nobody');
  assert.ok(!new AllowList([]).allows('127.0.0.1'));
  assert.throws(() => new AllowList(['127.0.0.1', 'nope']), /"nope"/);
});
