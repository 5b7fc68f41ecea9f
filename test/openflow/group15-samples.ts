/**
 * Sample OpenFlow 1.5 group bodies (bucket ids, bucket commands, selection
 * methods) for `samples.ts` and the group test; also used for OVS's
 * OpenFlow 1.0 group extension (NXT_GROUP_MOD, NXST_GROUP_DESC).
 */
import type { Bucket, GroupDesc, GroupModBody } from "../../src/openflow/index.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";

function actionsOf(text: string) {
  const a = parseActions(text);
  if ("error" in a) throw new Error(`${text}: ${a.error}`);
  return a;
}

const ones = (n: number): Uint8Array => new Uint8Array(n).fill(0xff);

export function group15ModSamples(v: number): GroupModBody[] {
  const b = (id: number, a: string, over: Partial<Bucket> = {}): Bucket =>
    ({ bucketId: id, weight: 0, watchPort: 0xffff, watchGroup: 0xffffffff, actions: actionsOf(a), ...over });
  const setField = v === 1 ? "mod_nw_dst:10.0.0.1" : "set_field:10.0.0.1->ip_dst";
  return [
    { command: 0, type: 0, groupId: 1, commandBucketId: 0xffffffff, buckets: [b(0, "output:1"), b(1, "output:2,mod_vlan_vid:5")] },
    {
      command: 0, type: 1, groupId: 2, commandBucketId: 0xffffffff,
      buckets: [b(5, "output:3", { weight: 1 }), b(7, "output:4", { weight: 50 }), b(0xffffff00, "drop", { weight: 0 })],
      props: { selectionMethod: "hash", selectionMethodParam: 7n, fields: [{ name: "eth_dst", mask: ones(6) }, { name: "ip_dst", mask: new Uint8Array([255, 255, 255, 0]) }, { name: "tcp_dst", mask: ones(2) }] },
    },
    {
      command: 1, type: 1, groupId: 3, commandBucketId: 0xffffffff, buckets: [b(0, "output:1", { weight: 1 })],
      props: { selectionMethod: "dp_hash", selectionMethodParam: 0n, fields: [] },
    },
    { command: 1, type: 1, groupId: 4, commandBucketId: 0xffffffff, buckets: [], props: { selectionMethod: "hash", selectionMethodParam: 0n, fields: [{ name: "ipv6_src", mask: ones(16) }] } },
    { command: 2, type: 0, groupId: 0xfffffffc, commandBucketId: 0xffffffff, buckets: [] },
    { command: 0x8000, type: 3, groupId: 7, commandBucketId: 0xffffffff, buckets: [b(1, "output:5", { watchPort: 5 }), b(2, "drop", { watchGroup: 9, watchPort: 0xfffe })] },
    { command: 0, type: 2, groupId: 8, commandBucketId: 0xffffffff, buckets: [b(3, setField)] },
    { command: 3, type: 0, groupId: 9, commandBucketId: 0xfffffffd, buckets: [b(10, "output:6"), b(11, "output:7")] },
    { command: 3, type: 1, groupId: 9, commandBucketId: 12, buckets: [b(13, "output:6", { weight: 3 })] },
    { command: 5, type: 0, groupId: 9, commandBucketId: 0xfffffffe, buckets: [] },
    { command: 5, type: 0, groupId: 9, commandBucketId: 0xffffffff, buckets: [] },
  ];
}

export function group15DescSamples(v: number): { groups: GroupDesc[] }[] {
  const groups = group15ModSamples(v)
    .filter((g) => g.command === 0 || g.command === 1)
    .map(({ groupId, type, buckets, props }) => (props ? { groupId, type, buckets, props } : { groupId, type, buckets }));
  return [{ groups }, { groups: [] }];
}
