package dev.tokenbudget.provider;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8Properties {

    private static boolean jdkAccepts(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Property(tries = 2000)
    void agreesWithTheJdksStrictDecoderOnAnyBytes(@ForAll @Size(max = 12) byte[] b) {
        assertThat(Utf8.firstInvalid(b) < 0).isEqualTo(jdkAccepts(b));
    }

    @Property(tries = 500)
    void acceptsEveryWellFormedString(@ForAll String s) {
        if (s.codePoints().anyMatch(c -> c >= 0xD800 && c <= 0xDFFF)) {
            return; // lone surrogates are not encodable
        }
        assertThat(Utf8.firstInvalid(s.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
    }

    @Property(tries = 2000)
    void thePieceByPieceValidatorAgreesWithTheWholeArrayWhereverTheBytesAreCut(
            @ForAll @Size(max = 12) byte[] b, @ForAll @Size(max = 4) java.util.List<Integer> cuts) {
        Utf8.Validator v = new Utf8.Validator();
        int at = 0;
        for (int c : cuts) {
            int to = Math.min(b.length, at + Math.floorMod(c, 5));
            v.feed(b, at, to - at);
            at = to;
        }
        v.feed(b, at, b.length - at);
        assertThat(v.complete()).isEqualTo(Utf8.firstInvalid(b) < 0);
    }
}
