package dev.tokenbudget.store.redis;

import dev.tokenbudget.store.Slot;

/**
 * Key layout of the Redis store (docs/redis.md). Every key of a tree carries {@code {treeId}}
 * as its hash tag, so that a Cluster keeps a whole tree in one slot and accepts the scripts.
 */
record RedisKeys(String prefix) {

    /** The leases of a tree and its generation marker. */
    String leases(String tree) {
        return tag(tree) + ":l";
    }

    /** Lease expiries of a tree (server time). */
    String expiries(String tree) {
        return tag(tree) + ":x";
    }

    /** One window of one budget; a new calendar window is a new key. */
    String window(String tree, Slot s) {
        return tag(tree) + ":w:" + s.key();
    }

    /** The tree's ledger of changes (rebalances, holds, limit changes). */
    String ledger(String tree) {
        return tag(tree) + ":g";
    }

    /** The idempotency keys of the tree's ledger entries. */
    String ledgerKeys(String tree) {
        return tag(tree) + ":gk";
    }

    /** The trees that have leases, for the expiry sweep (not tree-tagged: one per store). */
    String trees() {
        return prefix + ":trees";
    }

    /** Run-time limit changes of every budget (not tree-tagged: one per store, touched alone). */
    String limits() {
        return prefix + ":limits";
    }

    private String tag(String tree) {
        if (tree.isEmpty() || tree.indexOf('{') >= 0 || tree.indexOf('}') >= 0) {
            throw new IllegalArgumentException("budget tree id must be non-empty and free of '{' and '}' (it is the "
                    + "Redis hash tag), was '" + tree + "'");
        }
        return prefix + ":{" + tree + "}";
    }
}
