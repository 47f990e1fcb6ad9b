package dev.tokenbudget.identity;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class KeyHashTest {

    @Test
    void isTheLowerCaseHexOfSha256() {
        // FIPS 180-2's test vector, and the empty string's digest
        assertThat(KeyHash.of("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(KeyHash.of("")).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(KeyHash.isHash(KeyHash.of("sk-any"))).isTrue();
    }

    @Test
    void hashesTheKeysUtf8Bytes() {
        assertThat(KeyHash.of("cl\u00e9")).isEqualTo("51cbcf30514d0802eb5c60a018f384ea3fb9b69307c554ee63ecb43177594de4");
        assertThat(KeyHash.of("cl\u00e9")).isNotEqualTo(KeyHash.of("cle"));
    }

    @Test
    void threadsHashingAtOnceEachGetTheirKeysOwnHash() throws Exception {
        List<String> keys = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            keys.add("sk-thread-" + i);
            expected.add(KeyHash.of("sk-thread-" + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 500; round++) {
                        int i = (round * 7 + offset) % keys.size();
                        if (!KeyHash.of(keys.get(i)).equals(expected.get(i))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : runs) {
                assertThat(r.get(30, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
