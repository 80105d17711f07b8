package dev.claudecage.image.dockerfile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One {@code RUN --mount=type=...,key=value,...}, read the way BuildKit reads it: the options
 * are comma-separated, {@code type} defaults to {@code bind}, and each option has its aliases
 * ({@code src}/{@code source}, {@code dst}/{@code destination}/{@code target}, {@code ro}/{@code readonly},
 * {@code rw}/{@code readwrite}). Values stay as written until {@link #expand} substitutes the
 * stage's variables into them, as BuildKit does; numbers are read by the builder after that.
 *
 * @param readOnly  bind mounts are read-only unless {@code rw}; cache and tmpfs are writable unless {@code ro}
 * @param id        cache: the cache's name (default: the target); secret: the secret's id
 * @param sharing   cache: shared, private or locked (builds here run one at a time, so all three behave alike)
 * @param mode      cache and secret: octal permission bits; null for the default
 * @param required  secret: whether a build without the secret fails (default: the mount is left out)
 * @param env       secret: an environment variable to hold the secret instead of (or as well as) a file
 */
public record RunMount(Type type, String target, String source, String from, boolean readOnly, String id,
                       String sharing, String mode, String uid, String gid, String size, boolean required, String env) {

    /** The mount types of RUN --mount; ssh is recognised only to be refused with its reason. */
    public enum Type {
        BIND, CACHE, TMPFS, SECRET, SSH;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Map<Type, Set<String>> KEYS = Map.of(
            Type.BIND, Set.of("target", "source", "from", "readonly", "readwrite"),
            Type.CACHE, Set.of("target", "source", "from", "readonly", "readwrite", "id", "sharing", "mode", "uid", "gid"),
            Type.TMPFS, Set.of("target", "size", "readonly", "readwrite"),
            Type.SECRET, Set.of("target", "id", "required", "mode", "uid", "gid", "env"),
            Type.SSH, Set.of());
    private static final Map<String, String> ALIASES = Map.of("src", "source", "dst", "target", "destination", "target",
            "ro", "readonly", "rw", "readwrite");
    private static final Set<String> BOOLEANS = Set.of("readonly", "readwrite", "required");
    private static final List<String> SHARING = List.of("shared", "private", "locked");

    public RunMount {
        Objects.requireNonNull(type, "type");
    }

    /**
     * Reads one {@code --mount} value; throws {@link IllegalArgumentException} with the problem.
     * Targets are required except for secrets (whose target defaults to /run/secrets/ID).
     */
    public static RunMount parse(String value) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String field : value.split(",")) {
            if (field.isEmpty()) {
                continue;
            }
            int equals = field.indexOf('=');
            String key = (equals < 0 ? field : field.substring(0, equals)).toLowerCase(Locale.ROOT);
            key = ALIASES.getOrDefault(key, key);
            String optionValue = equals < 0 ? null : field.substring(equals + 1);
            if (options.containsKey(key)) {
                throw new IllegalArgumentException("--mount names '" + key + "' twice");
            }
            options.put(key, optionValue);
        }
        String typeWord = options.containsKey("type") ? options.remove("type") : "bind";
        Type type = switch (typeWord == null ? "" : typeWord.toLowerCase(Locale.ROOT)) {
            case "bind" -> Type.BIND;
            case "cache" -> Type.CACHE;
            case "tmpfs" -> Type.TMPFS;
            case "secret" -> Type.SECRET;
            case "ssh" -> Type.SSH;
            default -> throw new IllegalArgumentException("--mount type '" + typeWord + "' is unknown; the types are bind, "
                    + "cache, tmpfs, secret and ssh");
        };
        if (type == Type.SSH) {
            throw new IllegalArgumentException("--mount=type=ssh is not supported: builds forward no SSH agent; fetch "
                    + "private sources before the build and COPY them in, or use a --mount=type=secret with a deploy key");
        }
        for (var entry : options.entrySet()) {
            if (!KEYS.get(type).contains(entry.getKey())) {
                throw new IllegalArgumentException("--mount=type=" + type.word() + " takes no '" + entry.getKey()
                        + "'; it takes " + String.join(", ", KEYS.get(type).stream().sorted().toList()));
            }
            if (entry.getValue() == null && !BOOLEANS.contains(entry.getKey())) {
                throw new IllegalArgumentException("--mount option '" + entry.getKey() + "' needs a value, as in "
                        + entry.getKey() + "=VALUE");
            }
        }
        boolean readOnly = type == Type.BIND || type == Type.SECRET;
        if (options.containsKey("readonly")) {
            readOnly = bool(options, "readonly");
        }
        if (options.containsKey("readwrite")) {
            readOnly = !bool(options, "readwrite");
        }
        String target = options.get("target");
        String id = options.get("id");
        if (type == Type.SECRET) {
            if (id == null && target == null) {
                throw new IllegalArgumentException("--mount=type=secret needs an id (and takes a target, by default "
                        + "/run/secrets/ID)");
            }
            if (id == null) {
                id = target.substring(target.lastIndexOf('/') + 1);
            }
            if (target == null && options.get("env") == null) {
                target = "/run/secrets/" + id;
            }
        } else if (target == null || target.isEmpty()) {
            throw new IllegalArgumentException("--mount=type=" + type.word() + " needs a target, as in target=/path");
        }
        String sharing = options.get("sharing");
        if (sharing != null && !SHARING.contains(sharing)) {
            throw new IllegalArgumentException("--mount sharing='" + sharing + "' is none of " + SHARING);
        }
        return new RunMount(type, target, options.get("source"), options.get("from"), readOnly, id, sharing,
                options.get("mode"), options.get("uid"), options.get("gid"), options.get("size"),
                options.containsKey("required") && bool(options, "required"), options.get("env"));
    }

    private static boolean bool(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null || value.equalsIgnoreCase("true")) {
            return true;
        }
        if (value.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("--mount option '" + key + "' is true or false, not '" + value + "'");
    }

    /** The same mount with the stage's variables substituted into every value. */
    public RunMount expand(UnaryOperator<String> expander) {
        return new RunMount(type, orNull(target, expander), orNull(source, expander), orNull(from, expander), readOnly,
                orNull(id, expander), sharing, orNull(mode, expander), orNull(uid, expander), orNull(gid, expander),
                orNull(size, expander), required, orNull(env, expander));
    }

    private static String orNull(String value, UnaryOperator<String> expander) {
        return value == null ? null : expander.apply(value);
    }
}
