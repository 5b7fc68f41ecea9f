import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  crc32c,
  csumFinish,
  csumPartial,
  csumUpdate16,
  csumUpdate32,
  csumUpdate128,
  internetChecksum,
  ipv4PseudoSum,
  l4Checksum,
  sctpChecksum,
  SctpView,
  get16,
  set16,
  set32,
  get32,
} from "../../src/packet/index.js";
import { sctp } from "../util/packets.js";

test("internet checksum of RFC 1071's example and of a real IPv4 header", () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (checksum 220d).
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7), 0, 8), 0x220d);
  const hdr = Uint8Array.from(Buffer.from("450000730000400040110000c0a80001c0a800c7", "hex"));
  assert.equal(internetChecksum(hdr, 0, 20), 0xb861);
  // Odd length pads with a zero byte.
  assert.equal(internetChecksum(Uint8Array.of(0x01), 0, 1), 0xfeff);
});

test("RFC 1624 incremental updates equal recomputation (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (data, at, v, six) => {
      const b = Uint8Array.from(data.length % 2 ? [...data, 0] : data);
      const csum = internetChecksum(b, 0, b.length);
      const w = (at % (b.length / 2 - 1)) * 2;
      // 16-bit change
      const c1 = b.slice();
      const old16 = get16(c1, w);
      set16(c1, w, v & 0xffff);
      assert.equal(csumUpdate16(csum, old16, v & 0xffff) === internetChecksum(c1, 0, c1.length) || csumFinish(csumPartial(c1, 0, c1.length)) === 0, true);
      // 32-bit change (aligned)
      if (w + 4 <= c1.length) {
        const c2 = b.slice();
        const old32 = get32(c2, w);
        set32(c2, w, v);
        const inc = csumUpdate32(csum, old32, v);
        const full = internetChecksum(c2, 0, c2.length);
        assert.ok(inc === full || (inc ^ full) === 0xffff, `${inc.toString(16)} vs ${full.toString(16)}`);
      }
      if (b.length >= 16) {
        const c3 = b.slice();
        const old = c3.slice(0, 16);
        c3.set(six, 0);
        const inc = csumUpdate128(csum, old, 0, six, 0);
        const full = internetChecksum(c3, 0, c3.length);
        assert.ok(inc === full || (inc ^ full) === 0xffff);
      }
    }),
  );
});

test("pseudo-header checksum verifies to zero when stored", () => {
  const seg = Uint8Array.from(Buffer.from("04d20050000000010000000050100100000000000102", "hex"));
  const pseudo = ipv4PseudoSum(0x0a000001, 0x0a000002, 6, seg.length);
  set16(seg, 16, l4Checksum(seg, 0, seg.length, 16, pseudo));
  assert.equal(csumFinish(csumPartial(seg, 0, seg.length, pseudo)), 0);
});

test("CRC32c matches RFC 3720's test vectors and SCTP packets verify", () => {
  assert.equal(crc32c(new Uint8Array(32), 0, 32), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff), 0, 32), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i), 0, 32), 0x46dd794e);
  // Split computation equals one-shot.
  const d = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff);
  assert.equal(crc32c(d, 50, 50, crc32c(d, 0, 50)), crc32c(d, 0, 100));
  const s = sctp(5000, 5001, Uint8Array.of(0, 3, 0, 8, 1, 2, 3, 4));
  const v = SctpView.check(s, 0, s.length)!;
  v.fillChecksum();
  assert.ok(v.checksumValid());
  assert.equal(v.checksum(), sctpChecksum(s, 0, s.length));
  s[13] ^= 1;
  assert.ok(!v.checksumValid());
});
