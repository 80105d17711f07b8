package dev.claudecage.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A path inside every writable workspace mount that the host runs or trusts later (git hooks and
 * config, editor tasks, direnv, Claude's own settings): the cage may neither write it nor create
 * it. Written relative to the mount's root; a trailing '/' says it is a directory (for the
 * reader: a missing path's place is held by an empty directory either way).
 * The messages of the IllegalArgumentExceptions follow the path text, as in "'../x' leaves the workspace".
 *
 * @param relative  the normalized path without a trailing '/', e.g. ".git/hooks"
 * @param directory whether it was written with a trailing '/'
 */
public record ProtectedPath(String relative, boolean directory) {

    /** The list: files and folders that git, editors, direnv and Claude Code run or obey on the host. */
    public static final List<String> DEFAULTS = List.of(".git/hooks/", ".git/config", ".gitmodules", ".vscode/",
            ".idea/", ".devcontainer/", ".claude/settings.json", ".claude/settings.local.json", ".claude/commands/",
            ".mcp.json", ".envrc");

    /**
     * Files in .git that point git at other configuration: where {@code .git/config} is protected,
     * so are they. {@code commondir} makes git take config and hooks from the folder it names; a
     * {@code config.worktree} is read where the (protected) config enables it.
     */
    public static final List<String> IMPLIED_BY_GIT_CONFIG = List.of(".git/commondir", ".git/config.worktree");

    public ProtectedPath {
        String problem = problem(relative);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** {@code paths} with those {@link #IMPLIED_BY_GIT_CONFIG} added where {@code .git/config} is among them. */
    public static List<ProtectedPath> withImplied(List<ProtectedPath> paths) {
        if (paths.stream().noneMatch(path -> path.relative().equals(".git/config"))) {
            return paths;
        }
        List<ProtectedPath> all = new java.util.ArrayList<>(paths);
        IMPLIED_BY_GIT_CONFIG.stream().filter(implied -> paths.stream().noneMatch(path -> path.relative().equals(implied)))
                .map(ProtectedPath::parse).forEach(all::add);
        return all;
    }

    /** Parses a path as written in {@code protected_paths}. */
    public static ProtectedPath parse(String text) {
        boolean directory = text.endsWith("/");
        return new ProtectedPath(directory ? text.substring(0, text.length() - 1) : text, directory);
    }

    /** The form {@link #parse} reads. */
    public String format() {
        return directory ? relative + "/" : relative;
    }

    /** The path's names, outermost first: ".git/hooks" is [".git", "hooks"]. */
    public List<String> names() {
        return List.of(relative.split("/"));
    }

    private static String problem(String relative) {
        if (relative.isEmpty()) {
            return "is empty; name a file or folder inside the workspace";
        }
        if (relative.startsWith("/")) {
            return "is absolute; write it relative to the workspace, e.g. .git/config";
        }
        if (relative.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return "contains a control character";
        }
        for (String name : relative.split("/", -1)) {
            if (name.equals("..")) {
                return "leaves the workspace with '..'";
            }
            if (name.isEmpty() || name.equals(".")) {
                return "is not normalized (no '.', empty names or '//'); write " + Path.of(relative).normalize();
            }
        }
        return null;
    }
}
