package dev.tokenbudget.store.redis;

import java.util.Arrays;

/**
 * A reserve's path as batch.lua takes it: the window keys of its slots and their
 * {@link SlotArgs#COUNT} arguments each. Equal when keys and arguments are, so that
 * {@link TreeBatcher} sends a path once per call however many of the call's reserves share it.
 */
final class ReservePath {

    private final String[] keys;
    private final String[] args;
    private final int hash;

    ReservePath(String[] keys, String[] args) {
        if (args.length != keys.length * SlotArgs.COUNT) {
            throw new IllegalArgumentException("a path of " + keys.length + " slots takes "
                    + keys.length * SlotArgs.COUNT + " arguments, got " + args.length);
        }
        this.keys = keys;
        this.args = args;
        this.hash = 31 * Arrays.hashCode(keys) + Arrays.hashCode(args);
    }

    String[] keys() {
        return keys;
    }

    String[] args() {
        return args;
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof ReservePath p && p.hash == hash && Arrays.equals(p.keys, keys)
                && Arrays.equals(p.args, args);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
