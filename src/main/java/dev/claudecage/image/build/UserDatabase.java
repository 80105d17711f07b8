package dev.claudecage.image.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The image's own /etc/passwd and /etc/group, read through its root: USER and --chown name
 * users and groups of the image, not of the host.
 */
final class UserDatabase {

    private static final Pattern NUMBER = Pattern.compile("[0-9]+");

    /** A process identity: uid, primary gid, supplementary gids, and the home directory ("/" when unknown). */
    record Identity(int uid, int gid, List<Integer> additionalGids, String home) {
        static final Identity ROOT = new Identity(0, 0, List.of(), "/root");

        Identity {
            additionalGids = List.copyOf(additionalGids);
        }
    }

    private record Entry(String name, int id, int gid, List<String> members, String home) {
    }

    private final List<Entry> users;
    private final List<Entry> groups;

    private UserDatabase(List<Entry> users, List<Entry> groups) {
        this.users = users;
        this.groups = groups;
    }

    static UserDatabase of(Path root) throws IOException {
        return new UserDatabase(read(root, "/etc/passwd", true), read(root, "/etc/group", false));
    }

    private static List<Entry> read(Path root, String path, boolean passwd) throws IOException {
        Path file = RootedPath.resolve(root, path, true);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<Entry> entries = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] fields = line.split(":", -1);
            if (fields.length < 4 || !NUMBER.matcher(fields[2]).matches()) {
                continue;
            }
            if (passwd && NUMBER.matcher(fields[3]).matches()) {
                entries.add(new Entry(fields[0], Integer.parseInt(fields[2]), Integer.parseInt(fields[3]), List.of(),
                        fields.length > 5 ? fields[5] : "/"));
            } else if (!passwd) {
                List<String> members = fields[3].isEmpty() ? List.of() : List.of(fields[3].split(","));
                entries.add(new Entry(fields[0], Integer.parseInt(fields[2]), -1, members, "/"));
            }
        }
        return entries;
    }

    /**
     * Who a RUN runs as for {@code USER user[:group]}: a name must exist in the image; a number
     * need not, and then gets gid 0, as in Docker. Supplementary groups come from /etc/group.
     * No USER (null or empty) is root, even in an image without /etc/passwd.
     */
    Identity forProcess(String spec) {
        if (spec == null || spec.isEmpty()) {
            return Identity.ROOT;
        }
        String[] parts = spec.split(":", 2);
        Optional<Entry> user = user(parts[0]);
        int uid = user.map(Entry::id).orElseGet(() -> number(parts[0], "user"));
        int gid = parts.length == 2 ? group(parts[1]) : user.map(Entry::gid).orElse(0);
        List<Integer> additional = parts.length == 2 || user.isEmpty() ? List.of() : groups.stream()
                .filter(group -> group.members().contains(user.get().name()) && group.id() != gid)
                .map(Entry::id).toList();
        return new Identity(uid, gid, additional, user.map(Entry::home).orElse("/"));
    }

    /**
     * Owner for {@code --chown=user[:group]}; without a group the gid is the uid's number,
     * as Docker documents.
     */
    Identity forChown(String spec) {
        String[] parts = spec.split(":", 2);
        int uid = user(parts[0]).map(Entry::id).orElseGet(() -> number(parts[0], "user"));
        int gid = parts.length == 2 ? group(parts[1]) : uid;
        return new Identity(uid, gid, List.of(), "/");
    }

    private Optional<Entry> user(String name) {
        return users.stream().filter(entry -> entry.name().equals(name)).findFirst();
    }

    private int group(String name) {
        return groups.stream().filter(entry -> entry.name().equals(name)).map(Entry::id).findFirst()
                .orElseGet(() -> number(name, "group"));
    }

    private static int number(String value, String what) {
        if (!NUMBER.matcher(value).matches()) {
            throw new IllegalArgumentException("the image has no " + what + " named '" + value + "' (in /etc/"
                    + (what.equals("user") ? "passwd" : "group") + ")");
        }
        return Integer.parseInt(value);
    }
}
