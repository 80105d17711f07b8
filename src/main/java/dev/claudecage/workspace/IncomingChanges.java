package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.host.UntrustedText;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the copy's commits change, entry by entry, and what of it {@code apply} refuses to bring
 * into the original. Read from {@code git log --raw -z --no-renames -m --format=} over the range:
 * every commit against each of its parents, so a link that one commit adds and a later one removes
 * is seen too (it stays in the history the original receives), with names as git stores them, never
 * quoted, and each entry's new mode.
 *
 * <p>Refused: symbolic links that are added or changed (anywhere: a link can make any path of the
 * host's tools lead into a folder of the agent's choosing, and telling which targets are harmless is
 * more than a check should guess), submodule entries (a commit id the host's git would later fetch
 * and check out), names with control characters or that are not UTF-8, names git keeps for itself
 * ({@code .git}), and protected paths, the folders below them and the folders above them. Names are
 * compared as a case-insensitive, NTFS or HFS+ file system would take them (see {@link #fold}),
 * so {@code .ENVRC} or {@code .envrc.} count as {@code .envrc}.
 */
final class IncomingChanges {

    static final String SYMLINK = "120000";
    static final String GITLINK = "160000";

    /** The head of one raw entry: ":OLDMODE NEWMODE OLDID NEWID STATUS"; without renames, one path follows. */
    private static final Pattern RAW_HEAD = Pattern.compile(":[0-7]{6} ([0-7]{6}) [0-9a-f]+ [0-9a-f]+ [AMDT]");

    /** Code points HFS+ ignores in names (git's is_hfs_dotgit skips the same ones). */
    private static final String HFS_IGNORED = "[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]";

    private IncomingChanges() {
    }

    /**
     * One entry of one commit's diff against a parent.
     *
     * @param newMode the mode the path has after the commit, "000000" when it deletes the path
     */
    record Change(String newMode, String path) {
    }

    /** A path {@code apply} does not bring over, and why. */
    record Refusal(String path, String reason) {

        /** The line a user reads: the path escaped, as it comes from the cage. */
        String line() {
            return UntrustedText.escape(path) + ": " + reason;
        }
    }

    /** The entries of {@code git log --raw -z --no-renames -m --format=} (NUL-separated heads and paths). */
    static List<Change> parse(String raw) {
        List<Change> changes = new ArrayList<>();
        String[] fields = raw.split("\0", -1);
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].isEmpty()) {
                continue;
            }
            Matcher head = RAW_HEAD.matcher(fields[i]);
            if (!head.matches() || i + 1 >= fields.length) {
                throw new CageException("cannot read git's list of the copy's changes at '"
                        + UntrustedText.escape(fields[i]) + "'");
            }
            changes.add(new Change(head.group(1), fields[++i]));
        }
        return changes;
    }

    /** What {@code apply} refuses of {@code changes}, one refusal per path, in the order git listed them. */
    static List<Refusal> refusals(List<Change> changes, List<ProtectedPath> protectedPaths) {
        Map<String, String> refused = new LinkedHashMap<>();
        for (Change change : changes) {
            String reason = reason(change, protectedPaths);
            if (reason != null) {
                refused.putIfAbsent(change.path(), reason);
            }
        }
        return refused.entrySet().stream().map(entry -> new Refusal(entry.getKey(), entry.getValue())).toList();
    }

    private static String reason(Change change, List<ProtectedPath> protectedPaths) {
        String path = change.path();
        if (path.codePoints().anyMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f))) {
            return "a name with control characters (shown escaped)";
        }
        if (path.indexOf('\ufffd') >= 0) {
            return "a name that is not UTF-8 (or holds U+FFFD), which this check cannot read for certain";
        }
        List<String> names = List.of(path.split("/", -1));
        if (names.stream().anyMatch(name -> name.isEmpty() || name.equals(".") || name.equals(".."))) {
            return "not a normal path (an empty, '.' or '..' name)";
        }
        List<String> folded = names.stream().map(IncomingChanges::fold).toList();
        if (folded.contains(".git")) {
            return "inside a folder git keeps for itself (.git)";
        }
        if (change.newMode().equals(SYMLINK)) {
            return "a symbolic link (apply brings over no links)";
        }
        if (change.newMode().equals(GITLINK)) {
            return "a submodule entry (apply brings over no submodules)";
        }
        for (ProtectedPath protectedPath : protectedPaths) {
            List<String> target = protectedPath.names().stream().map(IncomingChanges::fold).toList();
            if (startsWith(folded, target)) {
                return "protected (" + protectedPath.format() + " in protected_paths)";
            }
            if (startsWith(target, folded)) {
                return "in the place of a folder that holds " + protectedPath.format() + " (protected_paths)";
            }
        }
        return null;
    }

    private static boolean startsWith(List<String> names, List<String> prefix) {
        return names.size() >= prefix.size() && names.subList(0, prefix.size()).equals(prefix);
    }

    /**
     * A name as the file systems a repository may live on would take it: composed (NFC, as HFS+
     * and APFS compare), without the code points HFS+ ignores, lower case, and without the
     * trailing dots and spaces NTFS drops. Two names that fold alike may be one file somewhere.
     */
    static String fold(String name) {
        String folded = Normalizer.normalize(name, Normalizer.Form.NFC).replaceAll(HFS_IGNORED, "").toLowerCase(Locale.ROOT);
        int end = folded.length();
        while (end > 0 && (folded.charAt(end - 1) == '.' || folded.charAt(end - 1) == ' ')) {
            end--;
        }
        return folded.substring(0, end);
    }
}
