/**
 * The classifier's public face: `Classifier` (rules with priorities and
 * masks; staged, prefix-tracked, versioned lookup with un-wildcarding and
 * conjunctions), `ClsRule`, and the prefix trie it uses.
 */
export * from "./classifier.js";
export { PrefixTrie, prefixLength, unwildcardPrefix, TRIE_MAX_BITS } from "./prefix-trie.js";
