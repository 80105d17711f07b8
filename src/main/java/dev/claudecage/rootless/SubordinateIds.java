package dev.claudecage.rootless;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A user's subordinate uid or gid ranges from {@code /etc/subuid} or {@code /etc/subgid}: the
 * host ids newuidmap and newgidmap let that user map into a user namespace. Lines name the user
 * by login name or by number ({@code name:start:count}), as shadow's tools accept both.
 */
public final class SubordinateIds {

    public static final Path SUBUID = Path.of("/etc/subuid");
    public static final Path SUBGID = Path.of("/etc/subgid");

    private SubordinateIds() {
    }

    public static List<IdRange> read(Path file, String userName, long id) {
        try {
            return parse(Files.readString(file), userName, id);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The ranges of the user named {@code userName} or numbered {@code id}; malformed lines are not the user's. */
    public static List<IdRange> parse(String content, String userName, long id) {
        return content.lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .map(line -> line.split(":"))
                .filter(fields -> fields.length == 3 && (fields[0].equals(userName) || fields[0].equals(Long.toString(id))))
                .filter(fields -> fields[1].matches("[0-9]{1,10}") && fields[2].matches("[0-9]{1,10}")
                        && Long.parseLong(fields[2]) > 0)
                .map(fields -> new IdRange(Long.parseLong(fields[1]), Long.parseLong(fields[2])))
                .toList();
    }
}
