// rtnetlink through koffi, against this machine's kernel (root): links made
// and deleted, on the event loop and with the slow part on the thread pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netlink, withNetlink } from '../../src/networks/netlink.js';

const name = (tag: string) => `bt${tag}${process.pid % 100000}`;

test('a bridge is made, listed and deleted; deleting one that is gone says false', () => {
  const br = name('a');
  withNetlink(Netlink.open, (nl) => {
    nl.deleteLink(br);
    nl.addBridge(br, 1500);
    try {
      assert.equal(nl.link(br)?.kind, 'bridge');
      assert.ok(nl.links().some((l) => l.name === br));
    } finally {
      assert.equal(nl.deleteLink(br), true);
    }
    assert.equal(nl.link(br), undefined);
    assert.equal(nl.deleteLink(br), false);
  });
});

test('deleteLinkInBackground deletes a link off the event loop and says false for one that is gone', async () => {
  const br = name('b');
  const nl = Netlink.open();
  try {
    nl.deleteLink(br);
    nl.addBridge(br, 1500);
    assert.equal(await nl.deleteLinkInBackground(br), true);
    assert.equal(nl.link(br), undefined);
    assert.equal(await nl.deleteLinkInBackground(br), false);
    // Requests after a background one still pair with their own replies.
    assert.ok(nl.links().some((l) => l.name === 'lo'));
  } finally {
    nl.deleteLink(br);
    nl.close();
  }
});
