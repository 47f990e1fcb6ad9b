package dev.tokenbudget.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tokenbudget.alert.AlertConfig;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.DegradeSpec;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.price.PriceTable;
import dev.tokenbudget.routing.UpstreamSpec;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the engine's YAML (or JSON) config into an {@link EngineConfig}, reporting every error
 * with the path of the field and what is wrong ({@code budgets[2].windows[0].limits.output: must
 * be > 0, was -5}). The reference is {@code docs/configuration.md}.
 */
public final class ConfigLoader {

    /** Budget ids travel in headers, Redis keys and URLs: keep them to a safe alphabet. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** Model names travel in response headers and request bodies: visible ASCII only. */
    private static final Pattern MODEL = Pattern.compile("[\\x21-\\x7E]{1,256}");

    /** Duplicate fields are refused: {@code limits: {total: 10, total: 10M}} must not silently mean one of them. */
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    private static final Set<String> ROOT = Set.of("version", "store", "lease_ttl", "defaults", "headers", "providers",
            "prices", "budgets", "keys", "upstreams", "alerts", "prompts");
    private static final Set<String> DEFAULTS = Set.of("output_tokens", "output_tokens_by_model", "zone", "thresholds",
            "on_store_failure", "oversubscription");
    private static final Set<String> HEADERS = Set.of("feature", "user");
    private static final Set<String> PROVIDER = Set.of("api_key_env");
    private static final Set<String> PRICE = Set.of("input", "output", "cached_input");
    private static final Set<String> BUDGET = Set.of("id", "parent", "windows", "thresholds", "degrade",
            "on_store_failure", "allocation", "overflow", "overflow_cap");
    private static final Set<String> WINDOW = Set.of("period", "length", "zone", "name", "limits");
    private static final Set<String> LIMITS = Set.of("input", "output", "total");
    private static final Set<String> THRESHOLD = Set.of("at", "policy");
    private static final Set<String> DEGRADE = Set.of("models", "max_output_tokens", "clamp_to_remaining",
            "prompt_variants", "cache_ttl", "route");
    static final Set<String> PROVIDERS = Set.of("openai", "anthropic", "gemini", "azure", "openai_compatible",
            "bedrock", "vertex");
    private static final Set<String> KEY = Set.of("name", "sha256", "budget", "features", "default_feature", "windows",
            "thresholds", "user_windows");

    private ConfigLoader() {
    }

    public static EngineConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (MalformedInputException e) {
            throw new ConfigException(List.of(new ConfigError("", "cannot read " + file + ": it is not UTF-8 text")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError("", "cannot read " + file + ": " + e.getMessage())));
        }
        return parse(text);
    }

    public static EngineConfig parse(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException(List.of(new ConfigError("", "not valid YAML" + where + ": "
                    + e.getOriginalMessage())));
        }
        return parse(root);
    }

    public static EngineConfig parse(JsonNode root) {
        List<ConfigError> errors = new ArrayList<>();
        EngineConfig config = new Reader(errors).read(new ConfigNode(root, "", errors));
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return config;
    }

    /** A value for an error message, with control characters shown escaped (no line breaks in logs). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(b::appendCodePoint);
        return ConfigError.oneLine(s.codePointCount(0, s.length()) > 80 ? b + "..." : b.toString());
    }

    /** A URI for an error message, without the credentials a {@code user:password@} part may hold. */
    static String withoutCredentials(String uri) {
        return uri.replaceAll("(?<=://)[^@/]*@", "***@");
    }

    /** A budget, key or upstream id: {@link #ID}'s alphabet, else an error at {@code n} and null. */
    static String id(ConfigNode n) {
        String id = n.requiredString();
        if (id != null && !ID.matcher(id).matches()) {
            n.error("must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, was '" + printable(id)
                    + "'");
            return null;
        }
        return id;
    }

    /** One pass over a config tree, collecting errors. */
    private static final class Reader {
        private final List<ConfigError> errors;
        private ZoneId defaultZone = ZoneId.of("UTC");
        private List<Threshold> defaultThresholds = Budget.DEFAULT_THRESHOLDS;
        private FailMode defaultFailMode = FailMode.OPEN;
        private final Map<String, List<Threshold>> explicitThresholds = new HashMap<>();
        private final Map<String, DegradeSpec> explicitDegrade = new HashMap<>();
        private final AllocationConfig allocation;
        /** The default prices with the config's over them: degrade targets must be models it knows. */
        private PriceTable priceTable = PriceTable.ofDefaults();

        Reader(List<ConfigError> errors) {
            this.errors = errors;
            this.allocation = new AllocationConfig(errors, this::limits);
        }

        EngineConfig read(ConfigNode root) {
            if (root.isMissing()) {
                root.error("the config is empty: it needs at least 'budgets'");
                return null;
            }
            if (!root.expectObject(ROOT)) {
                return null;
            }
            int version = root.get("version").integer(1, 1, 1);
            assert version == 1;
            StoreSettings store = StoreConfigReader.read(root.get("store"));
            Duration leaseTtl = root.get("lease_ttl").duration(EngineConfig.DEFAULT_LEASE_TTL);
            if (leaseTtl.isZero() || leaseTtl.isNegative()) {
                root.get("lease_ttl").error("must be > 0");
            }

            ConfigNode defaults = root.get("defaults");
            defaults.expectObject(DEFAULTS);
            long outputTokens = defaults.get("output_tokens").isMissing() ? EngineConfig.DEFAULT_OUTPUT_TOKENS
                    : defaults.get("output_tokens").positiveTokens();
            Map<String, Long> byModel = new LinkedHashMap<>();
            ConfigNode bm = defaults.get("output_tokens_by_model");
            if (bm.expectObject(Set.copyOf(bm.fieldNames()))) {
                for (String model : bm.fieldNames()) {
                    long v = bm.get(model).positiveTokens();
                    if (v > 0) {
                        byModel.put(model, v);
                    }
                }
            }
            defaultZone = zone(defaults.get("zone"), defaultZone);
            if (defaults.has("thresholds")) {
                defaultThresholds = thresholds(defaults.get("thresholds"));
            }
            defaultFailMode = defaults.get("on_store_failure").enumValue(FailMode.class, FailMode.OPEN, s -> s);
            allocation.defaults(defaults);

            ConfigNode headers = root.get("headers");
            headers.expectObject(HEADERS);
            String featureHeader = header(headers.get("feature"), EngineConfig.DEFAULT_FEATURE_HEADER);
            String userHeader = header(headers.get("user"), EngineConfig.DEFAULT_USER_HEADER);

            Map<String, String> providerEnv = providers(root.get("providers"));
            Map<String, ModelPrice> prices = prices(root.get("prices"));
            priceTable = PriceTable.of(prices);
            Map<String, String> prompts = stringMap(root.get("prompts"));

            ConfigNode budgetsNode = root.get("budgets");
            if (budgetsNode.isMissing()) {
                budgetsNode.error("is required: a config needs at least one budget");
            }
            List<Budget> budgets = new ArrayList<>();
            Map<String, String> budgetPath = new HashMap<>();
            for (ConfigNode b : budgetsNode.list()) {
                Budget budget = budget(b);
                if (budget != null) {
                    if (budgetPath.containsKey(budget.id())) {
                        b.get("id").error("duplicate budget id '" + budget.id() + "', first defined at "
                                + budgetPath.get(budget.id()));
                        continue;
                    }
                    budgetPath.put(budget.id(), b.path());
                    budgets.add(budget);
                }
            }
            BudgetTree tree = inherit(tree(budgets, budgetPath), budgetPath);
            allocation.check(tree);
            List<VirtualKey> keys = keys(root.get("keys"), tree);
            List<UpstreamSpec> upstreams = UpstreamConfigReader.read(root.get("upstreams"), tree);
            AlertConfig alerts = AlertConfigReader.read(root.get("alerts"), budgetIds(tree, keys));
            if (!errors.isEmpty()) {
                return null;
            }
            return new EngineConfig(tree, keys, store, leaseTtl, outputTokens, byModel, featureHeader, userHeader,
                    providerEnv, prices, upstreams, alerts, prompts);
        }

        private static Set<String> budgetIds(BudgetTree tree, List<VirtualKey> keys) {
            Set<String> ids = new HashSet<>();
            tree.budgets().forEach(b -> ids.add(b.id()));
            keys.forEach(k -> k.own().ifPresent(b -> ids.add(b.id())));
            return ids;
        }

        private String header(ConfigNode n, String def) {
            String h = n.string(def);
            if (h != null && !h.matches("[A-Za-z0-9-]{1,64}")) {
                n.error("must be an HTTP header name (letters, digits and '-'), was '" + h + "'");
                return def;
            }
            return h == null ? def : h.toLowerCase(java.util.Locale.ROOT);
        }

        private Map<String, String> providers(ConfigNode n) {
            Map<String, String> out = new LinkedHashMap<>();
            if (!n.expectObject(PROVIDERS)) {
                return out;
            }
            for (String name : n.fieldNames()) {
                ConfigNode p = n.get(name);
                p.expectObject(PROVIDER);
                String env = p.get("api_key_env").requiredString();
                if (env != null && !env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    p.get("api_key_env").error("must name an environment variable, was '" + env
                            + "' (keys are never written in the config in clear)");
                } else if (env != null) {
                    out.put(name, env);
                }
            }
            return out;
        }

        private Map<String, ModelPrice> prices(ConfigNode n) {
            Map<String, ModelPrice> out = new LinkedHashMap<>();
            if (!n.expectObject(Set.copyOf(n.fieldNames()))) {
                return out;
            }
            for (String model : n.fieldNames()) {
                ConfigNode p = n.get(model);
                p.expectObject(PRICE);
                if (!p.has("input") || !p.has("output")) {
                    p.error("needs input and output (dollars per million tokens)");
                }
                double in = p.get("input").number(0);
                out.put(model, new ModelPrice(in, p.get("output").number(0), p.get("cached_input").number(in)));
            }
            return out;
        }

        private Budget budget(ConfigNode b) {
            if (!b.expectObject(BUDGET)) {
                if (b.isMissing()) {
                    b.error("must be a budget, was empty");
                }
                return null;
            }
            String id = id(b.get("id"));
            String parent = b.get("parent").string(null);
            List<WindowLimit> windows = windows(b.get("windows"), true);
            // thresholds and degrade left out are inherited from the nearest ancestor (see inherit)
            List<Threshold> thresholds = b.has("thresholds") ? thresholds(b.get("thresholds")) : null;
            DegradeSpec degrade = b.has("degrade") ? degrade(b.get("degrade")) : null;
            FailMode fail = b.get("on_store_failure").enumValue(FailMode.class, defaultFailMode, s -> s);
            if (id == null) {
                return null;
            }
            if (thresholds != null) {
                explicitThresholds.put(id, thresholds);
            }
            if (degrade != null) {
                explicitDegrade.put(id, degrade);
            }
            return Budget.builder(id).parent(parent).windows(windows).thresholds(thresholds).degrade(degrade)
                    .failMode(fail).allocation(allocation.allocation(id, b, windows)).overflow(allocation.overflow(b))
                    .build();
        }

        /**
         * Staged policies are inherited down the tree: a budget without its own thresholds or
         * degrade section takes its nearest ancestor's, else the defaults.
         */
        private BudgetTree inherit(BudgetTree tree, Map<String, String> paths) {
            List<Budget> out = new ArrayList<>();
            for (Budget b : tree.budgets()) {
                List<Threshold> ts = null;
                DegradeSpec ds = null;
                for (Budget a : tree.chain(b.id())) {
                    if (ts == null) {
                        ts = explicitThresholds.get(a.id());
                    }
                    if (ds == null) {
                        ds = explicitDegrade.get(a.id());
                    }
                }
                ts = ts == null ? defaultThresholds : ts;
                ds = ds == null ? DegradeSpec.NONE : ds;
                checkDegradePolicy(new ConfigNode(null, paths.get(b.id()), errors), ts, ds);
                out.add(b.toBuilder().thresholds(ts).degrade(ds).build());
            }
            return new BudgetTree(out);
        }

        private void checkDegradePolicy(ConfigNode b, List<Threshold> thresholds, DegradeSpec degrade) {
            boolean degrades = thresholds.stream().anyMatch(t -> t.policy() == Policy.DEGRADE_ROUTE);
            if (degrades && degrade.models().isEmpty() && degrade.maxOutputTokens() < 0
                    && degrade.promptVariants().isEmpty() && !degrade.clampToRemaining()) {
                b.get("degrade").error("a threshold uses degrade_route, so degrade needs models, max_output_tokens, "
                        + "clamp_to_remaining or prompt_variants");
            }
        }

        private List<WindowLimit> windows(ConfigNode n, boolean required) {
            List<WindowLimit> out = new ArrayList<>();
            if (n.isMissing()) {
                if (required) {
                    n.error("is required: at least one window with limits (e.g. period: month, limits: {total: 1M})");
                }
                return out;
            }
            List<ConfigNode> items = n.list();
            if (items.isEmpty() && n.raw().isArray()) {
                n.error("must hold at least one window");
            }
            Set<String> names = new HashSet<>();
            for (ConfigNode w : items) {
                WindowLimit wl = window(w);
                if (wl != null) {
                    if (!names.add(wl.window().name())) {
                        w.error("a second window named '" + wl.window().name() + "' in this budget; give one a "
                                + "distinct 'name'");
                    }
                    out.add(wl);
                }
            }
            return out;
        }

        private WindowLimit window(ConfigNode w) {
            if (!w.expectObject(WINDOW)) {
                if (w.isMissing()) {
                    w.error("must be a window, was empty");
                }
                return null;
            }
            Period period = w.get("period").isMissing() ? null
                    : w.get("period").enumValue(Period.class, null, s -> s);
            if (w.get("period").isMissing()) {
                w.get("period").error("is required: month, week, day or rolling");
            }
            ZoneId zone = zone(w.get("zone"), defaultZone);
            Duration length = w.get("length").duration(null);
            WindowSpec spec = null;
            if (period == Period.ROLLING) {
                if (length == null && w.get("length").isMissing()) {
                    w.get("length").error("is required for a rolling window (e.g. 7d or 24h)");
                } else if (length != null && length.toMinutes() < 1) {
                    w.get("length").error("must be at least 1m, was " + w.get("length").raw().asText());
                } else if (length != null) {
                    spec = WindowSpec.rolling(length);
                }
                if (w.has("zone")) {
                    w.get("zone").error("a rolling window has no time zone");
                }
            } else if (period != null) {
                if (w.has("length")) {
                    w.get("length").error("only a rolling window has a length; a " + period.name().toLowerCase()
                            + " window's length is the calendar's");
                }
                spec = WindowSpec.calendar(period, zone);
            }
            String name = w.get("name").string(null);
            if (name != null && !ID.matcher(name).matches()) {
                w.get("name").error("must be 1-64 of A-Z a-z 0-9 . _ -, was '" + name + "'");
                name = null;
            }
            Limits limits = limits(w.get("limits"));
            if (spec == null || limits == null) {
                return null;
            }
            return new WindowLimit(name == null ? spec : spec.named(name), limits);
        }

        private Limits limits(ConfigNode n) {
            if (n.isMissing()) {
                n.error("is required: at least one of input, output, total");
                return null;
            }
            if (!n.expectObject(LIMITS)) {
                return null;
            }
            int before = errors.size();
            long in = n.get("input").positiveTokens();
            long out = n.get("output").positiveTokens();
            long total = n.get("total").positiveTokens();
            if (errors.size() > before) {
                return null;
            }
            if (in < 0 && out < 0 && total < 0) {
                n.error("must limit at least one of input, output, total");
                return null;
            }
            return new Limits(in, out, total);
        }

        private ZoneId zone(ConfigNode n, ZoneId def) {
            String z = n.string(null);
            if (z == null) {
                return def;
            }
            try {
                return ZoneId.of(z);
            } catch (DateTimeException e) {
                n.error("must be an IANA time zone such as Europe/Berlin or UTC, was '" + z + "'");
                return def;
            }
        }

        private List<Threshold> thresholds(ConfigNode n) {
            List<Threshold> out = new ArrayList<>();
            Set<Integer> seen = new HashSet<>();
            for (ConfigNode t : n.list()) {
                if (!t.expectObject(THRESHOLD)) {
                    continue;
                }
                if (t.get("at").isMissing()) {
                    t.get("at").error("is required: a percent of the limit, 1 to 100");
                    continue;
                }
                int at = t.get("at").integer(-1, 1, 100);
                Policy p = t.get("policy").enumValue(Policy.class, Policy.ALERT_ONLY, s -> s);
                if (at < 0) {
                    continue;
                }
                if (!seen.add(at)) {
                    t.get("at").error("threshold " + at + " is listed twice");
                    continue;
                }
                out.add(new Threshold(at, p));
            }
            if (n.raw() != null && n.raw().isArray() && n.raw().isEmpty()) {
                n.error("must hold at least one threshold (omit it for 75/90/100)");
            }
            return out;
        }

        private DegradeSpec degrade(ConfigNode n) {
            if (!n.expectObject(DEGRADE)) {
                return DegradeSpec.NONE;
            }
            Map<String, String> models = stringMap(n.get("models"));
            models.forEach((from, to) -> {
                // the cheaper model goes into the x-tokenbudget-degraded-model response header
                if (!MODEL.matcher(from).matches() || !MODEL.matcher(to).matches()) {
                    n.get("models").error("'" + printable(from) + "' -> '" + printable(to) + "': model names are 1-256 "
                            + "visible ASCII characters, without spaces or control characters");
                } else if (!priceTable.knows(to)) {
                    // the source is whatever name clients send and needs no price; the target is chosen here
                    n.get("models").get(from).error("unknown model '" + to + "': a degrade target must be a model "
                            + "the price table knows" + closestModels(to) + "; add it under 'prices' (dollars per "
                            + "million tokens) if it is yours to name, e.g. a self-hosted model");
                }
            });
            long max = n.get("max_output_tokens").positiveTokens();
            Map<String, String> prompts = stringMap(n.get("prompt_variants"));
            String ttl = n.get("cache_ttl").string(null);
            if (ttl != null) {
                // sent upstream as the x-tokenbudget-cache-ttl header value: checked, then without blanks
                n.get("cache_ttl").duration(null);
                ttl = Quantities.blanksOff(ttl);
            }
            String route = n.get("route").string(DegradeSpec.DEFAULT_ROUTE);
            if (!ID.matcher(route).matches()) {
                n.get("route").error("must be 1-64 of A-Z a-z 0-9 . _ -, was '" + route + "'");
            }
            return new DegradeSpec(models, max, n.get("clamp_to_remaining").bool(false), prompts, ttl, route);
        }

        /** " (did you mean 'a', 'b'?)" with the up to three known models nearest to {@code model}, or nothing. */
        private String closestModels(String model) {
            String m = model.toLowerCase(Locale.ROOT);
            List<String> near = priceTable.entries().keySet().stream()
                    .filter(k -> ConfigNode.distance(m, k) <= Math.max(2, k.length() / 3))
                    .sorted(Comparator.comparingInt((String k) -> ConfigNode.distance(m, k))
                            .thenComparing(k -> k))
                    .limit(3).toList();
            return near.isEmpty() ? " (it has no model near that name; docs/usage.md#prices lists the defaults)"
                    : " (did you mean " + String.join(", ", near.stream().map(k -> "'" + k + "'").toList()) + "?)";
        }

        private Map<String, String> stringMap(ConfigNode n) {
            Map<String, String> out = new LinkedHashMap<>();
            if (!n.expectObject(Set.copyOf(n.fieldNames()))) {
                return out;
            }
            for (String k : n.fieldNames()) {
                String v = n.get(k).requiredString();
                if (v != null) {
                    out.put(k, v);
                }
            }
            return out;
        }

        private BudgetTree tree(List<Budget> budgets, Map<String, String> paths) {
            Map<String, Budget> byId = new HashMap<>();
            budgets.forEach(b -> byId.put(b.id(), b));
            List<Budget> ok = new ArrayList<>();
            for (Budget b : budgets) {
                String p = b.parent().orElse(null);
                if (p != null && !byId.containsKey(p)) {
                    errors.add(new ConfigError(paths.get(b.id()) + ".parent", "unknown budget '" + p + "'"
                            + " (budgets: " + String.join(", ", byId.keySet().stream().sorted().toList()) + ")"));
                    continue;
                }
                Set<String> seen = new HashSet<>();
                Budget cur = b;
                boolean cycle = false;
                while (cur != null && cur.parent().isPresent()) {
                    if (!seen.add(cur.id())) {
                        cycle = true;
                        break;
                    }
                    cur = byId.get(cur.parent().get());
                }
                if (cycle) {
                    errors.add(new ConfigError(paths.get(b.id()) + ".parent", "parents form a cycle through '"
                            + b.id() + "'"));
                    continue;
                }
                ok.add(b);
            }
            if (ok.size() != budgets.size()) {
                return new BudgetTree(List.of());
            }
            return new BudgetTree(ok);
        }

        private List<VirtualKey> keys(ConfigNode n, BudgetTree tree) {
            List<VirtualKey> out = new ArrayList<>();
            Map<String, String> names = new HashMap<>();
            Map<String, String> hashes = new HashMap<>();
            for (ConfigNode k : n.list()) {
                if (!k.expectObject(KEY)) {
                    continue;
                }
                String name = id(k.get("name"));
                String hash = k.get("sha256").requiredString();
                if (hash != null && !KeyHash.isHash(hash)) {
                    k.get("sha256").error("must be the SHA-256 of the key as 64 lower-case hex digits (bin/tokenbudget "
                            + "hash-key KEY prints it); keys are never stored in clear");
                    hash = null;
                }
                String budget = k.get("budget").requiredString();
                if (budget != null && !tree.contains(budget)) {
                    k.get("budget").error("unknown budget '" + budget + "'");
                    budget = null;
                }
                List<String> features = new ArrayList<>();
                for (ConfigNode f : k.get("features").list()) {
                    String fid = f.requiredString();
                    if (fid == null) {
                        continue;
                    }
                    if (!tree.contains(fid)) {
                        f.error("unknown budget '" + fid + "'");
                    } else if (budget != null && !tree.isWithin(fid, budget)) {
                        f.error("feature budget '" + fid + "' is not below the key's budget '" + budget
                                + "': a key may only charge its own tenant");
                    } else {
                        features.add(fid);
                    }
                }
                String def = k.get("default_feature").string(null);
                if (def != null && !features.contains(def)) {
                    k.get("default_feature").error("must be one of the key's features " + features + ", was '" + def
                            + "'");
                }
                Budget own = null;
                List<Threshold> ts = k.has("thresholds") ? thresholds(k.get("thresholds")) : defaultThresholds;
                if (k.has("windows") && name != null && budget != null) {
                    own = Budget.builder(VirtualKey.ownBudgetId(name)).parent(budget)
                            .windows(windows(k.get("windows"), true)).thresholds(ts).failMode(defaultFailMode).build();
                }
                Budget users = null;
                if (k.has("user_windows") && name != null && budget != null) {
                    users = Budget.builder(VirtualKey.userBudgetId(name, "*")).parent(budget)
                            .windows(windows(k.get("user_windows"), true)).thresholds(ts).failMode(defaultFailMode)
                            .build();
                }
                if (name != null && names.containsKey(name)) {
                    k.get("name").error("duplicate key name '" + name + "', first at " + names.get(name));
                    continue;
                }
                if (hash != null && hashes.containsKey(hash)) {
                    k.get("sha256").error("the same key hash as " + hashes.get(hash));
                    continue;
                }
                if (name == null || hash == null || budget == null) {
                    continue;
                }
                names.put(name, k.path());
                hashes.put(hash, k.path());
                out.add(new VirtualKey(name, hash, budget, features, def, own, users));
            }
            return out;
        }
    }
}
