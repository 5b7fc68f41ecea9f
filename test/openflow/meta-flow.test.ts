/**
 * The field registry against real OVS: every NXM and OXM header tsovs
 * computes for a field is the header `ovs-ofctl parse-nxm` / `parse-oxm`
 * maps back to that field's name; header text round-trips; field values
 * parse and print in OVS's text forms.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip } from "../util/ovs.js";
import {
  bytesToHex,
  encodeNxmHeader,
  formatMfValue,
  formatNxmHeader,
  headerForCode,
  type MfCode,
  type MfField,
  type MfPrereq,
  MF_FIELDS,
  mfFromHeader,
  mfFromName,
  parseMfValue,
  parseNxmHeader,
  unboundFlowKeys,
} from "../../src/openflow/index.js";
import { FLOW_FIELDS } from "../../src/flow/key-layout.js";

const skip = ovsSkip("ovs-ofctl");

/** Matches that satisfy a prerequisite, in NXM (and OXM) text. */
function prereqText(p: MfPrereq, oxm: boolean): string[] {
  const et = (t: string) => (oxm ? `OXM_OF_ETH_TYPE(${t})` : `NXM_OF_ETH_TYPE(${t})`);
  const proto = (t: string) => (oxm ? `OXM_OF_IP_PROTO(${t})` : `NXM_OF_IP_PROTO(${t})`);
  const icmp6 = (t: string) => (oxm ? `OXM_OF_ICMPV6_TYPE(${t})` : `NXM_NX_ICMPV6_TYPE(${t})`);
  switch (p) {
    case "none":
    case "ethernet":
      return [];
    case "arp":
      return [et("0806")];
    case "ipv4":
    case "ip_any":
      return [et("0800")];
    case "ipv6":
      return [et("86dd")];
    case "tcp":
      return [et("0800"), proto("06")];
    case "udp":
      return [et("0800"), proto("11")];
    case "sctp":
      return [et("0800"), proto("84")];
    case "icmpv4":
      return [et("0800"), proto("01")];
    case "icmpv6":
      return [et("86dd"), proto("3a")];
    case "nd":
    case "nd_solicit":
      return [et("86dd"), proto("3a"), icmp6("87")];
    case "nd_advert":
      return [et("86dd"), proto("3a"), icmp6("88")];
    case "mpls":
      return [et("8847")];
    case "vlan_vid":
      return [oxm ? "OXM_OF_VLAN_VID_W(1000/1000)" : "NXM_OF_VLAN_TCI_W(1000/1000)"];
    case "ct":
      return ["NXM_NX_CT_STATE_W(00000020/00000020)"];
    case "nsh":
      return [et("894f")];
  }
}

function line(fld: MfField, code: MfCode, oxm: boolean): string {
  const h = headerForCode(fld, code, false);
  const hex = bytesToHex(encodeNxmHeader(h));
  const len = fld.name.startsWith("tun_metadata") ? 4 : fld.bytes;
  // A value of 1: OVS omits some fields matched against zero.
  const last = fld.name === "nw_tos" ? "04" : "01";
  const pre = prereqText(fld.prereqs, oxm);
  // ct_tp_* are shown only with the connection's protocol known.
  if (fld.name.startsWith("ct_tp_")) pre.push(oxm ? "OXM_OF_ETH_TYPE(0800)" : "NXM_OF_ETH_TYPE(0800)", "NXM_NX_CT_NW_PROTO(06)");
  return [...pre, `${hex}(${"00".repeat(len - 1)}${last})`].join(", ");
}

/** What ovs-ofctl prints for a field: its name, masked form, or (xxregs) the regs it overlays. */
function printedNames(fld: MfField, code: MfCode): string[] {
  const m = /^xxreg(\d)$/.exec(fld.name);
  if (m) return [`NXM_NX_REG${4 * Number(m[1]) + 3}(`];
  const x = /^xreg(\d)$/.exec(fld.name);
  if (x) return [`NXM_NX_REG${2 * Number(x[1]) + 1}(`];
  return [`${code.name}(`, `${code.name}_W(`];
}

function checkAll(cmd: string[], codes: { fld: MfField; code: MfCode }[], oxm: boolean): string[] {
  const input = codes.map(({ fld, code }) => line(fld, code, oxm)).join("\n") + "\n";
  const r = spawnSync("ovs-ofctl", cmd, { input, encoding: "utf8" });
  const out = r.stdout.split("\n");
  const bad: string[] = [];
  codes.forEach(({ fld, code }, i) => {
    const got = out[i] ?? "";
    if (!printedNames(fld, code).some((n) => got.includes(n))) bad.push(`${code.name}: ${line(fld, code, oxm)} -> ${got}`);
  });
  return bad;
}

test("every NXM header tsovs computes is the field ovs-ofctl parse-nxm names", { skip }, () => {
  const codes = MF_FIELDS.filter((f) => f.nxm && f.nxm.class !== 0xffff).map((fld) => ({ fld, code: fld.nxm! }));
  assert.ok(codes.length > 140);
  assert.deepEqual(checkAll(["parse-nxm"], codes, false), []);
});

test("every OXM header tsovs computes is the field ovs-ofctl parse-oxm names", { skip }, () => {
  const codes = MF_FIELDS.flatMap((fld) =>
    [fld.oxm, fld.oxm15, fld.nxm && fld.nxm.class === 0xffff ? fld.nxm : null].filter((c): c is MfCode => c !== null).map((code) => ({ fld, code })),
  );
  assert.ok(codes.length > 50);
  // Each code in the version that introduced it (OVS prints OF1.5's
  // standard names for fields that OF1.5 standardised).
  const of13 = codes.filter(({ code }) => (code.ofVersion ?? 4) <= 4);
  const of15 = codes.filter(({ code }) => (code.ofVersion ?? 4) > 4);
  assert.deepEqual(checkAll(["parse-oxm", "OpenFlow13"], of13, true), []);
  assert.deepEqual(checkAll(["parse-oxm", "OpenFlow15"], of15, true), []);
});

test("header text parses and prints both ways", () => {
  for (const fld of MF_FIELDS) {
    for (const code of [fld.nxm, fld.oxm, fld.oxm15]) {
      if (!code) continue;
      for (const masked of fld.maskable ? [false, true] : [false]) {
        const name: string = code.name + (masked ? "_W" : "");
        const h = parseNxmHeader(name);
        assert.ok(h, name);
        assert.equal(formatNxmHeader(h), name);
        assert.equal(mfFromHeader(h)?.name, fld.name);
        // Raw hex spelling of the same header parses to the same thing.
        assert.deepEqual(parseNxmHeader(bytesToHex(encodeNxmHeader(h))), h);
      }
    }
  }
  assert.equal(parseNxmHeader("NXM_NX_CONJ_ID_W"), null, "conj_id is not maskable");
  assert.equal(formatNxmHeader({ class: 1, field: 127, vendor: 0, hasmask: false, length: 4 }), "1:127");
});

test("registry facts match ovs-fields(7)", () => {
  assert.equal(mfFromName("dl_src")?.name, "eth_src");
  assert.equal(mfFromName("nw_src")?.bits, 32);
  assert.equal(mfFromName("tcp_flags")?.oxm?.name, "ONFOXM_ET_TCP_FLAGS");
  assert.equal(mfFromName("reg15")?.nxm?.field, 15);
  assert.equal(mfFromName("xxreg3")?.nxm?.field, 114);
  assert.equal(mfFromName("tun_metadata63")?.nxm?.field, 103);
  assert.equal(mfFromName("xreg7")?.oxm?.class, 0x8001);
  assert.equal(mfFromName("ip_dscp")?.maskable, false);
  assert.equal(mfFromName("ct_state")?.writable, false);
  assert.equal(mfFromName("nw_src")?.of10, "cidr");
  assert.equal(MF_FIELDS.length, 179);
  // Every flowKey placeholder names a real FLOW_FIELDS entry.
  const flowNames = FLOW_FIELDS.map((f) => f.name);
  for (const f of MF_FIELDS) assert.ok(flowNames.includes(f.flowKey), `${f.name} -> ${f.flowKey}`);
  assert.deepEqual(unboundFlowKeys(flowNames), []);
});

test("field values print as OVS prints them in flows", () => {
  const fmt = (name: string, text: string) => {
    const f = mfFromName(name)!;
    const p = parseMfValue(f, text);
    assert.ok(p.ok, `${name}=${text}: ${p.ok ? "" : p.error}`);
    return formatMfValue(f, p.value);
  };
  // Expected strings are what `ovs-ofctl parse-flow` prints for these fields.
  assert.equal(fmt("reg0", "5/0xff"), "0x5/0xff");
  assert.equal(fmt("nw_src", "10.0.0.0/8"), "10.0.0.0/8");
  assert.equal(fmt("nw_src", "1.0.3.0/255.0.255.0"), "1.0.3.0/255.0.255.0");
  assert.equal(fmt("ipv6_src", "2001:db8::/32"), "2001:db8::/32");
  assert.equal(fmt("ipv6_dst", "::/16"), "::/16");
  assert.equal(fmt("ipv6_dst", "::ffff:1.2.3.4"), "::ffff:1.2.3.4");
  assert.equal(fmt("ct_state", "+trk-new"), "-new+trk");
  assert.equal(fmt("tcp_flags", "+syn-ack"), "+syn-ack");
  assert.equal(fmt("ip_frag", "first"), "first");
  assert.equal(fmt("tun_flags", "+oam"), "+oam");
  assert.equal(fmt("tp_src", "0x100/0xff00"), "0x100/0xff00");
  assert.equal(fmt("dl_src", "01:00:00:00:00:00/01:00:00:00:00:00"), "01:00:00:00:00:00/01:00:00:00:00:00");
  assert.equal(fmt("in_port", "LOCAL"), "LOCAL");
  assert.equal(fmt("packet_type", "(1,0x800)"), "(1,0x800)");
  assert.equal(fmt("pkt_mark", "0x10/0xf0"), "0x10/0xf0");
  assert.equal(fmt("recirc_id", "5"), "0x5");
  assert.equal(fmt("tcp_src", "80"), "80");
  const bad = parseMfValue(mfFromName("ip_dscp")!, "1/1");
  assert.deepEqual(bad, { ok: false, error: "ip_dscp: field does not support masking" });
  assert.equal(parseMfValue(mfFromName("tcp_src")!, "70000").ok, false);
});
