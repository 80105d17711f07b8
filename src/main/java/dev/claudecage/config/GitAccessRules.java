package dev.claudecage.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What the git gateway lets the cage do with the repositories of the hosts in {@code git_credentials}:
 * which repositories it may fetch and push, which refs a push may update, and where it may also rewrite
 * or delete. Globs: {@code *} matches any run of characters, {@code /} included, as in git's own refspecs;
 * every other character matches itself, case included (a host that ignores case can only be reached more
 * narrowly than written, never more widely).
 *
 * @param fetchRepositories {@code OWNER/NAME} globs of the repositories a fetch or clone may read
 * @param pushRepositories  {@code OWNER/NAME} globs of the repositories a push may write
 * @param pushRefs          {@code refs/...} globs of the refs a push may create or move forward
 * @param forceRefs         {@code refs/...} globs of the refs (among {@code pushRefs}) a push may also move
 *                          to any commit or delete
 */
public record GitAccessRules(List<String> fetchRepositories, List<String> pushRepositories, List<String> pushRefs,
                             List<String> forceRefs) {

    /** The agent's own branches, by the naming Claude Code uses. */
    public static final String DEFAULT_PUSH_REFS = "refs/heads/claude/*";

    public GitAccessRules {
        fetchRepositories = List.copyOf(fetchRepositories);
        pushRepositories = List.copyOf(pushRepositories);
        pushRefs = List.copyOf(pushRefs);
        forceRefs = List.copyOf(forceRefs);
    }

    /** Any repository fetched and pushed, pushes only to {@value #DEFAULT_PUSH_REFS}, never forced: the built-in default. */
    public static GitAccessRules defaults() {
        return new GitAccessRules(List.of("*"), List.of("*"), List.of(DEFAULT_PUSH_REFS), List.of());
    }

    public boolean mayFetch(String repository) {
        return matchesAny(fetchRepositories, repository);
    }

    public boolean mayPush(String repository) {
        return matchesAny(pushRepositories, repository);
    }

    public boolean mayUpdate(String ref) {
        return matchesAny(pushRefs, ref);
    }

    public boolean mayForce(String ref) {
        return matchesAny(pushRefs, ref) && matchesAny(forceRefs, ref);
    }

    /** Whether {@code text} matches one of the globs. */
    static boolean matchesAny(List<String> globs, String text) {
        return globs.stream().anyMatch(glob -> matches(glob, text));
    }

    /** Whether {@code text} matches {@code glob}, where {@code *} is any run of characters. */
    public static boolean matches(String glob, String text) {
        StringBuilder regex = new StringBuilder();
        for (String literal : glob.split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(literal));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(text).matches();
    }
}
