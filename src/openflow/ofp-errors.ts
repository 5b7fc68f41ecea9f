/**
 * OpenFlow errors: one table of every error OVS 3.1 knows, with how each
 * is spelled on the wire in each protocol version, and the encoding,
 * decoding and printing of OFPT_ERROR messages.
 *
 * ## How an error is spelled per version
 * - Standard errors are a (type, code) pair in `ofp_error_msg`.
 * - Nicira (NX) errors that a version lacks are, in OF1.0/1.1, type
 *   NXET_VENDOR (0xb0c2) code 0 followed by `nx_vendor_error`
 *   {vendor, type, code}; in OF1.2+ type OFPET12_EXPERIMENTER (0xffff), the
 *   code field holding the experimenter's error type, followed by the
 *   32-bit experimenter id (Nicira 0x00002320 or ONF 0x4f4e4600).
 * - An error a version cannot express at all is sent as
 *   NXBRC_UNENCODABLE_ERROR, as OVS does.
 *
 * Where one version uses one wire value for two errors (OF1.0/1.1 (1,5) is
 * both OFPBRC_EPERM and OFPBRC_IS_SECONDARY), decoding yields the one listed
 * first in the table.
 *
 * Errors are values (`OfpErrorName`), never thrown: decoders return them
 * and the connection layer turns them into OFPT_ERROR replies.
 */
import { OfpReader, OfpWriter } from "./ofp-buffer.js";

export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;
/** OF1.0/1.1 error type carrying an `nx_vendor_error`. */
export const NXET_VENDOR = 0xb0c2;
/** OF1.2+ experimenter error type. */
export const OFPET12_EXPERIMENTER = 0xffff;

const MAXV = 6;

/** How one error is spelled in versions lo..hi (wire version numbers). */
export interface ErrorSpelling {
  readonly lo: number;
  readonly hi: number;
  /** 0 for standard OpenFlow, else the experimenter/vendor id. */
  readonly vendor: number;
  readonly type: number;
  /** -1 for experimenter errors in OF1.2+, which have only a type. */
  readonly code: number;
}

export interface OfpErrorInfo {
  readonly name: string;
  readonly description: string;
  readonly spellings: readonly ErrorSpelling[];
}

const of = (lo: number, hi: number, type: number, code: number): ErrorSpelling => ({ lo, hi, vendor: 0, type, code });
/** Nicira error in OF1.0/1.1 (type and code) or OF1.2+ (exp type only). */
const nx = (lo: number, hi: number, type: number, code = -1): ErrorSpelling => ({ lo, hi, vendor: NX_VENDOR_ID, type, code });
const onf = (lo: number, hi: number, type: number): ErrorSpelling => ({ lo, hi, vendor: ONF_VENDOR_ID, type, code: -1 });
const e = (name: string, description: string, ...spellings: ErrorSpelling[]): OfpErrorInfo => ({ name, description, spellings });

/** Every OpenFlow error OVS 3.1 knows, grouped by OpenFlow error type. */
export const OFP_ERRORS = [
  // OFPET_HELLO_FAILED
  e("OFPHFC_INCOMPATIBLE", "No compatible version.", of(1, MAXV, 0, 0)),
  e("OFPHFC_EPERM", "Permissions error.", of(1, MAXV, 0, 1)),
  // OFPET_BAD_REQUEST
  e("OFPBRC_BAD_VERSION", "ofp_header.version not supported.", of(1, MAXV, 1, 0)),
  e("OFPBRC_BAD_TYPE", "ofp_header.type not supported.", of(1, MAXV, 1, 1)),
  e("OFPBRC_BAD_STAT", "ofp_stats_msg.type not supported.", of(1, MAXV, 1, 2)),
  e("OFPBRC_BAD_VENDOR", "Vendor not supported (in ofp_vendor_header or ofp_stats_msg).", of(1, MAXV, 1, 3)),
  e("OFPBRC_BAD_SUBTYPE", "Vendor subtype not supported.", of(1, MAXV, 1, 4)),
  e("OFPBRC_EPERM", "Permissions error.", of(1, MAXV, 1, 5)),
  e("OFPBRC_BAD_LEN", "Wrong request length for type.", of(1, MAXV, 1, 6)),
  e("OFPBRC_BUFFER_EMPTY", "Specified buffer has already been used.", of(1, MAXV, 1, 7)),
  e("OFPBRC_BUFFER_UNKNOWN", "Specified buffer does not exist.", of(1, MAXV, 1, 8)),
  e("OFPBRC_BAD_TABLE_ID", "Specified table-id invalid or does not exist.", nx(1, 1, 1, 512), of(2, MAXV, 1, 9)),
  e("OFPBRC_IS_SECONDARY", "Denied because controller is slave.", of(1, 2, 1, 5), of(3, MAXV, 1, 10)),
  e("OFPBRC_BAD_PORT", "Invalid port.", nx(1, 2, 1, 514), of(3, MAXV, 1, 11)),
  e("OFPBRC_BAD_PACKET", "Invalid packet in packet-out.", of(3, MAXV, 1, 12)),
  e("OFPBRC_PIPELINE_FIELDS_ONLY", "Match fields must include only pipeline fields.", of(6, MAXV, 1, 17)),
  e("OFPBRC_MULTIPART_BUFFER_OVERFLOW", "Multipart request overflowed the assigned buffer.", of(4, MAXV, 1, 13)),
  e("OFPBRC_MULTIPART_REQUEST_TIMEOUT", "Timeout during multipart request.", onf(4, 4, 2640), of(5, MAXV, 1, 14)),
  e("OFPBRC_MULTIPART_REPLY_TIMEOUT", "Timeout during multipart reply.", onf(4, 4, 2641), of(5, MAXV, 1, 15)),
  e("OFPBRC_MULTIPART_BAD_SCHED", "Bad scheduling of a multipart request.", of(6, MAXV, 1, 16)),
  e("OFPBRC_UNKNOWN", "Unspecified error.", of(6, MAXV, 1, 18)),
  e("NXBRC_NXM_INVALID", "Invalid NXM flow match.", nx(1, 2, 1, 256), nx(3, MAXV, 2)),
  e("NXBRC_NXM_BAD_TYPE", "The nxm_type, or nxm_type taken in combination with nxm_hasmask or nxm_length or both, is invalid or not implemented.", nx(1, 2, 1, 257), nx(3, MAXV, 3)),
  e("NXBRC_MUST_BE_ZERO", "Must-be-zero field had nonzero value.", nx(1, 2, 1, 515), nx(3, MAXV, 4)),
  e("NXBRC_BAD_REASON", "The reason in an ofp_port_status message is not valid.", nx(1, 2, 1, 516), nx(3, MAXV, 5)),
  e("NXBRC_FM_BAD_EVENT", "The 'event' in an NXST_FLOW_MONITOR reply does not specify one of the NXFME_ABBREV, NXFME_ADD, NXFME_DELETE, or NXFME_MODIFY.", nx(1, 2, 1, 520), nx(3, MAXV, 9)),
  e("NXBRC_UNENCODABLE_ERROR", "The error that occurred cannot be represented in this OpenFlow version.", nx(1, 2, 1, 521), nx(3, MAXV, 10)),
  // OFPET_BAD_ACTION
  e("OFPBAC_BAD_TYPE", "Unknown action type.", of(1, MAXV, 2, 0)),
  e("OFPBAC_BAD_LEN", "Length problem in actions.", of(1, MAXV, 2, 1)),
  e("OFPBAC_BAD_VENDOR", "Unknown experimenter id specified.", of(1, MAXV, 2, 2)),
  e("OFPBAC_BAD_VENDOR_TYPE", "Unknown action type for experimenter id.", of(1, MAXV, 2, 3)),
  e("OFPBAC_BAD_OUT_PORT", "Problem validating output port.", of(1, MAXV, 2, 4)),
  e("OFPBAC_BAD_ARGUMENT", "Bad action argument.", of(1, MAXV, 2, 5)),
  e("OFPBAC_EPERM", "Permissions error.", of(1, MAXV, 2, 6)),
  e("OFPBAC_TOO_MANY", "Can't handle this many actions.", of(1, MAXV, 2, 7)),
  e("OFPBAC_BAD_QUEUE", "Problem validating output queue.", of(1, MAXV, 2, 8)),
  e("OFPBAC_BAD_OUT_GROUP", "Invalid group id in forward action.", nx(1, 1, 2, 9), of(2, MAXV, 2, 9)),
  e("OFPBAC_MATCH_INCONSISTENT", "Action can't apply for this match or a prerequisite for use of this field is unmet.", nx(1, 1, 1, 522), of(2, MAXV, 2, 10)),
  e("OFPBAC_UNSUPPORTED_ORDER", "Action order is unsupported for the action list in an Apply-Actions instruction", of(2, MAXV, 2, 11)),
  e("OFPBAC_BAD_TAG", "Actions uses an unsupported tag/encap.", of(2, MAXV, 2, 12)),
  e("OFPBAC_BAD_SET_TYPE", "Action uses unknown or unsupported OXM or NXM field.", nx(1, 2, 1, 523), of(3, MAXV, 2, 13)),
  e("OFPBAC_BAD_SET_LEN", "Action references past the end of an OXM or NXM field, or uses a length of zero.", nx(1, 2, 1, 524), of(3, MAXV, 2, 14)),
  e("OFPBAC_BAD_SET_ARGUMENT", "Action sets a field to an invalid or unsupported value, or modifies a read-only field.", nx(1, 2, 1, 525), of(3, MAXV, 2, 15)),
  e("OFPBAC_BAD_SET_MASK", "Field in Set-Field action has Has-Mask bit set to 1.", onf(4, 5, 4250), of(6, MAXV, 2, 16)),
  e("OFPBAC_BAD_METER", "Bad meter in a meter action.", of(6, MAXV, 2, 17)),
  e("NXBAC_MUST_BE_ZERO", "Must-be-zero action argument had nonzero value.", nx(1, 2, 2, 256), nx(3, MAXV, 11)),
  e("NXBAC_BAD_CONJUNCTION", "Conjunction action must be only action present.  conjunction(id, k/n) must satisfy 1 <= k <= n and 2 <= n <= 64.", nx(1, 2, 2, 526), nx(3, MAXV, 15)),
  e("NXBAC_BAD_HEADER_TYPE", "Packet type not supported by encap or decap.", nx(4, MAXV, 39)),
  e("NXBAC_UNKNOWN_ED_PROP", "Unknown encap or decap property.", nx(4, MAXV, 40)),
  e("NXBAC_BAD_ED_PROP", "Bad encap or decap property.", nx(4, MAXV, 41)),
  e("NXBAC_CT_DATAPATH_SUPPORT", "The action needs connection tracking features the datapath lacks.", nx(1, 2, 1, 265), nx(3, MAXV, 42)),
  e("NXBMC_CT_DATAPATH_SUPPORT", "The match needs connection tracking features the datapath lacks.", nx(1, 2, 1, 264), nx(3, MAXV, 43)),
  // OFPET_BAD_INSTRUCTION
  e("OFPBIC_UNKNOWN_INST", "Unknown instruction.", of(2, MAXV, 3, 0)),
  e("OFPBIC_UNSUP_INST", "Switch or table does not support the instruction.", nx(1, 1, 2, 257), of(2, MAXV, 3, 1)),
  e("OFPBIC_BAD_TABLE_ID", "Invalid Table-ID specified.", of(2, MAXV, 3, 2)),
  e("OFPBIC_UNSUP_METADATA", "Metadata value unsupported by datapath.", of(2, MAXV, 3, 3)),
  e("OFPBIC_UNSUP_METADATA_MASK", "Metadata mask value unsupported by datapath.", of(2, MAXV, 3, 4)),
  e("OFPBIC_BAD_EXPERIMENTER", "Unknown experimenter id specified.", of(2, MAXV, 3, 5)),
  e("OFPBIC_BAD_EXP_TYPE", "Unknown instruction for experimenter id.", of(2, 2, 3, 5), of(3, MAXV, 3, 6)),
  e("OFPBIC_BAD_LEN", "Length problem in instructions.", of(3, MAXV, 3, 7)),
  e("OFPBIC_EPERM", "Permissions error.", of(3, MAXV, 3, 8)),
  e("OFPBIC_DUP_INST", "Duplicate instruction.", nx(2, 2, 3, 256), onf(3, 4, 2600), of(5, MAXV, 3, 9)),
  // OFPET_BAD_MATCH
  e("OFPBMC_BAD_TYPE", "Unsupported match type specified by the match", of(2, MAXV, 4, 0)),
  e("OFPBMC_BAD_LEN", "Length problem in match.", of(2, MAXV, 4, 1)),
  e("OFPBMC_BAD_TAG", "Match uses an unsupported tag/encap.", of(2, MAXV, 4, 2)),
  e("OFPBMC_BAD_DL_ADDR_MASK", "Unsupported datalink addr mask - switch does not support arbitrary datalink address mask.", of(2, MAXV, 4, 3)),
  e("OFPBMC_BAD_NW_ADDR_MASK", "Unsupported network addr mask - switch does not support arbitrary network address mask.", of(2, MAXV, 4, 4)),
  e("OFPBMC_BAD_WILDCARDS", "Unsupported wildcard specified in the match.", nx(1, 1, 1, 262), of(2, MAXV, 4, 5)),
  e("OFPBMC_BAD_FIELD", "Unsupported field in the match.", nx(1, 1, 0, 263), of(2, MAXV, 4, 6)),
  e("OFPBMC_BAD_VALUE", "Unsupported value in a match field.", nx(1, 1, 1, 258), of(2, MAXV, 4, 7)),
  e("OFPBMC_BAD_MASK", "Unsupported mask specified in the match, field is not dl-address or nw-address.", nx(1, 2, 1, 259), of(3, MAXV, 4, 8)),
  e("OFPBMC_BAD_PREREQ", "A prerequisite was not met.", nx(1, 2, 1, 260), of(3, MAXV, 4, 9)),
  e("OFPBMC_DUP_FIELD", "A field type was duplicated.", nx(1, 2, 1, 261), of(3, MAXV, 4, 10)),
  e("OFPBMC_EPERM", "Permissions error.", of(3, MAXV, 4, 11)),
  // OFPET_FLOW_MOD_FAILED
  e("OFPFMFC_UNKNOWN", "Unspecified error.", of(2, MAXV, 5, 0)),
  e("OFPFMFC_TABLE_FULL", "Flow not added because of full table(s).", of(1, 1, 3, 0), of(2, MAXV, 5, 1)),
  e("OFPFMFC_BAD_TABLE_ID", "Table does not exist", of(2, MAXV, 5, 2)),
  e("OFPFMFC_OVERLAP", "Attempted to add overlapping flow with CHECK_OVERLAP flag set.", of(1, 1, 3, 1), of(2, MAXV, 5, 3)),
  e("OFPFMFC_EPERM", "Permissions error.", of(1, 1, 3, 2), of(2, MAXV, 5, 4)),
  e("OFPFMFC_BAD_TIMEOUT", "Flow not added because of unsupported idle/hard timeout.", of(2, MAXV, 5, 5)),
  e("OFPFMFC_BAD_EMERG_TIMEOUT", "Flow not added because of non-zero idle/hard timeout.", of(1, 1, 3, 3)),
  e("OFPFMFC_BAD_COMMAND", "Unsupported or unknown command.", of(1, 1, 3, 4), of(2, MAXV, 5, 6)),
  e("OFPFMFC_BAD_FLAGS", "Unsupported or unknown flags.", nx(1, 1, 3, 258), nx(2, 2, 5, 258), of(3, MAXV, 5, 7)),
  e("OFPFMFC_CANT_SYNC", "A synchronised flow table cannot be written.", of(5, MAXV, 5, 8)),
  e("OFPFMFC_BAD_PRIORITY", "Priority not supported.", onf(4, 4, 2360), of(5, MAXV, 5, 9)),
  e("OFPFMFC_IS_SYNC", "A synchronised flow table cannot be written.", of(5, MAXV, 5, 10)),
  e("NXFMFC_INVALID_TLV_FIELD", "The flow uses a tunnel metadata field that has no TLV mapping.", nx(1, 2, 1, 536), nx(3, MAXV, 37)),
  e("OFPFMFC_UNSUPPORTED", "Unsupported action list - cannot process in the order specified.", of(1, 1, 3, 5)),
  e("NXFMFC_HARDWARE", "Generic hardware error.", nx(1, 2, 5, 256), nx(3, MAXV, 12)),
  e("NXFMFC_BAD_TABLE_ID", "A nonexistent table ID was specified in the \"command\" field of struct ofp_flow_mod, when the nxt_flow_mod_table_id extension is enabled.", nx(1, 2, 5, 257), nx(3, MAXV, 13)),
  // OFPET_GROUP_MOD_FAILED
  e("OFPGMFC_GROUP_EXISTS", "Group not added because a group ADD attempted to replace an already-present group.", nx(1, 1, 6, 0), of(2, MAXV, 6, 0)),
  e("OFPGMFC_INVALID_GROUP", "Group not added because Group specified is invalid.", nx(1, 1, 6, 1), of(2, MAXV, 6, 1)),
  e("OFPGMFC_WEIGHT_UNSUPPORTED", "Switch does not support unequal load sharing with select groups.", nx(1, 1, 6, 2), of(2, MAXV, 6, 2)),
  e("OFPGMFC_OUT_OF_GROUPS", "The group table is full.", nx(1, 1, 6, 3), of(2, MAXV, 6, 3)),
  e("OFPGMFC_OUT_OF_BUCKETS", "The maximum number of action buckets for a group has been exceeded.", nx(1, 1, 6, 4), of(2, MAXV, 6, 4)),
  e("OFPGMFC_CHAINING_UNSUPPORTED", "Switch does not support groups that forward to groups.", nx(1, 1, 6, 5), of(2, MAXV, 6, 5)),
  e("OFPGMFC_WATCH_UNSUPPORTED", "This group cannot watch the watch_port or watch_group specified.", nx(1, 1, 6, 6), of(2, MAXV, 6, 6)),
  e("OFPGMFC_LOOP", "Group entry would cause a loop.", nx(1, 1, 6, 7), of(2, MAXV, 6, 7)),
  e("OFPGMFC_UNKNOWN_GROUP", "Group not modified because a group MODIFY attempted to modify a non-existent group.", nx(1, 1, 6, 8), of(2, MAXV, 6, 8)),
  e("OFPGMFC_CHAINED_GROUP", "Group not deleted because another group is forwarding to it.", nx(1, 1, 6, 9), of(3, MAXV, 6, 9)),
  e("OFPGMFC_BAD_TYPE", "Unsupported or unknown group type.", nx(1, 1, 6, 10), of(3, MAXV, 6, 10)),
  e("OFPGMFC_BAD_COMMAND", "Unsupported or unknown command.", nx(1, 1, 6, 11), of(3, MAXV, 6, 11)),
  e("OFPGMFC_BAD_BUCKET", "Error in bucket.", nx(1, 1, 6, 12), of(3, MAXV, 6, 12)),
  e("OFPGMFC_BAD_WATCH", "Error in watch port/group.", nx(1, 1, 6, 13), of(3, MAXV, 6, 13)),
  e("OFPGMFC_EPERM", "Permissions error.", nx(1, 1, 6, 14), of(3, MAXV, 6, 14)),
  e("OFPGMFC_UNKNOWN_BUCKET", "Invalid bucket identifier used in INSERT BUCKET or REMOVE BUCKET command.", nx(1, 1, 6, 15), of(6, MAXV, 6, 15)),
  e("OFPGMFC_BUCKET_EXISTS", "Can't insert bucket because a bucket already exist with that bucket-id.", nx(1, 1, 6, 16), of(6, MAXV, 6, 16)),
  // OFPET_PORT_MOD_FAILED
  e("OFPPMFC_BAD_PORT", "Specified port does not exist.", of(1, 1, 4, 0), of(2, MAXV, 7, 0)),
  e("OFPPMFC_BAD_HW_ADDR", "Specified hardware address does not match the port number.", of(1, 1, 4, 1), of(2, MAXV, 7, 1)),
  e("OFPPMFC_BAD_CONFIG", "Specified config is invalid.", of(2, MAXV, 7, 2)),
  e("OFPPMFC_BAD_ADVERTISE", "Specified advertise is invalid.", of(2, MAXV, 7, 3)),
  e("OFPPMFC_EPERM", "Permissions error.", of(3, MAXV, 7, 4)),
  // OFPET_TABLE_MOD_FAILED
  e("OFPTMFC_BAD_TABLE", "Specified table does not exist.", of(2, MAXV, 8, 0)),
  e("OFPTMFC_BAD_CONFIG", "Specified config is invalid.", of(2, MAXV, 8, 1)),
  e("OFPTMFC_EPERM", "Permissions error.", of(3, MAXV, 8, 2)),
  // OFPET_QUEUE_OP_FAILED
  e("OFPQOFC_BAD_PORT", "Invalid port (or port does not exist).", of(1, 1, 5, 0), of(2, MAXV, 9, 0)),
  e("OFPQOFC_BAD_QUEUE", "Queue does not exist.", of(1, 1, 5, 1), of(2, MAXV, 9, 1)),
  e("OFPQOFC_EPERM", "Permissions error.", of(1, 1, 5, 2), of(2, MAXV, 9, 2)),
  e("NXQOFC_QUEUE_ERROR", "System error retrieving queue details.", nx(5, MAXV, 23)),
  // OFPET_SWITCH_CONFIG_FAILED
  e("OFPSCFC_BAD_FLAGS", "Specified flags is invalid.", of(2, MAXV, 10, 0)),
  e("OFPSCFC_BAD_LEN", "Specified len is invalid.", of(2, MAXV, 10, 1)),
  e("OFPSCFC_EPERM", "Permissions error.", of(3, MAXV, 10, 2)),
  // OFPET_ROLE_REQUEST_FAILED
  e("OFPRRFC_STALE", "Stale Message: old generation_id.", of(3, MAXV, 11, 0)),
  e("OFPRRFC_UNSUP", "Controller role change unsupported.", of(3, MAXV, 11, 1)),
  e("OFPRRFC_BAD_ROLE", "Invalid role.", nx(1, 2, 1, 513), of(3, MAXV, 11, 2)),
  e("OFPRRFC_ID_UNSUP", "Switch does not support role ids.", of(6, MAXV, 11, 3)),
  e("OFPRRFC_ID_IN_USE", "Role id already in use.", of(6, MAXV, 11, 4)),
  // OFPET_METER_MOD_FAILED
  e("OFPMMFC_UNKNOWN", "Unspecified error.", of(4, MAXV, 12, 0)),
  e("OFPMMFC_METER_EXISTS", "Meter not added because a Meter ADD attempted to replace an existing Meter.", of(4, MAXV, 12, 1)),
  e("OFPMMFC_INVALID_METER", "Meter not added because Meter specified is invalid.", of(4, MAXV, 12, 2)),
  e("OFPMMFC_UNKNOWN_METER", "Meter not modified because a Meter MODIFY attempted to modify a non-existent Meter.", of(4, MAXV, 12, 3)),
  e("OFPMMFC_BAD_COMMAND", "Unsupported or unknown command.", of(4, MAXV, 12, 4)),
  e("OFPMMFC_BAD_FLAGS", "Flag configuration unsupported.", of(4, MAXV, 12, 5)),
  e("OFPMMFC_BAD_RATE", "Rate unsupported.", of(4, MAXV, 12, 6)),
  e("OFPMMFC_BAD_BURST", "Burst size unsupported.", of(4, MAXV, 12, 7)),
  e("OFPMMFC_BAD_BAND", "Band unsupported.", of(4, MAXV, 12, 8)),
  e("OFPMMFC_BAD_BAND_VALUE", "Band value unsupported.", of(4, MAXV, 12, 9)),
  e("OFPMMFC_OUT_OF_METERS", "No more meters available.", of(4, MAXV, 12, 10)),
  e("OFPMMFC_OUT_OF_BANDS", "The maximum number of properties for a meter has been exceeded.", of(4, MAXV, 12, 11)),
  // OFPET_TABLE_FEATURES_FAILED
  e("OFPTFFC_BAD_TABLE", "Specified table does not exist.", of(4, MAXV, 13, 0)),
  e("OFPTFFC_BAD_METADATA", "Invalid metadata mask.", of(4, MAXV, 13, 1)),
  e("OFPTFFC_EPERM", "Permissions error.", of(4, MAXV, 13, 5)),
  e("OFPTFFC_BAD_CAPA", "Invalid capabilities.", of(6, MAXV, 13, 6)),
  e("OFPTFFC_BAD_MAX_ENT", "Invalid max_entries.", of(6, MAXV, 13, 7)),
  e("OFPTFFC_TOO_MANY", "Too many tables in the request.", of(6, MAXV, 13, 10)),
  e("NXTFFC_DUP_TABLE", "The same table is listed twice.", nx(4, MAXV, 44)),
  e("OFPTFFC_BAD_FEATURES", "Invalid or inconsistent table features.", of(6, MAXV, 13, 8)),
  e("OFPTFFC_BAD_COMMAND", "Invalid table features command.", of(6, MAXV, 13, 9)),
  // OFPET_BAD_PROPERTY
  e("OFPBPC_BAD_TYPE", "Unknown property type.", nx(1, 2, 13, 2), nx(3, 3, 25), of(4, 4, 13, 2), of(5, MAXV, 14, 0)),
  e("OFPBPC_BAD_LEN", "Length problem in property.", nx(1, 2, 13, 3), nx(3, 3, 26), of(4, 4, 13, 3), of(5, MAXV, 14, 1)),
  e("OFPBPC_BAD_VALUE", "Unsupported property value.", nx(1, 2, 13, 4), nx(3, 3, 27), of(4, 4, 13, 4), of(5, MAXV, 14, 2)),
  e("OFPBPC_TOO_MANY", "Can't handle this many properties.", nx(1, 2, 14, 3), nx(3, 3, 28), onf(4, 4, 4443), of(5, MAXV, 14, 3)),
  e("OFPBPC_DUP_TYPE", "A property type was duplicated.", nx(1, 2, 14, 4), nx(3, 3, 29), onf(4, 4, 4444), of(5, MAXV, 14, 4)),
  e("OFPBPC_BAD_EXPERIMENTER", "Unknown experimenter id specified.", nx(1, 2, 14, 5), nx(3, 3, 30), onf(4, 4, 4445), of(5, MAXV, 14, 5)),
  e("OFPBPC_BAD_EXP_TYPE", "Unknown exp_type for experimenter id.", nx(1, 2, 14, 6), nx(3, 3, 31), onf(4, 4, 4446), of(5, MAXV, 14, 6)),
  e("OFPBPC_BAD_EXP_VALUE", "Unknown value for experimenter id.", nx(1, 2, 14, 7), nx(3, 3, 32), onf(4, 4, 4447), of(5, MAXV, 14, 7)),
  e("OFPBPC_EPERM", "Permissions error.", nx(1, 2, 14, 8), nx(3, 3, 33), onf(4, 4, 4448), of(5, MAXV, 14, 8)),
  // OFPET_ASYNC_CONFIG_FAILED
  e("OFPACFC_INVALID", "One mask is invalid.", onf(4, 4, 2370), of(5, MAXV, 15, 0)),
  e("OFPACFC_UNSUPPORTED", "Requested configuration not supported.", onf(4, 4, 2371), of(5, MAXV, 15, 1)),
  e("OFPACFC_EPERM", "Permissions error.", onf(4, 4, 2372), of(5, MAXV, 15, 2)),
  // OFPET_BUNDLE_FAILED
  e("OFPBFC_UNKNOWN", "Unspecified error.", onf(4, 4, 2300), of(5, MAXV, 17, 0)),
  e("OFPBFC_EPERM", "Permissions error.", onf(4, 4, 2301), of(5, MAXV, 17, 1)),
  e("OFPBFC_BAD_ID", "Bundle ID doesn't exist.", onf(4, 4, 2302), of(5, MAXV, 17, 2)),
  e("OFPBFC_BUNDLE_EXIST", "Bundle ID already exists.", onf(4, 4, 2303), of(5, MAXV, 17, 3)),
  e("OFPBFC_BUNDLE_CLOSED", "Bundle ID is closed.", onf(4, 4, 2304), of(5, MAXV, 17, 4)),
  e("OFPBFC_OUT_OF_BUNDLES", "Too many bundle IDs.", onf(4, 4, 2305), of(5, MAXV, 17, 5)),
  e("OFPBFC_BAD_TYPE", "Unsupported of unknown message control type.", onf(4, 4, 2306), of(5, MAXV, 17, 6)),
  e("OFPBFC_BAD_FLAGS", "Unsupported, unknown, or inconsistent flags.", onf(4, 4, 2307), of(5, MAXV, 17, 7)),
  e("OFPBFC_MSG_BAD_LEN", "Length problem in included message.", onf(4, 4, 2308), of(5, MAXV, 17, 8)),
  e("OFPBFC_MSG_BAD_XID", "Inconsistent or duplicate XID.", onf(4, 4, 2309), of(5, MAXV, 17, 9)),
  e("OFPBFC_MSG_UNSUP", "Unsupported message in this bundle.", onf(4, 4, 2310), of(5, MAXV, 17, 10)),
  e("OFPBFC_MSG_CONFLICT", "Unsupported message combination in this bundle.", onf(4, 4, 2311), of(5, MAXV, 17, 11)),
  e("OFPBFC_MSG_TOO_MANY", "Cant handle this many messages in bundle.", onf(4, 4, 2312), of(5, MAXV, 17, 12)),
  e("OFPBFC_MSG_FAILED", "One message in bundle failed.", onf(4, 4, 2313), of(5, MAXV, 17, 13)),
  e("OFPBFC_SCHED_NOT_SUPPORTED", "Scheduled commit not supported.", of(6, MAXV, 17, 16)),
  e("OFPBFC_SCHED_FUTURE", "Scheduled commit too far in the future.", of(6, MAXV, 17, 17)),
  e("OFPBFC_SCHED_PAST", "Scheduled commit in the past.", of(6, MAXV, 17, 18)),
  e("OFPBFC_TIMEOUT", "Bundle is taking too long.", onf(4, 4, 2314), of(5, MAXV, 17, 14)),
  e("OFPBFC_BUNDLE_IN_PROGRESS", "Bundle is locking the resource.", onf(4, 4, 2315), of(5, MAXV, 17, 15)),
  e("OFPBFC_BAD_VERSION", "In an OFPT_BUNDLE_ADD_MESSAGE, the OpenFlow version in the inner and outer messages differ.", nx(5, 6, 22)),
  // OFPET_FLOW_MONITOR_FAILED
  e("OFPMOFC_UNKNOWN", "Unspecified error.", of(5, MAXV, 16, 0)),
  e("OFPMOFC_MONITOR_EXISTS", "Monitor not added because a Monitor ADD attempted to replace an existing Monitor.", nx(1, 2, 1, 517), nx(3, 4, 6), of(5, MAXV, 16, 1)),
  e("OFPMOFC_INVALID_MONITOR", "Monitor not added because Monitor specified is invalid.", of(5, MAXV, 16, 2)),
  e("OFPMOFC_UNKNOWN_MONITOR", "Monitor not modified because a Monitor MODIFY attempted to modify a non-existent Monitor.", nx(1, 2, 1, 519), nx(3, 4, 8), of(5, MAXV, 16, 3)),
  e("OFPMOFC_BAD_COMMAND", "Unsupported or unknown command.", of(5, MAXV, 16, 4)),
  e("OFPMOFC_BAD_FLAGS", "Flag configuration unsupported.", nx(1, 2, 1, 518), nx(3, 4, 7), of(5, MAXV, 16, 5)),
  e("OFPMOFC_BAD_TABLE_ID", "Specified table does not exist.", of(5, MAXV, 16, 6)),
  e("OFPMOFC_BAD_OUT", "Error in output port/group.", of(5, MAXV, 16, 7)),
  // Nicira TLV table mod
  e("NXTTMFC_BAD_COMMAND", "The TLV table mod command is not recognized as a valid operation.", nx(1, 2, 1, 527), nx(3, MAXV, 16)),
  e("NXTTMFC_BAD_OPT_LEN", "The option length is not a valid option size for TLVs.", nx(1, 2, 1, 528), nx(3, MAXV, 17)),
  e("NXTTMFC_BAD_FIELD_IDX", "The field index is out of range for the supported NX_TUN_METADATA<n> match.", nx(1, 2, 1, 529), nx(3, MAXV, 18)),
  e("NXTTMFC_TABLE_FULL", "The total set of configured options exceeds the maximum supported by the switch.", nx(1, 2, 1, 530), nx(3, MAXV, 19)),
  e("NXTTMFC_ALREADY_MAPPED", "The controller issued an NXTTMC_ADD command for a field index that is already mapped.", nx(1, 2, 1, 531), nx(3, MAXV, 20)),
  e("NXTTMFC_DUP_ENTRY", "The option TLV that is attempting to be mapped is the same as one assigned to a different field.", nx(1, 2, 1, 532), nx(3, MAXV, 21)),
  // NXT_RESUME
  e("NXR_NOT_SUPPORTED", "This datapath doesn't support NXT_RESUME.", nx(1, 2, 1, 533), nx(3, MAXV, 34)),
  e("NXR_STALE", "Continuation is stale: Open vSwitch process has been restarted or bridge has been destroyed since continuation was generated, or continuation was not generated by this Open vSwitch instance.", nx(1, 2, 1, 534), nx(3, MAXV, 35)),
  // NXT_STATS
  e("NXST_NOT_CONFIGURED", "Protocol is not configured on this Open vSwitch instance.", nx(1, 2, 1, 535), nx(3, MAXV, 36)),
  e("NXTTMFC_INVALID_TLV_DEL", "A TLV mapping in use by a flow cannot be deleted.", nx(1, 2, 1, 537), nx(3, MAXV, 38)),
] as const satisfies readonly OfpErrorInfo[];

/** The name of an OpenFlow error, e.g. "OFPBRC_BAD_TYPE". */
export type OfpErrorName = (typeof OFP_ERRORS)[number]["name"];

const BY_NAME = new Map<string, OfpErrorInfo>(OFP_ERRORS.map((x) => [x.name, x]));

export function errorInfo(name: OfpErrorName): OfpErrorInfo {
  return BY_NAME.get(name)!;
}

export function isErrorName(s: string): s is OfpErrorName {
  return BY_NAME.has(s);
}

/** How `name` is spelled in `version`, or null when it cannot be. */
export function errorSpelling(name: OfpErrorName, version: number): ErrorSpelling | null {
  for (const s of errorInfo(name).spellings) if (version >= s.lo && version <= s.hi) return s;
  return null;
}

/** Wire lookup key → error name, per version (first in table wins). */
const DECODE: Map<string, OfpErrorName>[] = [];
for (let v = 1; v <= MAXV; v++) {
  const m = new Map<string, OfpErrorName>();
  for (const x of OFP_ERRORS) {
    for (const s of x.spellings) {
      if (v < s.lo || v > s.hi) continue;
      const key = `${s.vendor}:${s.type}:${s.code}`;
      if (!m.has(key)) m.set(key, x.name);
    }
  }
  DECODE[v] = m;
}

/** The error with this wire spelling in `version`, or null if unknown. */
export function errorFromWire(version: number, vendor: number, type: number, code: number): OfpErrorName | null {
  const m = DECODE[version];
  if (!m) return null;
  return m.get(`${vendor}:${type}:${code}`) ?? null;
}

/** Body of an OFPT_ERROR: the error and the bytes that follow its code. */
export interface ErrorMsgBody {
  error: OfpErrorName;
  /**
   * The payload: for hello failures, text; otherwise (a prefix of) the
   * offending request. Kept as bytes so it round-trips exactly.
   */
  data: Uint8Array;
}

/**
 * Writes the body of an error message (after the 8-byte header). An error
 * that `version` cannot express becomes NXBRC_UNENCODABLE_ERROR.
 */
export function encodeErrorBody(w: OfpWriter, body: ErrorMsgBody, version: number): void {
  let sp = errorSpelling(body.error, version);
  if (!sp) sp = errorSpelling("NXBRC_UNENCODABLE_ERROR", version)!;
  if (sp.vendor === 0) {
    w.u16(sp.type).u16(sp.code);
  } else if (version <= 2) {
    w.u16(NXET_VENDOR).u16(0).u32(sp.vendor).u16(sp.type).u16(sp.code);
  } else {
    w.u16(OFPET12_EXPERIMENTER).u16(sp.type).u32(sp.vendor);
  }
  // OVS caps the echoed data so the message length still fits in 16 bits.
  const room = 0xffff - 8 - w.length;
  w.bytes(body.data.length > room ? body.data.subarray(0, room) : body.data);
}

/**
 * Reads an error message body; null when the spelling is not one OVS
 * knows for this version (ofp-print then reports OFPBRC_BAD_LEN).
 */
export function decodeErrorBody(r: OfpReader, version: number): ErrorMsgBody | null {
  const type = r.u16();
  const code = r.u16();
  if (r.overrun) return null;
  let name: OfpErrorName | null;
  if (version <= 2 && type === NXET_VENDOR && code === 0) {
    const vendor = r.u32();
    const vtype = r.u16();
    const vcode = r.u16();
    if (r.overrun) return null;
    name = errorFromWire(version, vendor, vtype, vcode);
  } else if (version >= 3 && type === OFPET12_EXPERIMENTER) {
    const vendor = r.u32();
    if (r.overrun) return null;
    name = errorFromWire(version, vendor, code, -1);
  } else {
    name = errorFromWire(version, 0, type, code);
  }
  if (!name) return null;
  return { error: name, data: r.rest() };
}

/** The error's name as ofp-print and log messages show it. */
export function errorToString(name: OfpErrorName): string {
  return name;
}

/** Text as OVS's ds_put_printable writes it (octal escapes). */
export function printableText(b: Uint8Array): string {
  let s = "";
  for (const c of b) {
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) s += String.fromCharCode(c);
    else s += "\\" + c.toString(8).padStart(3, "0");
  }
  return s;
}
