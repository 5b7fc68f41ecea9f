/**
 * The checked constructors and parse functions take untrusted bytes: fed
 * mutated frames at header offsets, they return a value or null and never
 * throw.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ArpView,
  EthernetView,
  GeneveView,
  IcmpView,
  Ipv4View,
  Ipv6View,
  SctpView,
  TcpView,
  UdpView,
  VxlanView,
  MplsView,
  GreView,
  parseArp,
  parseEthernet,
  parseGeneve,
  parseGeneveOptions,
  parseGre,
  parseIcmp,
  parseIpv4,
  parseIpv6,
  parseMplsStack,
  parseNd,
  parseSctp,
  parseTcp,
  parseUdp,
  parseVxlan,
  readPcap,
} from "../../src/packet/index.js";
import { malformedFrames, validFrames } from "../flow/corpus.js";
import { mutateInto, Rng } from "../flow/mutate.js";

const PARSERS: ((b: Uint8Array, off: number, len: number) => unknown)[] = [
  parseEthernet, parseArp, parseIpv4, parseIpv6, parseIcmp, parseNd, parseTcp, parseUdp, parseSctp, parseMplsStack, parseVxlan, parseGeneve, parseGeneveOptions, parseGre,
  EthernetView.check, ArpView.check, Ipv4View.check, Ipv6View.check, IcmpView.check, TcpView.check, UdpView.check, SctpView.check, VxlanView.check, GeneveView.check, MplsView.check, GreView.check,
];

test("parsers never throw on 20000 mutated frames at every offset", () => {
  const corpus = [...validFrames(), ...malformedFrames()].map((f) => f.bytes);
  const rng = new Rng(77);
  const scratch = new Uint8Array(4096);
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const n = mutateInto(corpus[rng.below(corpus.length)]!, scratch, rng);
    const frame = scratch.slice(0, n);
    const off = rng.below(Math.min(n, 80) + 1);
    for (const parse of PARSERS) {
      if (parse(frame, off, n - off) !== null) parsed++;
    }
  }
  assert.ok(parsed > 10000, `only ${parsed} successful parses`);
});

test("readPcap never throws on damaged files", () => {
  const rng = new Rng(5);
  const base = new Uint8Array(24 + 16 + 60);
  const dv = new DataView(base.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint32(32, 60, true);
  dv.setUint32(36, 60, true);
  for (let i = 0; i < 5000; i++) {
    const b = base.slice(0, rng.below(base.length + 1));
    for (let k = 0; k < 3 && b.length > 0; k++) b[rng.below(b.length)] = rng.next() & 0xff;
    const r = readPcap(b);
    assert.ok("error" in r || Array.isArray(r.records));
  }
});
