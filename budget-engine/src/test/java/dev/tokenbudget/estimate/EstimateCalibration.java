package dev.tokenbudget.estimate;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import dev.tokenbudget.provider.Family;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Fits {@link TextFeatures} weights against exact jtokkit counts and measures the error and cost of
 * each estimate. A benchmark, not a test: run it by hand (docs/usage.md has the command).
 *
 * <pre>
 *   java -cp ... dev.tokenbudget.estimate.EstimateCalibration [corpus dirs...]
 * </pre>
 * Files under the directories ({@code .md .txt .java .py .json .html .gz} man pages) are cut
 * into samples of 100 to 8,000 characters; weights are fitted on samples of even-numbered files
 * and the error is measured on odd-numbered ones.
 */
public final class EstimateCalibration {

    private static final int[] LENGTHS = {100, 400, 1500, 4000, 8000};

    private EstimateCalibration() {
    }

    public static void main(String[] args) throws IOException {
        List<Path> dirs = new ArrayList<>();
        for (String a : args) {
            dirs.add(Path.of(a));
        }
        if (dirs.isEmpty()) {
            dirs.add(Path.of("."));
        }
        List<String> files = load(dirs);
        System.out.printf(Locale.ROOT, "corpus: %d files from %s%n", files.size(), dirs);
        EncodingRegistry reg = Encodings.newDefaultEncodingRegistry();
        for (EncodingType type : new EncodingType[] {EncodingType.O200K_BASE, EncodingType.CL100K_BASE}) {
            Encoding enc = reg.getEncoding(type);
            List<double[]> fitF = new ArrayList<>();
            List<Double> fitY = new ArrayList<>();
            List<String> testText = new ArrayList<>();
            List<Integer> testY = new ArrayList<>();
            Random random = new Random(42);
            for (int i = 0; i < files.size(); i++) {
                for (String s : samples(files.get(i), random)) {
                    int exact = enc.countTokensOrdinary(s);
                    if (i % 2 == 0) {
                        fitF.add(TextFeatures.of(s));
                        fitY.add((double) exact);
                    } else {
                        testText.add(s);
                        testY.add(exact);
                    }
                }
            }
            double[] w = fit(fitF, fitY);
            System.out.printf(Locale.ROOT, "%n== %s: fitted on %d samples, tested on %d ==%nweights %s%n",
                    type.getName(), fitF.size(), testText.size(), Arrays.toString(round(w)));
            report("chars/4", testText, testY, s -> s.length() / 4.0);
            report("chars/3 (CharRatioEstimator default)", testText, testY, s -> s.length() / 3.0);
            report("features", testText, testY, s -> TextFeatures.estimate(TextFeatures.of(s), w));
            report("features x1.1 (margin)", testText, testY, s -> 1.1 * TextFeatures.estimate(TextFeatures.of(s), w));
            double[] shipped = type == EncodingType.O200K_BASE ? TokenizerEstimator.O200K_WEIGHTS
                    : TokenizerEstimator.CL100K_WEIGHTS;
            report("shipped weights x margin", testText, testY, s -> TokenizerEstimator.DEFAULT_MARGIN
                    * TextFeatures.estimate(TextFeatures.of(s), shipped));
            timing(enc, testText, w);
            if (type == EncodingType.O200K_BASE) {
                tradeOff(testText, testY);
            }
        }
    }

    /** Error and cost of the whole estimator for several exact-count bounds, on the held-out samples. */
    private static void tradeOff(List<String> texts, List<Integer> exact) {
        System.out.printf(Locale.ROOT, "%n  TokenizerEstimator (gpt-4.1, margin %.2f) by exact-count bound:%n",
                TokenizerEstimator.DEFAULT_MARGIN);
        for (int bound : new int[] {0, 256, 1000, 4000, Integer.MAX_VALUE}) {
            TokenizerEstimator est = TokenizerEstimator.create(bound, TokenizerEstimator.DEFAULT_MARGIN);
            report("exact up to " + (bound == Integer.MAX_VALUE ? "any" : bound) + " chars", texts, exact,
                    s -> est.textTokens(Family.OPENAI, "gpt-4.1", s));
            for (int len : LENGTHS) {
                List<String> bucket = texts.stream().filter(t -> t.length() == len).toList();
                double best = Double.MAX_VALUE;
                long sink = 0;
                for (int round = 0; round < 3; round++) {
                    long t0 = System.nanoTime();
                    for (String t : bucket) {
                        sink += (long) est.textTokens(Family.OPENAI, "gpt-4.1", t);
                    }
                    best = Math.min(best, (System.nanoTime() - t0) / 1e3 / Math.max(1, bucket.size()));
                }
                System.out.printf(Locale.ROOT, "      %5d chars: %7.1f us per call (%d samples%s)%n", len, best,
                        bucket.size(), sink < 0 ? "!" : "");
            }
        }
    }

    /** Least squares with non-negative weights (active-set: refit without weights that come out negative). */
    static double[] fit(List<double[]> xs, List<Double> ys) {
        boolean[] active = new boolean[TextFeatures.COUNT];
        Arrays.fill(active, true);
        while (true) {
            double[] w = solve(xs, ys, active);
            boolean changed = false;
            for (int j = 0; j < w.length; j++) {
                if (active[j] && w[j] < 0) {
                    active[j] = false;
                    changed = true;
                }
            }
            if (!changed) {
                return w;
            }
        }
    }

    private static double[] solve(List<double[]> xs, List<Double> ys, boolean[] active) {
        int n = TextFeatures.COUNT;
        double[][] a = new double[n][n + 1];
        for (int k = 0; k < xs.size(); k++) {
            double[] x = xs.get(k);
            // weight samples by 1/y so that short prompts count as much as long ones (relative error)
            double wt = 1.0 / Math.max(1, ys.get(k));
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i][j] += wt * x[i] * x[j];
                }
                a[i][n] += wt * x[i] * ys.get(k);
            }
        }
        for (int i = 0; i < n; i++) {
            a[i][i] += 1e-6; // ridge: features absent from the corpus stay defined
            if (!active[i]) {
                Arrays.fill(a[i], 0);
                a[i][i] = 1;
                for (int r = 0; r < n; r++) {
                    if (r != i) {
                        a[r][i] = 0;
                    }
                }
            }
        }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int r = c + 1; r < n; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[p][c])) {
                    p = r;
                }
            }
            double[] t = a[c];
            a[c] = a[p];
            a[p] = t;
            for (int r = 0; r < n; r++) {
                if (r != c && a[c][c] != 0) {
                    double f = a[r][c] / a[c][c];
                    for (int k = c; k <= n; k++) {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = a[i][i] == 0 ? 0 : a[i][n] / a[i][i];
        }
        return w;
    }

    private static double[] round(double[] w) {
        double[] r = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            r[i] = Math.round(w[i] * 10000) / 10000.0;
        }
        return r;
    }

    private static void report(String name, List<String> texts, List<Integer> exact,
                               java.util.function.ToDoubleFunction<String> est) {
        double[] rel = new double[texts.size()];
        int under = 0;
        double sumAbs = 0;
        for (int i = 0; i < texts.size(); i++) {
            double e = Math.ceil(est.applyAsDouble(texts.get(i)));
            rel[i] = (e - exact.get(i)) / Math.max(1, exact.get(i));
            sumAbs += Math.abs(rel[i]);
            if (e < exact.get(i)) {
                under++;
            }
        }
        Arrays.sort(rel);
        System.out.printf(Locale.ROOT, "  %-38s mean |err| %5.1f%%  p5 %+6.1f%%  p50 %+6.1f%%  p95 %+6.1f%%  "
                        + "under %4.1f%% of samples%n", name, 100 * sumAbs / rel.length, 100 * pct(rel, 0.05),
                100 * pct(rel, 0.5), 100 * pct(rel, 0.95), 100.0 * under / rel.length);
    }

    private static double pct(double[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }

    private static void timing(Encoding enc, List<String> texts, double[] w) {
        long chars = 0;
        for (String s : texts) {
            chars += s.length();
        }
        long sink = 0;
        for (int round = 0; round < 3; round++) { // warm-up rounds, last one measured
            long t0 = System.nanoTime();
            for (String s : texts) {
                sink += enc.countTokensOrdinary(s);
            }
            long t1 = System.nanoTime();
            for (String s : texts) {
                sink += (long) TextFeatures.estimate(TextFeatures.of(s), w);
            }
            long t2 = System.nanoTime();
            if (round == 2) {
                System.out.printf(Locale.ROOT, "  cost per 1,000 chars: exact %.1f us, features %.2f us  (%d)%n",
                        (t1 - t0) / 1e3 / (chars / 1000.0), (t2 - t1) / 1e3 / (chars / 1000.0), sink % 10);
            }
        }
    }

    private static List<String> samples(String text, Random random) {
        List<String> out = new ArrayList<>();
        for (int len : LENGTHS) {
            if (text.length() >= len) {
                int start = random.nextInt(text.length() - len + 1);
                if (start > 0 && Character.isLowSurrogate(text.charAt(start))) {
                    start--;
                }
                out.add(text.substring(start, Math.min(text.length(), start + len)));
            }
        }
        return out;
    }

    private static List<String> load(List<Path> dirs) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path d : dirs) {
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                    String n = p.getFileName().toString();
                    if (p.toString().contains("/target/") || p.toString().contains("/.git/")) {
                        continue;
                    }
                    String text = null;
                    if (n.endsWith(".gz")) {
                        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
                            text = utf8(in.readAllBytes());
                        } catch (IOException e) {
                            continue;
                        }
                    } else if (n.matches(".*\\.(md|txt|java|py|json|html|yaml|sse)")) {
                        text = utf8(Files.readAllBytes(p));
                    }
                    if (text != null && text.length() >= 100) {
                        out.add(n.endsWith(".html") ? text.replaceAll("<[^>]*>", " ") : text);
                    }
                }
            }
        }
        return out;
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
