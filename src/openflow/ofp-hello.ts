/**
 * The OpenFlow connection handshake as OVS's vconn runs it: each side
 * sends a hello listing the versions it allows, and on receiving the
 * peer's hello picks the highest common version — or, when there is none,
 * sends an OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE error (in the peer's
 * highest version, with OVS's text) and closes.
 */
import { decodeHelloElements } from "./ofp-switch.js";
import { OfpReader } from "./ofp-buffer.js";
import { encodeMessage, helloFailed, type OfpMessage } from "./ofp-msgs.js";
import { highestVersion, negotiateVersion, type VersionBitmap } from "./ofp-version.js";

/** The hello a side sends for the versions it allows (ofputil_encode_hello). */
export function makeHello(allowed: VersionBitmap, xid = 0): OfpMessage {
  return { type: "OFPT_HELLO", version: highestVersion(allowed), xid, body: { versions: allowed } };
}

export type HelloOutcome =
  /** Negotiated: use `version` from now on. */
  | { ok: true; version: number; peerVersions: VersionBitmap }
  /** Incompatible: send `reply` (bytes), log `log`, close. */
  | { ok: false; reply: Uint8Array; log: string }
  /** The first message was not a hello: OVS logs it and drops the connection. */
  | { ok: false; reply: null; log: string };

/**
 * Handles the first message received on a connection, given the versions
 * this side allows.
 */
export function receiveHello(allowed: VersionBitmap, first: Uint8Array): HelloOutcome {
  if (first.length < 8 || first[1] !== 0) {
    return { ok: false, reply: null, log: "received message while expecting hello" };
  }
  const headerVersion = first[0]!;
  const len = Math.min((first[2]! << 8) | first[3]!, first.length);
  const { versions } = decodeHelloElements(new OfpReader(first, 8, len), headerVersion);
  const n = negotiateVersion(allowed, headerVersion, versions);
  if (n.ok) return { ok: true, version: n.version, peerVersions: versions };
  return { ok: false, reply: encodeMessage(helloFailed(n.version, n.text)), log: n.log };
}
