package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.config.Sizes;
import dev.claudecage.host.Directories;
import dev.claudecage.image.dockerfile.DockerIgnore;
import dev.claudecage.image.dockerfile.RunMount;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.oci.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host side of one RUN's {@code --mount}s: what each mount shows and where it comes from.
 * <ul>
 *   <li>bind: a copy of the context's files (what .dockerignore leaves), or a path in an earlier
 *       stage or an image, read-only unless {@code rw} (then a copy, whose changes are thrown away);</li>
 *   <li>cache: a directory of the store that stays between builds (see
 *       {@link ImageStore#cacheMountDirectory});</li>
 *   <li>tmpfs: a tmpfs;</li>
 *   <li>secret: the secret given to {@code build --secret}, in a private file made for the step and
 *       bound read-only, or in an environment variable; never in a layer or a cache key.</li>
 * </ul>
 * None of it becomes part of the layer: the runtime makes a mount point where the image has
 * none, and {@link #removeMountPoints} takes away those it made (empty, as they were made)
 * before the layer is taken, as BuildKit does.
 */
final class RunMounts implements SignalSafe.Resource {

    private static final int CACHE_MODE = 0755;
    private static final int SECRET_MODE = 0400;
    private static final int INLINE_SCRIPT_MODE = 0755;

    /** What the mounts need: the store, the context, other stages' roots, and the build's secrets. */
    interface Sources {
        ImageStore store();

        SourceTree context();

        /** The image an {@code from=} names: an earlier stage or a stored image. */
        ImageConfig image(String reference);

        SourceRoot newSourceRoot();

        /** The secret of this id, or null when the build was given none. */
        byte[] secret(String id);
    }

    private final Sources sources;
    private final List<Spec.Mount> mounts = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final List<Path> workDirectories = new ArrayList<>();
    private final List<SourceRoot> sourceRoots = new ArrayList<>();
    private final List<String> mountPointsToRemove = new ArrayList<>();
    private boolean closed;

    RunMounts(Sources sources) {
        this.sources = sources;
    }

    /** The runtime mounts, in the order given. */
    List<Spec.Mount> mounts() {
        return List.copyOf(mounts);
    }

    /** Secrets given as environment variables ({@code env=NAME}). */
    Map<String, String> environment() {
        return Map.copyOf(environment);
    }

    /**
     * Prepares every mount (expanded already) over the step's mounted {@code root}; throws
     * {@link IllegalArgumentException} with the problem for one that cannot be made.
     */
    synchronized void prepare(Path root, List<RunMount> runMounts, String workdir) throws IOException {
        if (closed) {
            throw new CageException("the build was stopped");
        }
        for (RunMount mount : runMounts) {
            String target = mount.target() == null ? null : absolute(mount.target(), workdir);
            switch (mount.type()) {
                case BIND -> bind(target, mount);
                case CACHE -> cache(target, mount);
                case TMPFS -> mounts.add(new Spec.Mount(target, "tmpfs", "tmpfs", tmpfsOptions(mount)));
                case SECRET -> secret(target, mount);
                case SSH -> throw new IllegalArgumentException("--mount=type=ssh is not supported");
            }
            if (target != null) {
                noteMissing(root, target);
            }
        }
    }

    private void bind(String target, RunMount mount) throws IOException {
        String source = mount.source() == null ? "/" : mount.source();
        Path host;
        if (mount.from() == null) {
            host = stagedCopy(sources.context(), source);
        } else {
            SourceRoot root = sources.newSourceRoot();
            sourceRoots.add(root);
            root.open(sources.image(mount.from()));
            SourceTree tree = SourceTree.imageRoot(root.path(), "'" + mount.from() + "'");
            host = mount.readOnly() ? RootedPath.resolve(root.path(), source, true) : stagedCopy(tree, source);
            if (!Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException("the bind mount's source '" + source + "' is not in '" + mount.from() + "'");
            }
        }
        mounts.add(new Spec.Mount(target, "bind", host.toString(),
                List.of("rbind", "rprivate", "nosuid", "nodev", mount.readOnly() ? "ro" : "rw")));
    }

    /** A copy of {@code source} in {@code tree}, in a work directory of the step's own: the mount may write it. */
    private Path stagedCopy(SourceTree tree, String source) throws IOException {
        List<String> entries = tree.match(List.of(source));
        Path work = sources.store().createWorkDirectory("run-mount");
        workDirectories.add(work);
        Path staged = Files.createDirectory(work.resolve("source"));
        Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("rwxr-xr-x"));
        FileCopy.copy(staged, tree, entries, "/", UserDatabase.Identity.ROOT, null, DockerIgnore.none());
        String only = entries.get(0);
        return Files.isDirectory(tree.hostPath(only), LinkOption.NOFOLLOW_LINKS)
                ? staged : staged.resolve(Path.of(only).getFileName().toString());
    }

    private void cache(String target, RunMount mount) {
        if (mount.from() != null || mount.source() != null) {
            throw new IllegalArgumentException("a cache mount with from= or source= is not supported; the cache starts empty");
        }
        String id = mount.id() != null ? mount.id() : target;
        Path directory = sources.store().cacheMountDirectory(id, number(mount.uid(), "uid", 0), number(mount.gid(), "gid", 0),
                mode(mount.mode(), CACHE_MODE));
        mounts.add(new Spec.Mount(target, "bind", directory.toString(),
                List.of("rbind", "rprivate", "nosuid", "nodev", mount.readOnly() ? "ro" : "rw")));
    }

    private static List<String> tmpfsOptions(RunMount mount) {
        List<String> options = new ArrayList<>(List.of("nosuid", "nodev", "mode=1777"));
        if (mount.size() != null) {
            long bytes = Sizes.parse(mount.size()).orElseThrow(() -> new IllegalArgumentException(
                    "--mount size='" + mount.size() + "' is not a size like 64m or 1g"));
            options.add("size=" + bytes);
        }
        return options;
    }

    private void secret(String target, RunMount mount) throws IOException {
        byte[] value = sources.secret(mount.id());
        if (value == null) {
            if (mount.required()) {
                throw new IllegalArgumentException("the secret '" + mount.id() + "' is required, and the build was given "
                        + "none; pass it with claude-cage build --secret id=" + mount.id() + ",src=FILE");
            }
            return;
        }
        if (mount.env() != null) {
            environment.put(mount.env(), new String(value, StandardCharsets.UTF_8));
        }
        if (target == null) {
            return;
        }
        Path work = sources.store().createWorkDirectory("run-secret");
        workDirectories.add(work);
        Path file = work.resolve("secret");
        Files.write(file, value);
        Files.setAttribute(file, "unix:uid", number(mount.uid(), "uid", 0), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(file, "unix:gid", number(mount.gid(), "gid", 0), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(file, "unix:mode", mode(mount.mode(), SECRET_MODE), LinkOption.NOFOLLOW_LINKS);
        mounts.add(new Spec.Mount(target, "bind", file.toString(),
                List.of("bind", "rprivate", "nosuid", "nodev", "noexec", "ro")));
    }

    /**
     * A file the step reads and runs, made for it alone and bound read-only at {@code target}
     * (a RUN here-document that starts with #!, at /dev/pipes/NAME as in BuildKit).
     */
    synchronized void inlineFile(String target, String content) throws IOException {
        Path work = sources.store().createWorkDirectory("run-inline");
        workDirectories.add(work);
        Path file = work.resolve("file");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setAttribute(file, "unix:mode", INLINE_SCRIPT_MODE, LinkOption.NOFOLLOW_LINKS);
        mounts.add(new Spec.Mount(target, "bind", file.toString(), List.of("bind", "rprivate", "nosuid", "nodev", "ro")));
    }

    /** Notes the components of {@code target} the image lacks: the runtime will make them as mount points. */
    private void noteMissing(Path root, String target) throws IOException {
        StringBuilder path = new StringBuilder();
        for (String component : target.split("/")) {
            if (component.isEmpty()) {
                continue;
            }
            path.append('/').append(component);
            if (!Files.exists(RootedPath.resolve(root, path.toString(), false), LinkOption.NOFOLLOW_LINKS)) {
                mountPointsToRemove.add(path.toString());
            }
        }
    }

    /**
     * After the step: removes the mount points the runtime made where the image had nothing,
     * deepest first, each only while it is still an empty directory or an empty file (a RUN that
     * put something there keeps it, as in BuildKit).
     */
    void removeMountPoints(Path root) throws IOException {
        List<String> paths = new ArrayList<>(mountPointsToRemove);
        paths.sort(Comparator.comparingInt(String::length).reversed());
        for (String path : paths) {
            Path host = RootedPath.resolve(root, path, false);
            if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                try (var entries = Files.list(host)) {
                    if (entries.findAny().isPresent()) {
                        continue;
                    }
                }
                Files.delete(host);
            } else if (Files.isRegularFile(host, LinkOption.NOFOLLOW_LINKS) && Files.size(host) == 0) {
                Files.delete(host);
            }
        }
    }

    private static String absolute(String target, String workdir) {
        String base = workdir == null || workdir.isEmpty() ? "/" : workdir;
        return Path.of(base).resolve(target).normalize().toString();
    }

    static int number(String value, String what, int otherwise) {
        if (value == null) {
            return otherwise;
        }
        if (!value.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("--mount " + what + "='" + value + "' is not a number");
        }
        return Integer.parseInt(value);
    }

    static int mode(String value, int otherwise) {
        if (value == null) {
            return otherwise;
        }
        if (!value.matches("0?[0-7]{3,4}")) {
            throw new IllegalArgumentException("--mount mode='" + value + "' is not an octal mode like 0755");
        }
        return Integer.parseInt(value, 8);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> failures = new ArrayList<>();
        for (SourceRoot root : sourceRoots) {
            try {
                root.close();
            } catch (RuntimeException e) {
                failures.add(e.getMessage());
            }
        }
        for (Path work : workDirectories) {
            try {
                Directories.deleteRecursively(work);
            } catch (IOException e) {
                failures.add("cannot remove " + work + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new CageException(String.join("; ", failures));
        }
    }
}
