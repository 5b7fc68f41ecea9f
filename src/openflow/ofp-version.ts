/**
 * OpenFlow protocol versions as they appear on the wire, their names, and
 * version negotiation as OVS does it (the highest version both sides
 * allow; OF1.3+ hellos carry a bitmap element listing every version).
 */

export const OFP10_VERSION = 0x01;
export const OFP11_VERSION = 0x02;
export const OFP12_VERSION = 0x03;
export const OFP13_VERSION = 0x04;
export const OFP14_VERSION = 0x05;
export const OFP15_VERSION = 0x06;

/** Every version tsovs speaks, lowest first. */
export const OFP_VERSIONS: readonly number[] = [1, 2, 3, 4, 5, 6];
export const OFP_MIN_VERSION = OFP10_VERSION;
export const OFP_MAX_VERSION = OFP15_VERSION;

/** The " (OF1.3)" tag ofp-print puts after a message name (empty for 1.0). */
export function versionTag(version: number): string {
  switch (version) {
    case 1:
      return "";
    case 2:
      return " (OF1.1)";
    case 3:
      return " (OF1.2)";
    case 4:
      return " (OF1.3)";
    case 5:
      return " (OF1.4)";
    case 6:
      return " (OF1.5)";
    default:
      return ` (OF 0x${version.toString(16).padStart(2, "0")})`;
  }
}

/** "OpenFlow13" style names used by `-O` and the OVSDB `protocols` column. */
export const VERSION_NAMES: Readonly<Record<number, string>> = {
  1: "OpenFlow10",
  2: "OpenFlow11",
  3: "OpenFlow12",
  4: "OpenFlow13",
  5: "OpenFlow14",
  6: "OpenFlow15",
};

/** A set of versions as a bitmap: bit v set means version v allowed. */
export type VersionBitmap = number;

export function bitmapOf(versions: readonly number[]): VersionBitmap {
  let b = 0;
  for (const v of versions) if (v >= 0 && v < 32) b |= 1 << v;
  return b >>> 0;
}

export function versionsOf(bitmap: VersionBitmap): number[] {
  const out: number[] = [];
  for (let v = 0; v < 32; v++) if (bitmap & (1 << v)) out.push(v);
  return out;
}

/** Highest version in the bitmap, or 0 when empty. */
export function highestVersion(bitmap: VersionBitmap): number {
  for (let v = 31; v >= 0; v--) if (bitmap & (1 << v)) return v;
  return 0;
}

/**
 * Which versions a received hello allows: its bitmap element when present,
 * else every version from 1 up to the header's version (an OF1.0-1.2 peer
 * is taken to accept anything up to what it sent).
 */
export function peerAllowedVersions(headerVersion: number, bitmap: VersionBitmap | null): VersionBitmap {
  if (bitmap !== null) return bitmap;
  let b = 0;
  for (let v = 1; v <= Math.min(headerVersion, 31); v++) b |= 1 << v;
  return b >>> 0;
}

export type Negotiation =
  | { ok: true; version: number }
  | {
      ok: false;
      error: "OFPHFC_INCOMPATIBLE";
      /** Version to send the hello-failed error in (peer's highest). */
      version: number;
      /** The error's text, as OVS words it. */
      text: string;
      /** The log line OVS's vconn writes (without the connection name). */
      log: string;
    };

/** OVS's wording of a version set ("version 0x04 and earlier", ...). */
export function versionBitmapToString(bitmap: VersionBitmap): string {
  const hex = (v: number): string => `0x${v.toString(16).padStart(2, "0")}`;
  const b = bitmap >>> 0;
  if (b === 0) return "no versions";
  const isPow2 = (x: number): boolean => x !== 0 && (x & (x - 1)) === 0;
  if (isPow2(b)) return `version ${hex(highestVersion(b))}`;
  if (isPow2(((b >>> 1) + 1) >>> 0)) return `version ${hex(highestVersion(b))} and earlier`;
  return `versions ${versionsOf(b).map(hex).join(", ")}`;
}

/**
 * Negotiates as OVS's vconn does: the highest version in both bitmaps;
 * with none in common, OFPHFC_INCOMPATIBLE carried in the peer's highest
 * version with the text OVS puts into its hello-failed error (cut to 127
 * bytes as OVS's fixed buffer does).
 */
export function negotiateVersion(
  local: VersionBitmap,
  peerHeaderVersion: number,
  peerBitmap: VersionBitmap | null,
): Negotiation {
  const peer = peerAllowedVersions(peerHeaderVersion, peerBitmap);
  const common = (local & peer) >>> 0;
  if (common !== 0) return { ok: true, version: highestVersion(common) };
  const l = versionBitmapToString(local);
  const p = versionBitmapToString(peer);
  const text = `We support ${l}, you support ${p}, no common versions.`.slice(0, 127);
  return {
    ok: false,
    error: "OFPHFC_INCOMPATIBLE",
    version: highestVersion(peer),
    text,
    log: `version negotiation failed (we support ${l}, peer supports ${p})`,
  };
}
