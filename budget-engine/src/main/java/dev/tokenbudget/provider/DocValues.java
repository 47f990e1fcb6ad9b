package dev.tokenbudget.provider;

import dev.tokenbudget.provider.json.Scalar;

import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * The scalars of one JSON document by path, the last value of a path winning: what a
 * {@link UsageCollector} reads its counts from. A few paths per document, found by a walk over two
 * arrays kept from one document to the next, so a stream's events add no map entries to collect.
 * Not thread-safe.
 */
final class DocValues {

    private String[] paths = new String[8];
    private Scalar[] values = new Scalar[8];
    private int size;

    void put(String path, Scalar value) {
        int i = indexOf(path);
        if (i >= 0) {
            values[i] = value;
            return;
        }
        if (size == paths.length) {
            paths = Arrays.copyOf(paths, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        paths[size] = path;
        values[size++] = value;
    }

    /** The value at {@code path}, or null. */
    Scalar get(String path) {
        int i = indexOf(path);
        return i < 0 ? null : values[i];
    }

    boolean containsKey(String path) {
        return indexOf(path) >= 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void clear() {
        Arrays.fill(paths, 0, size, null);
        Arrays.fill(values, 0, size, null);
        size = 0;
    }

    /** Each path and its value, in the order the paths first came. */
    void forEach(BiConsumer<String, Scalar> action) {
        for (int i = 0; i < size; i++) {
            action.accept(paths[i], values[i]);
        }
    }

    private int indexOf(String path) {
        for (int i = 0; i < size; i++) {
            String p = paths[i];
            if (p == path || p.equals(path)) {
                return i;
            }
        }
        return -1;
    }
}
