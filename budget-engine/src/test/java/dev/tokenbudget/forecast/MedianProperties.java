package dev.tokenbudget.forecast;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MedianProperties {

    /** The selection gives the sorted array's median, on long arrays full of ties as well. */
    @Property(tries = 300)
    void selectionMatchesTheSortedMedian(@ForAll @Size(min = 1, max = 5000) List<@DoubleRange(min = -1e6, max = 1e6) Double> values,
                                         @ForAll @IntRange(min = 1, max = 40) int distinct) {
        double[] x = new double[values.size()];
        for (int i = 0; i < x.length; i++) {
            // fold onto a few values on odd sizes, so that ties around the middle are common
            x[i] = x.length % 2 == 1 ? Math.floor(values.get(i) / 1e6 * distinct) : values.get(i);
        }
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        int n = x.length;
        double expected = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        assertThat(LocalTrend.medianInPlace(x.clone(), n)).isEqualTo(expected);
        assertThat(LocalTrend.median(x, n)).isEqualTo(expected);
    }

    @Property(tries = 50)
    void sortedAndReversedRunsAreSelectedToo(@ForAll @IntRange(min = 65, max = 20000) int n, @ForAll boolean reversed) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = reversed ? n - i : i % 7 == 0 ? i : i / 2;
        }
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        double expected = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        assertThat(LocalTrend.medianInPlace(x, n)).isEqualTo(expected);
    }
}
