/**
 * The OpenFlow wire codec: framing, the message table, errors, version
 * negotiation, the field registry and ofp-print compatible text.
 *
 * Map of the folder:
 * - `ofp-buffer`  byte writer (fork/join lengths) and checked reader, hex dumps
 * - `ofp-msgs`    the message table (`OFP_RAWS`), decode/encode, `OfpFramer`
 * - `ofp-print`   `ofpToString`: text exactly as `ovs-ofctl ofp-print`
 * - `ofp-errors`  every OpenFlow error per version, error message bodies
 * - `ofp-version`, `ofp-hello`  version bitmaps, negotiation, the handshake
 * - `ofp-codec`   the body-codec contract, ports, properties, shared printing
 * - body codecs: `ofp-switch` (hello, echo, error, features, config),
 *   `ofp-port` (ports, port-status/mod/desc), `ofp-control` (roles, async,
 *   table-mod, bundles, Nicira settings, TLV table), `ofp-stats` (multipart
 *   statistics, queues, groups, meters), `ofp-table` (table desc/status)
 * - `meta-flow`   the field registry, NXM/OXM headers, field value text
 * - matches: `mf-key` (fields onto the flow key), `match` (key + mask,
 *   prerequisites, normalization), `match-parse` / `match-format` (flow
 *   syntax), `nx-match` (NXM/OXM), `ofp-match` (OF1.0/1.1 structures)
 * - `ofp-flow`    flow_mod, flow/aggregate statistics requests and replies,
 *                 flow-removed, Nicira flow monitor; `ofp-flow15`: the
 *                 OpenFlow 1.5 OXS-statistics forms
 * - `ofp-group`   group_mod and group-desc (OF1.1-1.4), group text;
 *   `ofp-group15` OpenFlow 1.5 / Nicira 1.0 groups (bucket ids, selection method)
 * - `ofp-packet`  packet-in (every form), NXT_RESUME, packet-out;
 *   `ofp-packet-text` the packet summary line under them
 * - `ofp-table-features` OFPST_TABLE_FEATURES
 * - `ofp-monitor` flow monitor, ONF (OF1.3) and OpenFlow 1.4+ forms
 * - `ofp-ct`      NXT_CT_FLUSH
 */
export * from "./ofp-buffer.js";
export * from "./ofp-codec.js";
export * from "./ofp-errors.js";
export * from "./ofp-version.js";
export * from "./ofp-msgs.js";
export * from "./ofp-print.js";
export * from "./ofp-hello.js";
export * from "./meta-flow.js";
export * from "./ofp-port.js";
export * from "./ofp-switch.js";
export * from "./ofp-control.js";
export * from "./ofp-stats.js";
export * from "./ofp-table.js";
export * from "./mf-key.js";
export * from "./match.js";
export * from "./match-format.js";
export * from "./match-parse.js";
export * from "./nx-match.js";
export * from "./ofp-match.js";
export * from "./ofp-flow.js";
export * from "./ofp-group.js";
export * from "./ofp-actions.js";
export * from "./ofp-actions-codec.js";
export * from "./ofp-actions-check.js";
export * from "./ofp-actions-subfield.js";
export { ACTION_TABLE, WIRE_ACTIONS, type ActionEntry, type WireAction } from "./ofp-actions-table.js";
export * from "./ofp-packet.js";
export * from "./ofp-table-features.js";
export * from "./ofp-group15.js";
export * from "./ofp-ct.js";
export * from "./ofp-monitor.js";
export * from "./ofp-flow15.js";
