/**
 * The OpenFlow classifier: a set of rules, each a masked flow key with a
 * priority, and a lookup that finds the highest-priority rule matching a
 * packet's flow key.
 *
 * ## What
 * A rule is (mask, key & mask, priority, payload). A flow matches a rule
 * when `flow & mask == key` word by word (key-layout.ts layout). Rules with
 * the same mask live in one *subtable*, a hash table over the masked key,
 * so a lookup costs one hash probe per distinct mask ("tuple space
 * search"), not one comparison per rule. Subtables are kept sorted by the
 * highest priority they hold; once a match of priority P is found, every
 * subtable whose maximum is <= P is skipped, so lookups in tables with a
 * few high-priority masks stop early. `replace` swaps a rule for one of
 * identical match and priority (`insert` lets both exist, for versioned
 * changes); rules of equal priority that overlap match "one of them", as
 * OpenFlow leaves it undefined.
 *
 * ## Un-wildcarding
 * `lookup` also ORs into a caller-supplied mask `wc` the bits of the flow
 * it had to look at to reach its answer. ofproto-dpif turns that into the
 * megaflow mask installed in the datapath, so it must be *sound* (every
 * flow that agrees with this one on the bits of `wc` gets the same answer)
 * and should be *small* (every extra bit splits megaflows and costs
 * upcalls). Probing a subtable looks at the bits of its mask; a subtable
 * skipped because of priority looks at nothing.
 *
 * ## Staged lookup
 * A subtable's mask is split into stages, in the order OVS uses:
 * metadata (in_port, registers, metadata, tunnel, conntrack), L2, L3 (and
 * NSH), L4. Each stage but the last has an index: the set of hashes of the
 * masked key up to the end of that stage over the subtable's rules. The
 * hash is computed incrementally; when a stage's hash is not in its index,
 * no rule of the subtable can match, and only the bits of the stages seen
 * so far are un-wildcarded. A rule `in_port=1,tcp,tp_dst=80` thus costs a
 * packet from port 2 only its in_port bits, not its L3/L4 bits. Hash
 * collisions only make a stage pass that could have failed: correct, a
 * little less minimal.
 *
 * ## Prefix tracking
 * For the configured address fields (default nw_src and nw_dst, as OVS;
 * `setPrefixFields` for ipv6_src/ipv6_dst/tun_src/...) a binary trie holds
 * the prefix of every rule whose mask on that field is a CIDR prefix.
 * Walking the packet's address down the trie (at most once per lookup,
 * when some subtable's staged lookup reaches the stage of the field, so a
 * miss on metadata never costs address bits) yields the prefix lengths at
 * which some rule agrees with the packet, and how many leading address
 * bits that walk depended on. A subtable whose prefix length on the field
 * is not among them cannot match: it is skipped, and those leading bits
 * are all it un-wildcards (not even the stages it passed). With rules
 * `nw_dst=10.0.0.0/8` and a packet to 192.168.1.1, the megaflow holds
 * nw_dst=128.0.0.0/1 (the first bit already differs) instead of all 32.
 * The tries are path-compressed (a node per branch point, up to 32 bits
 * of path each), so a walk over 50,000 prefixes is ~17 nodes.
 *
 * ## Ports
 * A subtable whose mask has tp_src/tp_dst bits also keeps a trie of its
 * rules' masked port word (tp_src:tp_dst). When its final probe finds no
 * rule, and no rule of the subtable has the packet's ports, the leading
 * port bits that show it are all it un-wildcards: a rule `tp_dst=80`
 * costs a packet to port 0x8050 one bit, not sixteen.
 *
 * ## Versioning
 * Every rule is visible in versions [addVersion, removeVersion). A lookup
 * passes the version it reads; a bundle (or any multi-rule change) inserts
 * its new rules at version V+1 and makes the rules it deletes invisible
 * from V+1 (`makeInvisibleIn`), then publishes V+1 as the version readers
 * use: until then lookups at V see none of the change, afterwards all of
 * it. A rolled-back change is undone with `restoreVisibility` + `remove`.
 * Rules invisible to every reader are finally `remove`d (`removeMany` for
 * a batch; `removeAllInvisible` drops whole subtables without visiting
 * their rules when all of a table's flows went). A delete selects and
 * hides in one walk (`hideLoose`). Invisible rules
 * still count towards subtable priorities and tries: that only costs
 * precision, never correctness.
 *
 * ## Conjunctions
 * A rule inserted with `conjunction(id, k/n)` clauses (OVS's "soft"
 * rules) never matches on its own. Lookup collects the soft rules that
 * match and have a higher priority than the best ordinary ("hard") match;
 * from the highest priority down, when for some id every dimension 1..n is
 * matched by a soft rule of that priority, it looks the flow up again with
 * conj_id=id (ignoring soft rules) and, if that finds a rule, returns it;
 * if not, the conjunctive flow counts as not matched and the search goes
 * on (ovs-fields(7)). The conj_id bits the second search looks at are not
 * reported in `wc` (its conj_id is ours, not the packet's); those the
 * first pass looks at are, as for any field.
 *
 * ## Numbers
 * - Stages: 4; prefix fields: at most 3 (OVS's limit), 32 or 128 bits.
 * - bench/classifier (2-core shared VM, CPU time, noisy): 100,000 rules
 *   over 16 masks ~1.4 M lookups/s; over 20 masks ~0.5-0.8 M/s with
 *   un-wildcarding (the ports tries cost most of the difference),
 *   ~0.9-1.0 M/s without; 1,000 rules ~0.7-1.2 M/s; 0.1-0.15 M inserts/s.
 * - Megaflow bits: in test/classifier/classifier-ovs.test.ts the nw_src,
 *   nw_dst and tp_dst bits we un-wildcard are never more than real OVS
 *   3.1's megaflow holds (equal in 111 of 120 packets, fewer in 9).
 * - Conjunctions: n from 2 to 64 dimensions.
 * - Versions: integers 0 .. CLS_MAX_VERSION.
 * - Memory per rule: the rule object plus the masked key words of its mask
 *   only (not the 162-word key); the mask is shared by its subtable.
 * - Lookup allocates nothing; sorting subtables after a priority change
 *   happens on the next lookup.
 */
import {
  FLOW_U32S,
  REGION_L2_START,
  REGION_L3_START,
  REGION_L4_START,
  REGION_NSH_START,
  REGION_TUN_START,
  W_CONJ_ID,
  W_TP_SRC,
  flowField,
  hashAdd,
  hashFinish,
} from "../flow/index.js";
import { HashIndex } from "./hash-index.js";
import { PrefixTrie, prefixLength, unwildcardPrefix } from "./prefix-trie.js";

/** The highest version; a rule is visible until it by default. */
export const CLS_MAX_VERSION = Number.MAX_SAFE_INTEGER;
/** `ClsRule.removeVersion` of a rule not made invisible. */
const NOT_REMOVED = -1;
/** The lowest version. */
export const CLS_MIN_VERSION = 0;
/** OVS's CLS_MAX_TRIES. */
export const CLS_MAX_PREFIX_FIELDS = 3;
/** Largest n of conjunction(id, k/n). */
export const CONJ_MAX_CLAUSES = 64;

/** Lookup stamps restart from 1 here (they live in Int32Arrays). */
const STAMP_LIMIT = 0x3fffffff;
const HASH_BASIS = 0;

/** One `conjunction(id, clause/nClauses)` action of a soft rule; clause is 1-based. */
export interface Conjunction {
  readonly id: number;
  readonly clause: number;
  readonly nClauses: number;
}

/** Lookup stage of a key word (metadata 0, L2 1, L3 2, L4 3). */
export function wordStage(w: number): number {
  if (w < REGION_L2_START) return 0;
  if (w < REGION_L3_START) return 1;
  if (w < REGION_L4_START) return 2;
  if (w < REGION_NSH_START) return 3;
  if (w < REGION_TUN_START) return 2; // NSH: the L3 header of an NSH packet
  return 0; // tunnel, conntrack context, Geneve, OpenFlow registers/metadata
}

/** Stage of every key word, precomputed. */
const WORD_STAGE = Uint8Array.from({ length: FLOW_U32S }, (_, w) => wordStage(w));

/** A mask's nonzero words in stage order and their mask values. */
interface MaskShape {
  readonly mask: Uint32Array;
  /** `mask`'s bytes, for one memcmp per comparison. */
  readonly maskBytes: Buffer;
  readonly words: Int32Array;
  readonly maskVals: Uint32Array;
}

/** The shapes of the last few masks rules were built with (most recent first). */
const recentShapes: MaskShape[] = [];
const RECENT_SHAPES = 8;

/**
 * The (shared, read-only) words and mask values of `mask`: flow_mods come
 * in runs over a few masks, and two small typed arrays per rule, dropped
 * again when the rule joins its subtable, were a visible part of adding one.
 */
function maskShape(mask: Uint32Array): MaskShape {
  // One memcmp per shape: a word loop over 142 words per candidate was most of this.
  const bytes = new Uint8Array(mask.buffer, mask.byteOffset, FLOW_U32S * 4);
  for (let i = 0; i < recentShapes.length; i++) {
    const s = recentShapes[i]!;
    if (Buffer.compare(s.maskBytes, bytes) === 0) {
      if (i > 0) {
        recentShapes.splice(i, 1);
        recentShapes.unshift(s);
      }
      return s;
    }
  }
  const words = stageOrderedWords(mask);
  const maskVals = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) maskVals[i] = mask[words[i]!]!;
  const own = mask.slice(0, FLOW_U32S);
  const s: MaskShape = { mask: own, maskBytes: Buffer.from(own.buffer, own.byteOffset, own.byteLength), words, maskVals };
  recentShapes.unshift(s);
  if (recentShapes.length > RECENT_SHAPES) recentShapes.pop();
  return s;
}

/** Nonzero words of `mask` ordered by stage, then by word. */
function stageOrderedWords(mask: Uint32Array): Int32Array {
  const perStage = [0, 0, 0, 0];
  for (let i = 0; i < FLOW_U32S; i++) if (mask[i] !== 0) perStage[WORD_STAGE[i]!]!++;
  const next = [0, perStage[0]!, perStage[0]! + perStage[1]!, perStage[0]! + perStage[1]! + perStage[2]!];
  const out = new Int32Array(next[3]! + perStage[3]!);
  for (let i = 0; i < FLOW_U32S; i++) if (mask[i] !== 0) out[next[WORD_STAGE[i]!]!++] = i;
  return out;
}

/** Hash of a mask given as (words, values). */
function maskHashOf(words: Int32Array, maskVals: Uint32Array): number {
  let h = HASH_BASIS;
  for (let i = 0; i < words.length; i++) h = hashAdd(hashAdd(h, words[i]!), maskVals[i]!);
  return hashFinish(h, words.length * 8);
}

/**
 * What a walk over many rules gives each rule to: an object with a
 * method, not a closure, so that the walk's optimized code, which calls
 * the same method every time, stays valid from one walk to the next (a
 * fresh closure per walk was a "wrong call target" that threw it away,
 * and recompiling it cost a dump of 100,000 flows ~20 ms of CPU).
 */
export interface RuleVisitor<R> {
  visit(r: R): void;
}

/** Collects the rules a walk visits (`loose`). */
class RuleList<T> implements RuleVisitor<ClsRule<T>> {
  readonly rules: ClsRule<T>[] = [];
  visit(r: ClsRule<T>): void {
    this.rules.push(r);
  }
}

/**
 * A rule. Create it, then insert it into one classifier; the payload is
 * the caller's (an ofproto rule, a test label). `mask` and `key` are read
 * at construction only: the rule keeps the masked key's values at the
 * mask's nonzero words (the caller may reuse its arrays).
 */
export class ClsRule<T> {
  // Field order is memory order: what lookups and a delete's walk read of
  // every rule they pass (priority, versions, chain) comes first.
  readonly priority: number;
  /** First version the rule is visible in. */
  addVersion = CLS_MIN_VERSION;
  /**
   * First version the rule is no longer visible in, or NOT_REMOVED: a
   * small integer either way, which V8 keeps in the object (the maximum
   * version as the "never" value made this a boxed double per rule).
   */
  removeVersion = NOT_REMOVED;
  /** @internal Next rule in the same hash bucket (priority descending). */
  next: ClsRule<T> | null = null;
  readonly payload: T;
  /**
   * Masked key values, one per word of `words`, as int32 (`key & mask`):
   * a plain array of small integers costs a third of a small typed array
   * (with its ArrayBuffer), and every rule keeps one.
   */
  readonly vals: readonly number[];
  /** The conjunction clauses of a soft rule; null for an ordinary rule. */
  readonly conjunctions: readonly Conjunction[] | null;
  /** Nonzero words of the mask in stage order (shared with the subtable once inserted). */
  words: Int32Array;
  /** The mask's value at each of `words` (shared with the subtable once inserted). */
  maskVals: Uint32Array;
  /** @internal The subtable holding the rule, null when not inserted. */
  subtable: Subtable<T> | null = null;
  /** @internal Final-stage hash. */
  hash = 0;

  constructor(mask: Uint32Array, key: Uint32Array, priority: number, payload: T, conjunctions: readonly Conjunction[] | null = null) {
    if (mask.length !== FLOW_U32S || key.length !== FLOW_U32S) throw new RangeError(`flow key and mask must be ${FLOW_U32S} words`);
    if (!Number.isInteger(priority)) throw new RangeError(`bad priority ${priority}`);
    if (conjunctions !== null) {
      if (conjunctions.length === 0) conjunctions = null;
      else
        for (const c of conjunctions) {
          if (!(c.nClauses >= 2 && c.nClauses <= CONJ_MAX_CLAUSES)) throw new RangeError(`conjunction: n must be between 2 and ${CONJ_MAX_CLAUSES}`);
          if (!(c.clause >= 1 && c.clause <= c.nClauses)) throw new RangeError(`conjunction: k must be between 1 and n`);
        }
    }
    this.priority = priority;
    this.payload = payload;
    this.conjunctions = conjunctions;
    const shape = maskShape(mask);
    this.words = shape.words;
    this.maskVals = shape.maskVals;
    const words = shape.words;
    const n = words.length;
    const vals: number[] = [];
    for (let i = 0; i < n; i++) {
      const w = words[i]!;
      vals.push(key[w]! & mask[w]!);
    }
    // An array grown by push keeps spare room; a slice is exactly its length.
    this.vals = vals.slice();
  }

  /** The mask as a full flow mask: the subtable's once inserted (do not modify), else a fresh array. */
  get mask(): Uint32Array {
    if (this.subtable !== null) return this.subtable.mask;
    const m = new Uint32Array(FLOW_U32S);
    for (let i = 0; i < this.words.length; i++) m[this.words[i]!] = this.maskVals[i]!;
    return m;
  }

  /** True when the rule is visible to lookups at `version`. */
  visibleIn(version: number): boolean {
    return this.addVersion <= version && (this.removeVersion === NOT_REMOVED || version < this.removeVersion);
  }

  /** The masked key as a full flow key (a fresh array; not for the hot path). */
  key(out: Uint32Array = new Uint32Array(FLOW_U32S)): Uint32Array {
    out.fill(0);
    for (let i = 0; i < this.words.length; i++) out[this.words[i]!] = this.vals[i]!;
    return out;
  }

  /** True when `flow` matches the rule's masked key (visibility aside). */
  matches(flow: Uint32Array): boolean {
    const words = this.words;
    const maskVals = this.maskVals;
    const vals = this.vals;
    for (let i = 0; i < words.length; i++) {
      if (((flow[words[i]!]! & maskVals[i]!) ^ vals[i]!) !== 0) return false;
    }
    return true;
  }

  /** Whether the rule agrees with `key` on every bit of `mask` (that its own mask includes). */
  agreesWith(mask: Uint32Array, key: Uint32Array): boolean {
    const words = this.words;
    const vals = this.vals;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (mask[w] !== 0 && ((vals[i]! ^ key[w]!) & mask[w]!) !== 0) return false;
    }
    return true;
  }

  /** Same mask, masked key and priority. */
  sameMatch(other: ClsRule<T>): boolean {
    if (other.priority !== this.priority || other.words.length !== this.words.length) return false;
    for (let i = 0; i < this.words.length; i++) {
      const w = this.words[i]!;
      if (other.words[i] !== w || other.maskVals[i] !== this.maskVals[i] || other.vals[i] !== this.vals[i]) return false;
    }
    return true;
  }
}

/** Counts of hashes for a stage index (a multiset of u32 values). */
type HashCounts = HashIndex<true>;

/** @internal All rules with one mask. */
export class Subtable<T> {
  readonly mask: Uint32Array;
  readonly words: Int32Array;
  /** End (exclusive) in `words` of each nonempty stage, ascending; the last is words.length. */
  readonly stageEnds: Int32Array;
  /** Index per stage but the last: hashes of the masked key up to that stage's end. */
  readonly indices: HashCounts[];
  /** Final hash -> first rule of its chain (priority descending); emptied when the subtable is dropped. */
  buckets = new HashIndex<ClsRule<T>>();
  /** Rule count per priority, for maxPriority upkeep. */
  readonly priorities = new Map<number, number>();
  maxPriority = -Infinity;
  nRules = 0;
  /** Rules of `nRules` made invisible in some version (a transaction's deletes, not yet removed). */
  nInvisible = 0;
  /**
   * Set once the classifier has let go of the subtable. Rules dropped with
   * a whole subtable (`removeAllInvisible`) keep pointing at it: this says
   * they are no longer in a classifier.
   */
  dropped = false;
  /** Per configured prefix field: this subtable's prefix length on it (0 = unused, not a prefix). */
  plens: Int32Array;
  /** Stage (index into stageEnds) before which the prefix tries are checked; -1 when none applies. */
  trieAt = -1;
  /** Trie over the masked tp_src:tp_dst word of the rules, when the mask has port bits. */
  readonly ports: PrefixTrie | null;
  /** Mask hash, for finding the subtable of a mask. */
  readonly maskHash: number;

  /** The mask's value at each of `words`. */
  readonly maskVals: Uint32Array;

  constructor(words: Int32Array, maskVals: Uint32Array, maskHash: number, nTries: number) {
    this.mask = new Uint32Array(FLOW_U32S);
    for (let i = 0; i < words.length; i++) this.mask[words[i]!] = maskVals[i]!;
    this.words = words;
    this.maskVals = maskVals;
    this.maskHash = maskHash;
    const ends: number[] = [];
    for (let i = 0; i < words.length; i++) {
      const last = i === words.length - 1 || wordStage(words[i + 1]!) !== wordStage(words[i]!);
      if (last) ends.push(i + 1);
    }
    if (ends.length === 0) ends.push(0);
    this.stageEnds = Int32Array.from(ends);
    this.indices = [];
    for (let i = 0; i < ends.length - 1; i++) this.indices.push(new HashIndex<true>());
    this.plens = new Int32Array(nTries);
    this.ports = this.mask[W_TP_SRC] !== 0 ? new PrefixTrie("tp_src:tp_dst", W_TP_SRC, 32) : null;
  }

  sameMask(words: Int32Array, maskVals: Uint32Array): boolean {
    if (words.length !== this.words.length) return false;
    for (let i = 0; i < words.length; i++) if (this.words[i] !== words[i] || this.maskVals[i] !== maskVals[i]) return false;
    return true;
  }
}

/** The nonzero words of a full flow mask. */
function maskWords(mask: Uint32Array): Int32Array {
  let n = 0;
  for (let i = 0; i < FLOW_U32S; i++) if (mask[i] !== 0) n++;
  const words = new Int32Array(n);
  n = 0;
  for (let i = 0; i < FLOW_U32S; i++) if (mask[i] !== 0) words[n++] = i;
  return words;
}

/** Whether the subtable's mask includes every bit of `mask` (whose nonzero words are `words`). */
function coversMask<T>(st: Subtable<T>, words: Int32Array, mask: Uint32Array): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ((st.mask[w]! & mask[w]!) >>> 0 !== mask[w]) return false;
  }
  return true;
}

/** Whether `list` (rules of subtable `st`) holds no rule twice. */
function allDistinct<T>(list: readonly ClsRule<T>[], st: Subtable<T>): boolean {
  // Tag each rule by pointing its subtable at null; a rule met already tagged is a duplicate.
  let distinct = true;
  let i = 0;
  for (; i < list.length; i++) {
    if (list[i]!.subtable !== st) {
      distinct = false;
      break;
    }
    list[i]!.subtable = null;
  }
  for (let k = 0; k < i; k++) list[k]!.subtable = st;
  return distinct;
}

function byMaxPriorityDesc(a: Subtable<unknown>, b: Subtable<unknown>): number {
  return b.maxPriority - a.maxPriority;
}

/** A prefix field the classifier can track: 32-bit or 128-bit address fields. */
const PREFIX_FIELD_NAMES = new Set(["nw_src", "nw_dst", "ipv6_src", "ipv6_dst", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "arp_spa", "arp_tpa", "nd_target"]);

/** Default prefix fields (OVS default when a Flow_Table sets none). */
export const DEFAULT_PREFIX_FIELDS: readonly string[] = ["nw_dst", "nw_src"];

export class Classifier<T> {
  private subtables: Subtable<T>[] = [];
  /** Mask hash -> subtables with that hash (almost always one). */
  private readonly byMask = new Map<number, Subtable<T>[]>();
  /**
   * Keeps the subtables in descending max-priority order at every change,
   * with a stable sort, as OVS's pvector publishes them: among subtables of
   * equal priority the one that held it first is searched first, which
   * decides between overlapping rules of the same priority exactly as OVS.
   */
  private sortSubtables(): void {
    this.subtables.sort(byMaxPriorityDesc);
  }
  /** The subtable of the last insert or find: bulk loads repeat masks. */
  private lastSubtable: Subtable<T> | null = null;
  /** All zero between uses. */
  private readonly scratchKey = new Uint32Array(FLOW_U32S);
  /** Holds the masked ports word for a ports-trie walk (other words stay zero). */
  private readonly portsKey = new Uint32Array(FLOW_U32S);
  private readonly portsPlens = new Int32Array(33).fill(-1);
  private portsStamp = 0;
  private nRules = 0;
  /** Rules made invisible in some version and not yet removed (sum of the subtables' `nInvisible`). */
  private nInvisible = 0;
  private tries: PrefixTrie[] = [];
  /** Per trie: lookup stamp when its walk was done, and its checked bits. */
  private trieStamp = new Int32Array(CLS_MAX_PREFIX_FIELDS);
  private trieBits = new Int32Array(CLS_MAX_PREFIX_FIELDS);
  /** Per trie: plen -> stamp of the last lookup that matched a prefix of that length. */
  private triePlens: Int32Array[] = [];
  private stamp = 0;
  /** Soft rules collected by the current lookup. */
  private softs: (ClsRule<T> | null)[] = [];
  private nSofts = 0;
  /** Scratch for conjunction evaluation: id, clause bits 1-32, 33-64, n. */
  private conjIds: Int32Array = new Int32Array(16);
  private conjLo: Int32Array = new Int32Array(16);
  private conjHi: Int32Array = new Int32Array(16);
  private conjN: Int32Array = new Int32Array(16);

  constructor(prefixFields: readonly string[] = DEFAULT_PREFIX_FIELDS) {
    this.setPrefixFields(prefixFields);
  }

  /** Rules in the classifier (any version). */
  get count(): number {
    return this.nRules;
  }

  get isEmpty(): boolean {
    return this.nRules === 0;
  }

  /** Distinct masks. */
  get subtableCount(): number {
    return this.subtables.length;
  }

  /** Names of the tracked prefix fields. */
  get prefixFields(): string[] {
    return this.tries.map((t) => t.name);
  }

  /**
   * Sets the fields tracked with prefix tries (OVS Flow_Table `prefixes`),
   * rebuilding them from the current rules. Throws on an unknown or
   * unsupported field or more than CLS_MAX_PREFIX_FIELDS.
   */
  setPrefixFields(names: readonly string[]): void {
    if (names.length > CLS_MAX_PREFIX_FIELDS) throw new RangeError(`too many prefix fields (maximum ${CLS_MAX_PREFIX_FIELDS})`);
    const tries: PrefixTrie[] = [];
    for (const name of names) {
      const f = flowField(name);
      if (f === undefined || !PREFIX_FIELD_NAMES.has(name) || (f.bits !== 32 && f.bits !== 128) || f.shift !== 0) {
        throw new RangeError(`${name}: not a prefix field`);
      }
      if (tries.some((t) => t.word === f.word)) throw new RangeError(`${name}: duplicate prefix field`);
      tries.push(new PrefixTrie(name, f.word, f.bits));
    }
    this.tries = tries;
    this.triePlens = tries.map((t) => new Int32Array(t.bits + 1).fill(-1));
    this.trieStamp.fill(-1);
    for (const st of this.subtables) {
      this.assignPlens(st);
      if (st.trieAt >= 0) {
        for (const head of st.buckets.values()) {
          for (let r: ClsRule<T> | null = head; r !== null; r = r.next) this.triesUpdate(st, r, true, false);
        }
      }
    }
  }

  /** The subtable's prefix length per trie, and the stage at which its tries are checked. */
  private assignPlens(st: Subtable<T>): void {
    st.plens = new Int32Array(this.tries.length);
    st.trieAt = -1;
    for (let t = 0; t < this.tries.length; t++) {
      const trie = this.tries[t]!;
      const p = prefixLength(st.mask, trie.word, trie.bits);
      st.plens[t] = p > 0 ? p : 0;
      if (p <= 0) continue;
      // The first stage holding a word of the field.
      for (let k = 0; k < st.words.length; k++) {
        const w = st.words[k]!;
        if (w < trie.word || w >= trie.word + trie.bits / 32) continue;
        let seg = 0;
        while (k >= st.stageEnds[seg]!) seg++;
        if (st.trieAt < 0 || seg < st.trieAt) st.trieAt = seg;
        break;
      }
    }
  }

  private triesInsert(st: Subtable<T>, r: ClsRule<T>): void {
    this.triesUpdate(st, r, true, true);
  }

  private triesRemove(st: Subtable<T>, r: ClsRule<T>): void {
    this.triesUpdate(st, r, false, true);
  }

  /** Adds or removes the rule's prefixes (and ports), via a scratch key holding its masked key. */
  private triesUpdate(st: Subtable<T>, r: ClsRule<T>, add: boolean, withPorts: boolean, portsOnly = false): void {
    let filled = false;
    const key = this.scratchKey;
    if (withPorts && st.ports !== null) {
      for (let i = 0; i < r.words.length; i++) key[r.words[i]!] = r.vals[i]!;
      filled = true;
      if (add) st.ports.insert(key, 32);
      else st.ports.remove(key, 32);
    }
    for (let t = 0; !portsOnly && t < this.tries.length; t++) {
      const plen = st.plens[t]!;
      if (plen === 0) continue;
      if (!filled) {
        for (let i = 0; i < r.words.length; i++) key[r.words[i]!] = r.vals[i]!;
        filled = true;
      }
      if (add) this.tries[t]!.insert(key, plen);
      else this.tries[t]!.remove(key, plen);
    }
    if (filled) for (let i = 0; i < r.words.length; i++) key[r.words[i]!] = 0;
  }

  private findSubtable(r: ClsRule<unknown>, maskHash: number): Subtable<T> | null {
    const last = this.lastSubtable;
    if (last !== null && last.maskHash === maskHash && last.nRules > 0 && last.sameMask(r.words, r.maskVals)) return last;
    const list = this.byMask.get(maskHash);
    if (list !== undefined) {
      for (const st of list) {
        if (st.sameMask(r.words, r.maskVals)) return (this.lastSubtable = st);
      }
    }
    return null;
  }

  private createSubtable(rule: ClsRule<T>, maskHash: number): Subtable<T> {
    const st = new Subtable<T>(rule.words, rule.maskVals, maskHash, this.tries.length);
    this.assignPlens(st);
    let list = this.byMask.get(maskHash);
    if (list === undefined) this.byMask.set(maskHash, (list = []));
    list.push(st);
    this.subtables.push(st);
    this.lastSubtable = st;
    return st;
  }

  /** Stage hashes of a rule's key (allocates: control path). */
  private ruleHashes(st: Subtable<T>, r: ClsRule<T>): number[] {
    const out: number[] = [];
    let h = HASH_BASIS;
    let i = 0;
    for (let s = 0; s < st.stageEnds.length; s++) {
      const end = st.stageEnds[s]!;
      for (; i < end; i++) h = hashAdd(h, r.vals[i]!);
      out.push(hashFinish(h, end * 4));
    }
    return out;
  }

  /**
   * Inserts `rule`, visible from `version` on. Duplicates of an existing
   * match + priority are allowed only when the caller keeps at most one of
   * them visible in any version (a bundle's replace); use `replace` otherwise.
   */
  insert(rule: ClsRule<T>, version: number = CLS_MIN_VERSION): void {
    if (rule.subtable !== null && !rule.subtable.dropped) throw new Error("rule is already in a classifier");
    const maskHash = maskHashOf(rule.words, rule.maskVals);
    let st = this.findSubtable(rule, maskHash);
    if (st === null) st = this.createSubtable(rule, maskHash);
    rule.words = st.words;
    rule.maskVals = st.maskVals;
    rule.addVersion = version;
    rule.removeVersion = NOT_REMOVED;
    const hashes = this.ruleHashes(st, rule);
    for (let s = 0; s < st.indices.length; s++) {
      st.indices[s]!.increment(hashes[s]!);
    }
    const h = hashes[hashes.length - 1]!;
    // Kept as int32 (a small integer in the object); the buckets take it as uint32.
    rule.hash = h | 0;
    // Chain sorted by priority descending; a new rule goes after equals.
    const head = st.buckets.get(h);
    if (head === null || head.priority < rule.priority) {
      rule.next = head;
      st.buckets.set(h, rule);
    } else {
      let p = head;
      while (p.next !== null && p.next.priority >= rule.priority) p = p.next;
      rule.next = p.next;
      p.next = rule;
    }
    rule.subtable = st;
    st.nRules++;
    st.priorities.set(rule.priority, (st.priorities.get(rule.priority) ?? 0) + 1);
    if (rule.priority > st.maxPriority) {
      st.maxPriority = rule.priority;
      this.sortSubtables();
    }
    this.triesInsert(st, rule);
    this.nRules++;
  }

  /**
   * Inserts `rule`, first removing (and returning) a rule with the same
   * match and priority, if any — OVS's classifier_replace.
   */
  replace(rule: ClsRule<T>, version: number = CLS_MIN_VERSION): ClsRule<T> | null {
    const old = this.findIdentical(rule);
    if (old !== null) this.remove(old);
    this.insert(rule, version);
    return old;
  }

  /** A rule in the classifier with the same match and priority as `rule` (any version). */
  findIdentical(rule: ClsRule<T>): ClsRule<T> | null {
    const st = this.findSubtable(rule, maskHashOf(rule.words, rule.maskVals));
    if (st === null) return null;
    let h = HASH_BASIS;
    for (let i = 0; i < rule.vals.length; i++) h = hashAdd(h, rule.vals[i]!);
    h = hashFinish(h, rule.vals.length * 4);
    for (let r = st.buckets.get(h); r !== null; r = r.next) {
      if (r !== rule && r.sameMatch(rule)) return r;
    }
    return null;
  }

  /** Removes `rule` for good (every version). Returns false if it was not in this classifier. */
  remove(rule: ClsRule<T>): boolean {
    const st = rule.subtable;
    if (st === null || !this.subtables.includes(st)) return false;
    return this.unlink(st, rule, true);
  }

  /**
   * Removes many rules at once (a committed delete of a whole table, say);
   * returns how many were in this classifier. A subtable losing every rule
   * is dropped whole, and when the batch is a large part of the classifier
   * the prefix tries are rebuilt from the rules that stay instead of
   * having each prefix walked out of them.
   */
  removeMany(rules: readonly ClsRule<T>[]): number {
    const bySubtable = new Map<Subtable<T>, ClsRule<T>[]>();
    // Rules of one subtable tend to come together: remember the last list.
    let lastSt: Subtable<T> | null = null;
    let lastList: ClsRule<T>[] = [];
    for (const r of rules) {
      const st = r.subtable;
      if (st === null) continue;
      if (st !== lastSt) {
        let list = bySubtable.get(st);
        if (list === undefined) bySubtable.set(st, (list = []));
        lastSt = st;
        lastList = list;
      }
      lastList.push(r);
    }
    const rebuild = rules.length * 2 > this.nRules && this.nRules > 64;
    let n = 0;
    for (const [st, list] of bySubtable) {
      if (!this.subtables.includes(st)) continue;
      if (list.length === st.nRules && allDistinct(list, st)) {
        for (const r of list) {
          r.next = null;
          r.subtable = null;
        }
        n += list.length;
        this.nRules -= list.length;
        st.nRules = 0;
        if (!rebuild) for (const r of list) this.triesUpdate(st, r, false, false);
        this.dropSubtable(st);
        continue;
      }
      for (const r of list) if (r.subtable === st && this.unlink(st, r, !rebuild)) n++;
      if (rebuild && st.ports !== null) {
        st.ports.clear();
        for (const head of st.buckets.values()) for (let r: ClsRule<T> | null = head; r !== null; r = r.next) this.triesUpdate(st, r, true, true, true);
      }
    }
    if (rebuild) {
      for (const t of this.tries) t.clear();
      for (const st of this.subtables) {
        if (st.trieAt < 0) continue;
        for (const head of st.buckets.values()) for (let r: ClsRule<T> | null = head; r !== null; r = r.next) this.triesUpdate(st, r, true, false);
      }
    }
    return n;
  }

  /** Takes `rule` out of `st` (which holds it); the prefix tries too unless the caller rebuilds them. */
  private unlink(st: Subtable<T>, rule: ClsRule<T>, updateTries: boolean): boolean {
    const head = st.buckets.get(rule.hash >>> 0);
    if (head === null) return false;
    if (head === rule) {
      st.buckets.set(rule.hash >>> 0, rule.next);
    } else {
      let p = head;
      while (p.next !== null && p.next !== rule) p = p.next;
      if (p.next !== rule) return false;
      p.next = rule.next;
    }
    const hashes = this.ruleHashes(st, rule);
    for (let s = 0; s < st.indices.length; s++) {
      st.indices[s]!.decrement(hashes[s]!);
    }
    if (updateTries) this.triesRemove(st, rule);
    if (rule.removeVersion !== NOT_REMOVED) {
      st.nInvisible--;
      this.nInvisible--;
    }
    rule.next = null;
    rule.subtable = null;
    this.nRules--;
    st.nRules--;
    const pc = (st.priorities.get(rule.priority) ?? 1) - 1;
    if (pc === 0) {
      st.priorities.delete(rule.priority);
      if (rule.priority === st.maxPriority) {
        let m = -Infinity;
        for (const p of st.priorities.keys()) if (p > m) m = p;
        st.maxPriority = m;
        this.sortSubtables();
      }
    } else {
      st.priorities.set(rule.priority, pc);
    }
    if (st.nRules === 0) this.dropSubtable(st);
    return true;
  }

  private dropSubtable(st: Subtable<T>): void {
    this.nInvisible -= st.nInvisible;
    st.nInvisible = 0;
    st.dropped = true;
    // Removed rules may outlive the subtable (a revalidator holds a few): let them not keep the others alive.
    if (st.buckets.size > 0) st.buckets = new HashIndex<ClsRule<T>>();
    this.subtables.splice(this.subtables.indexOf(st), 1);
    if (this.lastSubtable === st) this.lastSubtable = null;
    const list = this.byMask.get(st.maskHash)!;
    list.splice(list.indexOf(st), 1);
    if (list.length === 0) this.byMask.delete(st.maskHash);
  }

  /** Makes `rule` invisible to lookups at `version` and later (it must be visible before). */
  makeInvisibleIn(rule: ClsRule<T>, version: number): void {
    if (version <= rule.addVersion) throw new RangeError(`rule added in version ${rule.addVersion} cannot be removed in version ${version}`);
    const st = rule.subtable;
    if (rule.removeVersion === NOT_REMOVED && st !== null && !st.dropped) {
      st.nInvisible++;
      this.nInvisible++;
    }
    rule.removeVersion = version;
  }

  /** Undoes `makeInvisibleIn` (a rolled-back bundle). */
  restoreVisibility(rule: ClsRule<T>): void {
    const st = rule.subtable;
    if (rule.removeVersion !== NOT_REMOVED && st !== null && !st.dropped) {
      st.nInvisible--;
      this.nInvisible--;
    }
    rule.removeVersion = NOT_REMOVED;
  }

  /**
   * A committed delete of every flow of a table, cheaply: when the
   * classifier holds exactly `expected` rules made invisible
   * (`makeInvisibleIn`) and every subtable holding one holds nothing else,
   * drops those subtables whole, without visiting their rules, and returns
   * true. Otherwise changes nothing and returns false: the caller removes
   * its rules with `removeMany`.
   */
  removeAllInvisible(expected: number): boolean {
    if (expected !== this.nInvisible || expected === 0) return false;
    const drop: Subtable<T>[] = [];
    let withTries = false;
    for (const st of this.subtables) {
      if (st.nInvisible === 0) continue;
      if (st.nInvisible !== st.nRules) return false;
      drop.push(st);
      if (st.trieAt >= 0) withTries = true;
    }
    const before = this.nRules;
    const n = expected;
    this.nRules -= n;
    if (withTries && n * 2 <= before) {
      // Few prefixes leave: walk them out of the tries.
      for (const st of drop) {
        if (st.trieAt < 0) continue;
        for (const head of st.buckets.values()) for (let r: ClsRule<T> | null = head; r !== null; r = r.next) this.triesUpdate(st, r, false, false);
      }
    }
    for (const st of drop) {
      st.nRules = 0;
      this.dropSubtable(st);
    }
    if (withTries && n * 2 > before) {
      // Most of them leave: rebuild the tries from the rules that stay.
      for (const t of this.tries) t.clear();
      for (const st of this.subtables) {
        if (st.trieAt < 0) continue;
        for (const head of st.buckets.values()) for (let r: ClsRule<T> | null = head; r !== null; r = r.next) this.triesUpdate(st, r, true, false);
      }
    }
    return true;
  }

  /**
   * The rule with exactly this match (mask, key & mask) and priority that
   * is visible in `version` — a strict flow_mod/delete's target.
   */
  findExact(mask: Uint32Array, key: Uint32Array, priority: number, version: number = CLS_MAX_VERSION - 1): ClsRule<T> | null {
    return this.findExactOf(new ClsRule<null>(mask, key, priority, null) as unknown as ClsRule<T>, version);
  }

  /**
   * findExact for the match and priority of `rule` (not in the classifier
   * yet): an add builds its rule first and looks for the one it replaces
   * with it, instead of building the same words twice.
   */
  findExactOf(rule: ClsRule<T>, version: number = CLS_MAX_VERSION - 1): ClsRule<T> | null {
    const st = this.findSubtable(rule, maskHashOf(rule.words, rule.maskVals));
    if (st === null) return null;
    let h = HASH_BASIS;
    for (let i = 0; i < rule.vals.length; i++) h = hashAdd(h, rule.vals[i]!);
    h = hashFinish(h, rule.vals.length * 4);
    for (let r = st.buckets.get(h); r !== null; r = r.next) {
      if (r !== rule && r.priority === rule.priority && r.visibleIn(version) && r.sameMatch(rule)) return r;
    }
    return null;
  }

  /**
   * True when some rule of this `priority` visible in `version` overlaps
   * the match (mask, key): some packet could match both — they agree on
   * every bit both masks include. OpenFlow's check_overlap.
   */
  overlaps(mask: Uint32Array, key: Uint32Array, priority: number, version: number = CLS_MAX_VERSION - 1): boolean {
    for (const st of this.subtables) {
      if (!st.priorities.has(priority)) continue;
      for (const head of st.buckets.values()) {
        for (let r: ClsRule<T> | null = head; r !== null; r = r.next) {
          if (r.priority !== priority || !r.visibleIn(version)) continue;
          let ok = true;
          for (let i = 0; i < r.words.length && ok; i++) {
            const w = r.words[i]!;
            if (((r.vals[i]! ^ key[w]!) & r.maskVals[i]! & mask[w]!) !== 0) ok = false;
          }
          if (ok) return true;
        }
      }
    }
    return false;
  }

  /** Every rule (any version), in no particular order. */
  *rules(): IterableIterator<ClsRule<T>> {
    for (const st of this.subtables.slice()) {
      for (const head of [...st.buckets.values()]) {
        for (let r: ClsRule<T> | null = head; r !== null; ) {
          const next: ClsRule<T> | null = r.next;
          yield r;
          r = next;
        }
      }
    }
  }

  /**
   * Rules visible in `version` that are at least as specific as the match
   * (mask, key): their mask includes every bit of `mask` and they agree
   * with `key` on those bits — a non-strict flow_mod/delete/dump filter.
   * An all-zero mask yields every visible rule. A fresh array, so the
   * caller may remove rules while iterating.
   */
  loose(mask: Uint32Array, key: Uint32Array, version: number = CLS_MAX_VERSION - 1): ClsRule<T>[] {
    const list = new RuleList<T>();
    this.looseEach(mask, key, version, list);
    return list.rules;
  }

  /** `loose`'s rules, in its order, given to `visitor` (a dump collects 100,000 without an array in between). */
  looseEach(mask: Uint32Array, key: Uint32Array, version: number, visitor: RuleVisitor<ClsRule<T>>): void {
    const words = maskWords(mask);
    for (const st of this.subtables) {
      if (!coversMask(st, words, mask)) continue;
      // With no match field at all (delete everything), only visibility decides.
      const all = words.length === 0;
      const buckets = st.buckets;
      // By slot, as hideLoose walks them (no iterator object per subtable and step).
      for (let b = 0, nb = buckets.slotCount; b < nb; b++) {
        for (let r: ClsRule<T> | null = buckets.valueAt(b); r !== null; r = r.next) {
          if (r.visibleIn(version) && (all || r.agreesWith(mask, key))) visitor.visit(r);
        }
      }
    }
  }

  /**
   * `loose` and `makeInvisibleIn` in one pass, for a delete: every rule
   * visible in `version` that is at least as specific as (mask, key) and
   * has a priority of at most `maxPriority` becomes invisible from
   * `version` on, and its payload is appended to `out`, in `loose`'s order,
   * and given to `visitor` (when not null). Returns how many. One visit per
   * rule, where selecting and then hiding visited each twice: with 100,000
   * rules, each visit is a cache miss, so what the caller has to do to
   * each rule it does in `visit`, while the rule is at hand.
   */
  hideLoose(mask: Uint32Array, key: Uint32Array, version: number, maxPriority: number, out: T[], visitor: RuleVisitor<T> | null = null): number {
    const words = maskWords(mask);
    const all = words.length === 0;
    let n = 0;
    for (const st of this.subtables) {
      if (!coversMask(st, words, mask)) continue;
      let hidden = 0;
      const buckets = st.buckets;
      for (let b = 0, nb = buckets.slotCount; b < nb; b++) {
        for (let r: ClsRule<T> | null = buckets.valueAt(b); r !== null; r = r.next) {
          if (r.priority > maxPriority || !r.visibleIn(version) || !(all || r.agreesWith(mask, key))) continue;
          if (version <= r.addVersion) throw new RangeError(`rule added in version ${r.addVersion} cannot be removed in version ${version}`);
          if (r.removeVersion === NOT_REMOVED) hidden++;
          r.removeVersion = version;
          out.push(r.payload);
          if (visitor !== null) visitor.visit(r.payload);
          n++;
        }
      }
      st.nInvisible += hidden;
      this.nInvisible += hidden;
    }
    return n;
  }

  // HOT PATH
  /**
   * The highest-priority rule visible in `version` that `flow` matches
   * (conjunctions resolved), or null. ORs into `wc` (when given) the bits
   * of `flow` the answer depends on. `flow` is left unchanged.
   */
  lookup(flow: Uint32Array, version: number, wc: Uint32Array | null): ClsRule<T> | null {
    this.nSofts = 0;
    const hard = this.lookupHard(flow, version, wc, true);
    if (this.nSofts === 0) return hard;
    return this.resolveConjunctions(flow, version, wc, hard);
  }

  // HOT PATH
  /**
   * True when a prefix trie proves no rule of `st` can match `flow`; then
   * ORs into `wc` the leading address bits that proof rests on. Each trie
   * is walked at most once per lookup (`stamp`).
   */
  private triesExclude(st: Subtable<T>, flow: Uint32Array, wc: Uint32Array | null, stamp: number): boolean {
    const nTries = this.tries.length;
    for (let t = 0; t < nTries; t++) {
      const plen = st.plens[t]!;
      if (plen === 0) continue;
      const plens = this.triePlens[t]!;
      if (this.trieStamp[t] !== stamp) {
        this.trieBits[t] = this.tries[t]!.lookup(flow, plens, stamp);
        this.trieStamp[t] = stamp;
      }
      if (plens[plen] !== stamp) {
        if (wc !== null) {
          const cb = this.trieBits[t]!;
          unwildcardPrefix(wc, this.tries[t]!.word, cb < plen ? cb : plen);
        }
        return true;
      }
    }
    return false;
  }

  // HOT PATH
  /** One pass over the subtables; collects soft rules into `softs` when `allowSoft`. */
  private lookupHard(flow: Uint32Array, version: number, wc: Uint32Array | null, allowSoft: boolean): ClsRule<T> | null {
    // Stamps mark per-lookup trie results without clearing arrays; restart
    // them long before they could wrap and meet a stale mark.
    if (this.stamp >= STAMP_LIMIT) this.resetTrieStamps();
    const stamp = ++this.stamp;
    const subtables = this.subtables;
    let best: ClsRule<T> | null = null;
    let bestPri = -Infinity;
    for (let si = 0; si < subtables.length; si++) {
      const st = subtables[si]!;
      if (st.maxPriority <= bestPri) break;
      // Staged hash probes; the prefix tries are consulted when the stage
      // holding their field is reached (as OVS: metadata misses stay cheap).
      const words = st.words;
      const mask = st.mask;
      const ends = st.stageEnds;
      const nIdx = st.indices.length;
      const trieAt = st.trieAt;
      let h = HASH_BASIS;
      let i = 0;
      let missEnd = -1;
      let skip = false;
      for (let s = 0; s <= nIdx; s++) {
        if (s === trieAt && this.triesExclude(st, flow, wc, stamp)) {
          skip = true;
          break;
        }
        if (s === nIdx) break;
        const end = ends[s]!;
        for (; i < end; i++) {
          const w = words[i]!;
          h = hashAdd(h, flow[w]! & mask[w]!);
        }
        if (!st.indices[s]!.has(hashFinish(h, end * 4))) {
          missEnd = end;
          break;
        }
      }
      // A trie showed no rule can match: its bits are all this subtable cost.
      if (skip) continue;
      if (missEnd < 0) {
        const n = words.length;
        for (; i < n; i++) {
          const w = words[i]!;
          h = hashAdd(h, flow[w]! & mask[w]!);
        }
        missEnd = n;
        let found = false;
        let r = st.buckets.get(hashFinish(h, n * 4));
        for (; r !== null; r = r.next) {
          if (r.priority <= bestPri) break;
          if (r.addVersion > version || (r.removeVersion !== NOT_REMOVED && version >= r.removeVersion)) continue;
          const vals = r.vals;
          let j = 0;
          for (; j < n; j++) {
            const w = words[j]!;
            if (((flow[w]! & mask[w]!) ^ vals[j]!) !== 0) break;
          }
          if (j !== n) continue;
          found = true;
          if (r.conjunctions !== null) {
            if (allowSoft) this.softs[this.nSofts++] = r;
            continue;
          }
          best = r;
          bestPri = r.priority;
          break;
        }
        // Ports: if no rule of the subtable has this packet's ports, the
        // leading port bits that show it are all the last stage looked at
        // (the stages before it were looked at in full, as in OVS).
        const ports = st.ports;
        if (!found && ports !== null && wc !== null) {
          this.portsKey[W_TP_SRC] = flow[W_TP_SRC]! & mask[W_TP_SRC]!;
          if (this.portsStamp >= STAMP_LIMIT) {
            this.portsPlens.fill(-1);
            this.portsStamp = 0;
          }
          const ps = ++this.portsStamp;
          const cb = ports.lookup(this.portsKey, this.portsPlens, ps);
          if (this.portsPlens[32] !== ps) {
            wc[W_TP_SRC] = (wc[W_TP_SRC]! | (mask[W_TP_SRC]! & (cb >= 32 ? -1 : ~(-1 >>> cb)))) >>> 0;
            missEnd = nIdx > 0 ? ends[nIdx - 1]! : 0;
          }
        }
      }
      if (wc !== null) {
        for (let k = 0; k < missEnd; k++) {
          const w = words[k]!;
          wc[w] = wc[w]! | mask[w]!;
        }
      }
    }
    return best;
  }

  /** Conjunction resolution after a lookup that collected soft rules. */
  private resolveConjunctions(flow: Uint32Array, version: number, wc: Uint32Array | null, hard: ClsRule<T> | null): ClsRule<T> | null {
    const hardPri = hard === null ? -Infinity : hard.priority;
    const softs = this.softs;
    const nSofts = this.nSofts;
    let ceiling = Infinity;
    for (;;) {
      // Next priority level below `ceiling` that beats the hard match.
      let pri = -Infinity;
      for (let i = 0; i < nSofts; i++) {
        const p = softs[i]!.priority;
        if (p < ceiling && p > pri) pri = p;
      }
      if (pri <= hardPri) return hard;
      ceiling = pri;
      let nIds = 0;
      for (let i = 0; i < nSofts; i++) {
        const r = softs[i]!;
        if (r.priority !== pri) continue;
        const conj = r.conjunctions!;
        for (let c = 0; c < conj.length; c++) {
          const { id, clause, nClauses } = conj[c]!;
          let k = 0;
          while (k < nIds && (this.conjIds[k] !== (id | 0) || this.conjN[k] !== nClauses)) k++;
          if (k === nIds) {
            if (nIds === this.conjIds.length) this.growConj();
            this.conjIds[k] = id | 0;
            this.conjN[k] = nClauses;
            this.conjLo[k] = 0;
            this.conjHi[k] = 0;
            nIds++;
          }
          if (clause <= 32) this.conjLo[k] = this.conjLo[k]! | (1 << (clause - 1));
          else this.conjHi[k] = this.conjHi[k]! | (1 << (clause - 33));
        }
      }
      for (let k = 0; k < nIds; k++) {
        const n = this.conjN[k]!;
        const full =
          n <= 32
            ? this.conjLo[k] === (n === 32 ? -1 : (1 << n) - 1) && this.conjHi[k] === 0
            : this.conjLo[k] === -1 && this.conjHi[k] === (n === 64 ? -1 : (1 << (n - 32)) - 1);
        if (!full) continue;
        const savedId = flow[W_CONJ_ID]!;
        const savedWc = wc === null ? 0 : wc[W_CONJ_ID]!;
        flow[W_CONJ_ID] = this.conjIds[k]! >>> 0;
        const r = this.lookupHard(flow, version, wc, false);
        flow[W_CONJ_ID] = savedId;
        if (wc !== null) wc[W_CONJ_ID] = savedWc;
        if (r !== null) return r;
      }
    }
  }

  /** Only between lookups (a lookup's marks carry its stamp to the end). */
  private resetTrieStamps(): void {
    for (const p of this.triePlens) p.fill(-1);
    this.trieStamp.fill(-1);
    this.stamp = 0;
  }

  private growConj(): void {
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.conjIds = g(this.conjIds);
    this.conjLo = g(this.conjLo);
    this.conjHi = g(this.conjHi);
    this.conjN = g(this.conjN);
  }
}
