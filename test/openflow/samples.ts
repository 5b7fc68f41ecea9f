/**
 * Sample message bodies for every message type in the table, used by the
 * differential and round-trip tests. `samplesFor(type, version)` returns a
 * few bodies that exercise the type's fields in that version.
 */
import { encodeMessage, type OfpBodies, type OfpMessage, type OfpMsgType, type TableStats } from "../../src/openflow/index.js";
import { tableFeaturesSamples } from "./table-features-samples.js";
import { ctFlushSamples } from "./ct-flush-samples.js";
import { monitorReply14Samples, monitorRequest14Samples } from "./monitor-samples.js";
import { group15DescSamples, group15ModSamples } from "./group15-samples.js";
import { nxPacketIn2Samples, nxPacketInSamples, packetInSamples, packetOutSamples, resumeSamples } from "./packet-samples.js";
import { aggregateReplySamples, flowModSamples, flowMonitorReplySamples, flowMonitorRequestSamples, flowRemovedSamples, groupDescSamples, groupModSamples, flowStatsReplySamples, flowStatsRequestSamples } from "./flow-samples.js";

const mac = (last: number): Uint8Array => new Uint8Array([0x50, 0x54, 0x00, 0x00, 0x00, last]);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function port(no: number, name: string, v: number) {
  const ofp11 = v > 1;
  return {
    portNo: no,
    hwAddr: mac(no & 0xff),
    name,
    config: ofp11 ? 0x45 : 0x13,
    state: ofp11 ? 0x5 : 0x201,
    curr: 0x2820,
    advertised: 0x282f,
    supported: v > 1 ? 0x2fff : 0x387f,
    peer: 0,
    currSpeed: ofp11 ? 1_000_000 : 1_000_000,
    maxSpeed: ofp11 ? 10_000_000 : 10_000_000,
  };
}

function ipfix(id: number) {
  return {
    collectorSetId: id, totalFlows: 1n, currentFlows: 2n, pkts: 3n, ipv4Pkts: 4n, ipv6Pkts: 5n,
    errorPkts: 6n, ipv4ErrorPkts: 7n, ipv6ErrorPkts: 8n, txPkts: 9n, txErrors: 0xffffffffffffffffn,
  };
}

type Samples = { [K in OfpMsgType]: (v: number) => OfpBodies[K][] };

const SAMPLES: Samples = {
  OFPT_HELLO: (v) => [{ versions: (1 << (v + 1)) - 2 }, { versions: 0x12 | (1 << v) }],
  OFPT_ERROR: (v) => [
    { error: "OFPBRC_BAD_TYPE", data: new Uint8Array([v, 5, 0, 8, 0, 0, 0, 7]) },
    { error: "OFPHFC_INCOMPATIBLE", data: bytes('We support "1.0"\n') },
    { error: "NXBRC_NXM_INVALID", data: new Uint8Array(0) },
    { error: "OFPBRC_BAD_TABLE_ID", data: new Uint8Array(0) },
    { error: v >= 4 ? "OFPBFC_BAD_ID" : "OFPFMFC_OVERLAP", data: new Uint8Array(0) },
  ],
  OFPT_ECHO_REQUEST: () => [{ data: bytes("hello") }, { data: new Uint8Array(0) }],
  OFPT_ECHO_REPLY: () => [{ data: new Uint8Array([0, 1, 2, 200]) }],
  OFPT_FEATURES_REQUEST: () => [{}],
  OFPT_FEATURES_REPLY: (v) => [
    {
      datapathId: 0x0000_5054_0000_0001n,
      nBuffers: 256,
      nTables: 254,
      auxiliaryId: v >= 4 ? 2 : 0,
      capabilities: v === 1 ? 0xc7 : v <= 2 ? 0xef : v <= 4 ? 0x16f : 0x76f,
      actions: v === 1 ? 0xfff : 0,
      ports: v <= 3 ? [port(2, "eth2", v), port(0xfffe, "br0", v), port(1, "eth1", v)] : [],
    },
  ],
  OFPT_GET_CONFIG_REQUEST: () => [{}],
  OFPT_GET_CONFIG_REPLY: (v) => [
    { frag: 1, invalidTtlToController: v === 2 || v === 3, missSendLen: 128 },
    { frag: 3, invalidTtlToController: false, missSendLen: 0xffff },
  ],
  OFPT_SET_CONFIG: () => [{ frag: 0, invalidTtlToController: false, missSendLen: 1500 }],
  OFPT_PORT_STATUS: (v) => [
    { reason: 0, desc: port(3, "vif3", v) },
    { reason: 2, desc: port(0xfffe, "br0", v) },
  ],
  OFPT_ROLE_STATUS: () => [
    { role: "primary", reason: 1, generationId: 7n },
    { role: "secondary", reason: 0, generationId: 12345678901n },
  ],
  ONFT_ROLE_STATUS: () => [
    { role: "primary", reason: 1, generationId: 7n },
    { role: "secondary", reason: 0, generationId: 12345678901n },
  ],
  OFPT_PORT_MOD: (v) => [
    { portNo: 4, hwAddr: mac(4), config: 1, mask: v === 1 ? 0x15 : 0x45, advertise: 0 },
    { portNo: 5, hwAddr: mac(5), config: 0x40, mask: 0x41, advertise: 0x282f },
  ],
  OFPT_TABLE_MOD: (v) => [
    { tableId: 3, miss: v <= 3 ? "continue" : "default", eviction: false, evictionFlags: null, vacancy: false, vacancyProp: null },
    {
      tableId: 254, miss: v <= 3 ? "drop" : "default", eviction: v >= 5, evictionFlags: null, vacancy: v >= 5,
      vacancyProp: v >= 5 ? { down: 20, up: 80, vacancy: 0 } : null,
    },
  ],
  OFPT_METER_MOD: () => [
    { command: 0, meter: { meterId: 1, flags: 0x5, bands: [{ type: 1, rate: 1000, burstSize: 100, precLevel: 0 }] } },
    { command: 1, meter: { meterId: 7, flags: 0x2, bands: [{ type: 2, rate: 50, burstSize: 0, precLevel: 2 }, { type: 1, rate: 90, burstSize: 0, precLevel: 0 }] } },
    { command: 2, meter: { meterId: 0xffffffff, flags: 0, bands: [] } },
  ],
  OFPT_BARRIER_REQUEST: () => [{}],
  OFPT_BARRIER_REPLY: () => [{}],
  OFPT_QUEUE_GET_CONFIG_REQUEST: (v) => (v > 1 ? [{ portNo: 1 }, { portNo: 0xffff }] : [{ portNo: 1 }]),
  OFPT_QUEUE_GET_CONFIG_REPLY: () => [
    {
      portNo: 2,
      queues: [
        { portNo: 2, queueId: 1, minRate: 500, maxRate: 1000 },
        { portNo: 2, queueId: 5, minRate: 0xffff, maxRate: 250 },
      ],
    },
  ],
  OFPT_ROLE_REQUEST: () => [
    { role: "primary", generationId: 5n },
    { role: "nochange", generationId: null },
    { role: "equal", generationId: null },
  ],
  OFPT_ROLE_REPLY: () => [{ role: "secondary", generationId: 99n }],
  NXT_ROLE_REQUEST: () => [{ role: "primary" }, { role: "equal" }],
  NXT_ROLE_REPLY: () => [{ role: "secondary" }],
  OFPT_GET_ASYNC_REQUEST: () => [{}],
  OFPT_GET_ASYNC_REPLY: (v) => [
    v === 4
      ? { primary: [1, 3, 15, 0, 0, 0], secondary: [7, 7, 14, 0, 0, 0] }
      : { primary: [1, 3, 15, 3, 24, 3], secondary: [0, 7, 14, 1, 0, 0] },
  ],
  OFPT_SET_ASYNC: (v) => [
    v === 4
      ? { primary: [3, 1, 1, 0, 0, 0], secondary: [0, 0, 0, 0, 0, 0] }
      : { primary: [3, 1, 1, 0, 8, 1], secondary: [0, 0, 0, 2, 0, 0] },
  ],
  NXT_SET_ASYNC_CONFIG: () => [{ primary: [1, 7, 15, 0, 0, 0], secondary: [0, 7, 0, 0, 0, 0] }],
  NXT_SET_ASYNC_CONFIG2: () => [{ primary: [1, 7, 15, 0, 0, 0], secondary: [0, 7, 0, 0, 0, 0] }],
  OFPT_BUNDLE_CONTROL: () => [
    { bundleId: 1, ctrlType: 0, flags: 1 },
    { bundleId: 0xabcdef, ctrlType: 5, flags: 3 },
    { bundleId: 2, ctrlType: 7, flags: 0 },
  ],
  ONFT_BUNDLE_CONTROL: () => [{ bundleId: 9, ctrlType: 2, flags: 2 }],
  OFPT_REQUESTFORWARD: (v) => [
    { xid: 0x77, meterMod: { command: 0, meter: { meterId: 3, flags: 1, bands: [{ type: 1, rate: 10, burstSize: 0, precLevel: 0 }] } } },
    ...(v === 5 ? groupModSamples(v).slice(0, 2).map((groupMod, i) => ({ xid: 0x80 + i, groupMod })) : []),
    ...(v === 6 ? group15ModSamples(v).slice(0, 3).map((groupMod, i) => ({ xid: 0x80 + i, groupMod })) : []),
  ],
  NXT_REQUESTFORWARD: (v) =>
    (v === 1 ? group15ModSamples(v) : groupModSamples(v)).slice(0, 3).map((groupMod, i) => ({ xid: 0x90 + i, groupMod })),
  ONFT_REQUESTFORWARD: (v) => [
    { xid: 0x77, meterMod: { command: 0, meter: { meterId: 3, flags: 1, bands: [{ type: 1, rate: 10, burstSize: 0, precLevel: 0 }] } } },
    ...groupModSamples(v).slice(0, 2).map((groupMod, i) => ({ xid: 0x80 + i, groupMod })),
  ],
  NXT_SET_FLOW_FORMAT: () => [{ format: 0 }, { format: 2 }],
  NXT_FLOW_MOD_TABLE_ID: () => [{ enable: true }, { enable: false }],
  NXT_SET_PACKET_IN_FORMAT: () => [{ format: 0 }, { format: 1 }, { format: 2 }],
  NXT_SET_CONTROLLER_ID: () => [{ controllerId: 0 }, { controllerId: 1234 }],
  NXT_TLV_TABLE_MOD: () => [
    { command: 0, mappings: [{ optionClass: 0xffff, optionType: 0x40, optionLen: 4, index: 1 }, { optionClass: 0x102, optionType: 1, optionLen: 8, index: 2 }] },
    { command: 1, mappings: [{ optionClass: 1, optionType: 0, optionLen: 124, index: 63 }] },
    { command: 2, mappings: [] },
  ],
  NXT_TLV_TABLE_REQUEST: () => [{}],
  NXT_TLV_TABLE_REPLY: () => [
    { maxOptionSpace: 256, maxFields: 64, mappings: [{ optionClass: 0xffff, optionType: 0x80, optionLen: 12, index: 0 }] },
    { maxOptionSpace: 256, maxFields: 64, mappings: [] },
  ],
  OFPST_DESC_REQUEST: () => [{}],
  OFPST_DESC_REPLY: () => [
    { mfrDesc: "Nicira, Inc.", hwDesc: "Open vSwitch", swDesc: "3.1.0", serialNum: "None", dpDesc: "br0" },
  ],
  OFPST_TABLE_REQUEST: () => [{}],
  OFPST_TABLE_REPLY: (v) => {
    const t = (tableId: number, name: string, o: Partial<TableStats>): TableStats => ({
      tableId, name, wildcards: 0, match: 0, instructions: 0, writeActions: 0, applyActions: 0, config: 0,
      oxmMatch: 0n, oxmWildcards: 0n, writeSetfields: 0n, applySetfields: 0n, metadataMatch: 0n, metadataWrite: 0n,
      maxEntries: 0, activeCount: 0, lookupCount: 0n, matchedCount: 0n, ...o,
    });
    const busy = { activeCount: 4, lookupCount: 100n, matchedCount: 90n };
    if (v === 1) {
      return [{
        tables: [
          t(0, "classifier", { wildcards: 0x3fffff, maxEntries: 1000000, ...busy }),
          t(1, "table1", { wildcards: 0x3fffff, maxEntries: 1000000, ...busy }),
          t(2, "table2", { wildcards: 0x3fffff, maxEntries: 1000000 }),
          t(3, "t3", { wildcards: 0x14, maxEntries: 10 }),
          t(4, "t4", { wildcards: 0x102f }),
        ],
      }];
    }
    if (v === 2) {
      const full = { wildcards: 0x3ff, match: 0xffff, instructions: 0x3e, writeActions: 0x1ffffff, applyActions: 0xfff, maxEntries: 1000000 };
      return [{
        tables: [
          t(0, "classifier", { ...full, ...busy }),
          t(1, "table1", { ...full, ...busy }),
          t(2, "table2", { ...full, config: 1 }),
          t(3, "t3", { wildcards: 0xf00, match: 0xfff, instructions: 0x2, writeActions: 1, config: 2 }),
          t(4, "t4", { wildcards: 0xf00, match: 0xfff, instructions: 0x2, writeActions: 1, config: 3, ...busy }),
          t(5, "t5", {}),
        ],
      }];
    }
    if (v === 3) {
      const all = 0xffffffffffn;
      const full = {
        oxmMatch: all, oxmWildcards: 0xffn, writeActions: 0x3ffffff, applyActions: 0x3ffffff, writeSetfields: all,
        applySetfields: all, metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffn, instructions: 0x3e, maxEntries: 1000000,
      };
      return [{
        tables: [
          t(0, "classifier", { ...full, ...busy }),
          t(1, "table1", { ...full, ...busy }),
          t(2, "table2", { ...full, applyActions: 1, applySetfields: 1n, config: 2 }),
          t(3, "t3", { oxmMatch: 0x3000n, oxmWildcards: 0x1000n, instructions: 0x10, writeActions: 1, applyActions: 1, config: 1 }),
          t(4, "t4", { metadataWrite: 0xf0n }),
          t(5, "t5", {}),
          t(6, "t6", { ...full }),
          t(7, "t7", { ...full, instructions: 0x6 }),
          t(8, "", { ...full, instructions: 0x6 }),
          t(9, "", { ...full, instructions: 0x6 }),
          t(10, "", { ...full, instructions: 0x6 }),
        ],
      }];
    }
    return [{
      tables: [
        t(0, "", busy),
        t(1, "", { lookupCount: 10n }),
        t(2, "", { lookupCount: 10n }),
        t(3, "", { lookupCount: 10n }),
        t(4, "", { activeCount: 1, lookupCount: 10n }),
        t(5, "", { activeCount: 1, lookupCount: 10n }),
      ],
    }];
  },
  OFPST_PORT_REQUEST: () => [{ portNo: 1 }, { portNo: 0xfffc }, { portNo: 0xfffe }],
  OFPST_PORT_REPLY: (v) => {
    const unknown = 0xffffffffffffffffn;
    const s = (no: number, base: bigint) => ({
      portNo: no, rxPackets: base, txPackets: base + 1n, rxBytes: base * 64n, txBytes: base * 70n,
      rxDropped: 0n, txDropped: 1n, rxErrors: 2n, txErrors: 3n,
      rxFrameErr: 4n, rxOverErr: v >= 5 ? 5n : unknown, rxCrcErr: 6n, collisions: 7n,
      durationSec: v >= 4 ? 12 : 0xffffffff, durationNsec: v >= 4 ? 345 : 0xffffffff,
    });
    return [{ stats: [s(1, 10n), s(0xfffe, 1000n), s(12, 5n)] }, { stats: [] }];
  },
  OFPST_QUEUE_REQUEST: () => [{ portNo: 0xffff, queueId: 0xffffffff }, { portNo: 3, queueId: 1 }],
  OFPST_QUEUE_REPLY: (v) => [
    {
      stats: [
        { portNo: 1, queueId: 0, txBytes: 1000n, txPackets: 10n, txErrors: 0n, durationSec: v >= 4 ? 5 : 0xffffffff, durationNsec: v >= 4 ? 6 : 0xffffffff },
        { portNo: 2, queueId: 7, txBytes: 0xffffffffffffffffn, txPackets: 1n, txErrors: 2n, durationSec: v >= 4 ? 0 : 0xffffffff, durationNsec: v >= 4 ? 0 : 0xffffffff },
      ],
    },
  ],
  OFPST_PORT_DESC_REQUEST: (v) => (v >= 6 ? [{ portNo: 0xffff }, { portNo: 7 }] : [{ portNo: 0xffff }]),
  OFPST_PORT_DESC_REPLY: (v) => [{ ports: [port(7, "p7", v), port(0xfffe, "br-int", v)] }],
  OFPST_QUEUE_DESC_REQUEST: () => [{ portNo: 1, queueId: 0xffffffff }, { portNo: 0xffff, queueId: 4 }],
  OFPST_QUEUE_DESC_REPLY: () => [
    {
      queues: [
        { portNo: 1, queueId: 2, minRate: 500, maxRate: 1000 },
        { portNo: 1, queueId: 3, minRate: 100, maxRate: 0xffff },
        { portNo: 2, queueId: 0, minRate: 0xffff, maxRate: 0xffff },
      ],
    },
  ],
  OFPST_GROUP_FEATURES_REQUEST: () => [{}],
  OFPST_GROUP_FEATURES_REPLY: () => [
    { types: 0xf, capabilities: 0x7, maxGroups: [0x10, 0x20, 0x30, 0x40], actions: [1, (1 << 22) | 1, (1 << 25) | (1 << 17) | (1 << 18), 1 << 21] },
  ],
  OFPST_METER_REQUEST: () => [{ meterId: 0xffffffff }, { meterId: 5 }, { meterId: 0xfffffffe }],
  OFPST_METER_REPLY: () => [
    {
      stats: [
        { meterId: 1, flowCount: 2, packetInCount: 3n, byteInCount: 4n, durationSec: 5, durationNsec: 6, bands: [{ packetCount: 7n, byteCount: 8n }] },
        { meterId: 2, flowCount: 0, packetInCount: 0n, byteInCount: 0n, durationSec: 0, durationNsec: 0, bands: [] },
      ],
    },
  ],
  OFPST_METER_CONFIG_REQUEST: () => [{ meterId: 0xffffffff }],
  OFPST_METER_CONFIG_REPLY: () => [
    {
      meters: [
        { meterId: 1, flags: 5, bands: [{ type: 1, rate: 1000, burstSize: 100, precLevel: 0 }] },
        { meterId: 2, flags: 10, bands: [{ type: 2, rate: 10, burstSize: 0, precLevel: 1 }] },
      ],
    },
  ],
  OFPST_METER_FEATURES_REQUEST: () => [{}],
  OFPST_GROUP_REQUEST: () => [{ groupId: 0xfffffffc }, { groupId: 7 }, { groupId: 0xffffffff }],
  OFPST_GROUP_REPLY: (v) => [
    {
      stats: [
        {
          groupId: 1, refCount: 2, packetCount: 10n, byteCount: 20n,
          durationSec: v >= 4 ? 3 : 0xffffffff, durationNsec: v >= 4 ? 500000000 : 0xffffffff,
          buckets: [{ packetCount: 5n, byteCount: 6n }, { packetCount: 0n, byteCount: 0n }],
        },
        { groupId: 0xfffffff0, refCount: 0, packetCount: 0n, byteCount: 0n, durationSec: v >= 4 ? 0 : 0xffffffff, durationNsec: v >= 4 ? 0 : 0xffffffff, buckets: [] },
      ],
    },
  ],
  OFPST_GROUP_DESC_REQUEST: (v) => (v >= 6 ? [{ groupId: 5 }, { groupId: 0xfffffffc }] : [{ groupId: 0xfffffffc }]),
  OFPST_TABLE_DESC_REQUEST: () => [{}],
  OFPST_TABLE_DESC_REPLY: () => [
    {
      tables: [
        { tableId: 3, eviction: true, vacancy: true, evictionFlags: 3, vacancyProp: { down: 10, up: 50, vacancy: 0 } },
        { tableId: 4, eviction: false, vacancy: false, evictionFlags: null, vacancyProp: null },
        { tableId: 5, eviction: false, vacancy: true, evictionFlags: 7, vacancyProp: null },
      ],
    },
  ],
  OFPT_TABLE_STATUS: () => [
    { reason: 4, desc: { tableId: 3, eviction: false, vacancy: true, evictionFlags: null, vacancyProp: { down: 10, up: 50, vacancy: 30 } } },
    { reason: 3, desc: { tableId: 0, eviction: true, vacancy: false, evictionFlags: 1, vacancyProp: null } },
  ],
  OFPT_BUNDLE_ADD_MESSAGE: (v) => [
    {
      bundleId: 7,
      flags: 1,
      message: encodeMessage({
        type: "OFPT_PORT_MOD", version: v, xid: 0x10,
        body: { portNo: 3, hwAddr: mac(1), config: 1, mask: 1, advertise: 0 },
      }),
    },
  ],
  ONFT_BUNDLE_ADD_MESSAGE: (v) => [
    {
      bundleId: 0x100,
      flags: 3,
      message: encodeMessage({
        type: "OFPT_PORT_MOD", version: v, xid: 0x10,
        body: { portNo: 9, hwAddr: mac(9), config: 0x40, mask: 0x44, advertise: 0x20 },
      }),
    },
  ],
  NXT_FLOW_AGE: () => [{}],
  NXT_FLOW_MONITOR_CANCEL: () => [{ id: 7 }, { id: 0xffffffff }],
  NXT_FLOW_MONITOR_PAUSED: () => [{}],
  NXT_FLOW_MONITOR_RESUMED: () => [{}],
  NXT_CT_FLUSH_ZONE: () => [{ zoneId: 0 }, { zoneId: 65535 }],
  NXT_CT_FLUSH: () => ctFlushSamples(),
  NXST_IPFIX_BRIDGE_REQUEST: () => [{}],
  NXST_IPFIX_BRIDGE_REPLY: () => [{ stats: ipfix(0) }],
  NXST_IPFIX_FLOW_REQUEST: () => [{}],
  NXST_IPFIX_FLOW_REPLY: () => [{ stats: [ipfix(7), ipfix(123)] }, { stats: [] }],
  OFPT_FLOW_MOD: (v) => flowModSamples(v, false),
  NXST_FLOW_MONITOR_REQUEST: () => flowMonitorRequestSamples(),
  NXST_FLOW_MONITOR_REPLY: () => flowMonitorReplySamples(),
  ONFST_FLOW_MONITOR_REQUEST: () => flowMonitorRequestSamples(),
  ONFST_FLOW_MONITOR_REPLY: () => flowMonitorReplySamples().map((b) => ({ updates: b.updates.map((u) => (u.event === 3 ? u : { ...u, actions: u.actions })) })),
  ONFT_FLOW_MONITOR_CANCEL: () => [{ id: 7 }, { id: 0xffffffff }],
  ONFT_FLOW_MONITOR_PAUSED: () => [{}],
  ONFT_FLOW_MONITOR_RESUMED: () => [{}],
  OFPST_FLOW_MONITOR_REQUEST: () => monitorRequest14Samples(),
  OFPST_FLOW_MONITOR_REPLY: () => monitorReply14Samples(),
  OFPT_GROUP_MOD: (v) => (v >= 6 ? group15ModSamples(v) : groupModSamples(v)),
  OFPST_GROUP_DESC_REPLY: (v) => (v >= 6 ? group15DescSamples(v) : groupDescSamples(v)),
  NXT_GROUP_MOD: (v) => group15ModSamples(v),
  NXST_GROUP_DESC_REQUEST: () => [{ groupId: 5 }, { groupId: 0xfffffffc }],
  NXST_GROUP_DESC_REPLY: (v) => group15DescSamples(v),
  NXST_GROUP_REQUEST: () => [{ groupId: 0xfffffffc }, { groupId: 7 }],
  NXST_GROUP_REPLY: () => [
    {
      stats: [
        {
          groupId: 1, refCount: 2, packetCount: 10n, byteCount: 20n, durationSec: 3, durationNsec: 500000000,
          buckets: [{ packetCount: 5n, byteCount: 6n }, { packetCount: 0xffffffffffffffffn, byteCount: 0xffffffffffffffffn }],
        },
      ],
    },
  ],
  NXST_GROUP_FEATURES_REQUEST: () => [{}],
  NXST_GROUP_FEATURES_REPLY: () => [
    { types: 0xf, capabilities: 0x7, maxGroups: [0x10, 0x20, 0x30, 0x40], actions: [1, (1 << 11) | (1 << 22) | 1, (1 << 3) | (1 << 8) | (1 << 18), 1 << 21] },
  ],
  OFPT_FLOW_REMOVED: (v) => flowRemovedSamples(v, false),
  NXT_FLOW_REMOVED: (v) => flowRemovedSamples(v, true),
  NXT_FLOW_MOD: (v) => flowModSamples(v, true),
  OFPST_FLOW_REQUEST: (v) => flowStatsRequestSamples(v, false),
  NXST_FLOW_REQUEST: (v) => flowStatsRequestSamples(v, true),
  OFPST_AGGREGATE_REQUEST: (v) => flowStatsRequestSamples(v, false),
  NXST_AGGREGATE_REQUEST: (v) => flowStatsRequestSamples(v, true),
  OFPST_FLOW_REPLY: (v) => flowStatsReplySamples(v, false),
  NXST_FLOW_REPLY: (v) => flowStatsReplySamples(v, true),
  OFPST_AGGREGATE_REPLY: () => aggregateReplySamples(),
  NXST_AGGREGATE_REPLY: () => aggregateReplySamples(),
  OFPST_TABLE_FEATURES_REQUEST: (v) => tableFeaturesSamples(v, true),
  OFPST_TABLE_FEATURES_REPLY: (v) => tableFeaturesSamples(v, false),
  OFPT_PACKET_IN: (v) => packetInSamples(v),
  NXT_PACKET_IN: () => nxPacketInSamples(),
  NXT_PACKET_IN2: () => nxPacketIn2Samples(),
  NXT_RESUME: () => resumeSamples(),
  OFPT_PACKET_OUT: (v) => packetOutSamples(v),
  OFPST_METER_FEATURES_REPLY: () => [{ maxMeter: 65536, bandTypes: 6, capabilities: 0xf, maxBands: 16, maxColor: 8 }],
};

/** Sample messages of `type` in `version`. */
export function samplesFor(type: OfpMsgType, version: number): OfpMessage[] {
  const make = SAMPLES[type] as (v: number) => unknown[];
  return make(version).map((body, i) => ({ type, version, xid: 0x10 + i, body }) as OfpMessage);
}
