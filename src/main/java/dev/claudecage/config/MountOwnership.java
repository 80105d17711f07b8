package dev.claudecage.config;

import dev.claudecage.UserInputException;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.host.StateLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Whose rights the cage's user has in a mounted host path, and so who owns, on the host, what the
 * cage writes there. Run as root, claude-cage shifts each mount (an idmapped mount) so that the
 * cage's uid and gid stand for one host user: the one {@code mount_owner} names, else the one who
 * ran {@code sudo}, else the path's owner. What the cage writes is theirs (a setuid file it leaves
 * is that user's, never root's), and it may change only what is theirs: in a shifted mount the
 * kernel refuses writes to any file whose uid or gid the shift does not map.
 * <p>
 * A guessed owner must be a person: ids from {@link #FIRST_PERSON_ID} up, nobody's excepted. Root
 * (uid or gid 0, however it came) and guessed system accounts are never written as: a writable
 * mount is refused, a read-only one is read as {@link #NOBODY}, which owns nothing, so the cage
 * reads what every user may. An owner the user names is taken, system accounts included; never
 * root, which the configuration refuses. Rootless cages are never shifted: their uid is the
 * invoking user's, who can write nothing of anyone else's.
 */
public final class MountOwnership {

    /**
     * The first id Debian, Ubuntu, Fedora and Arch give a person (login.defs' UID_MIN and GID_MIN),
     * fixed rather than read from the host so that the same mount gets the same answer everywhere.
     */
    public static final int FIRST_PERSON_ID = 1000;
    /** The overflow ids, nobody and nogroup, which own no files. */
    public static final int NOBODY = 65534;
    public static final HostIds NOBODY_IDS = new HostIds(NOBODY, NOBODY);

    static final String REMEDY = "mount it read-only (:ro), chown it to the person whose work it is, or name the host "
            + "user the cage works as in your mounts with --mount-owner UID[:GID] (mount_owner), never 0";

    private MountOwnership() {
    }

    /** Where the owner of a mount came from. */
    public enum Source {
        /** {@code mount_owner}: the user's word. */
        NAMED,
        /** SUDO_UID and SUDO_GID: the user who ran {@code sudo claude-cage}. */
        SUDO,
        /** The mounted path's owner, when neither of the others is known. */
        PATH_OWNER
    }

    /** The host user the cage would work as in a mount, and how that was found. */
    public record Owner(HostIds ids, Source source) {
        public Owner {
            Objects.requireNonNull(ids, "ids");
            Objects.requireNonNull(source, "source");
        }
    }

    public enum Outcome {
        /** The cage's own ids own the path: bound as it is. */
        AS_IT_IS,
        /** Shifted so that the cage's ids stand for {@link Decision#onto()}. */
        SHIFTED,
        /** Not mounted: {@link Decision#problem()} says why, {@link Decision#remedy()} what to do. */
        REFUSED
    }

    /** What becomes of one mount. */
    public record Decision(Outcome outcome, HostIds onto, String problem, String remedy) {

        static Decision asItIs() {
            return new Decision(Outcome.AS_IT_IS, null, null, null);
        }

        static Decision shifted(HostIds onto) {
            return new Decision(Outcome.SHIFTED, onto, null, null);
        }

        static Decision refused(String problem) {
            return new Decision(Outcome.REFUSED, null, problem, REMEDY);
        }

        /** The host ids that own what the cage writes through this mount; null when it is refused. */
        public HostIds writer(HostIds cage) {
            return switch (outcome) {
                case AS_IT_IS -> cage;
                case SHIFTED -> onto;
                case REFUSED -> null;
            };
        }
    }

    /** The owner: the named one, else the sudo user, else the path's owner. */
    public static Owner owner(HostIds named, Optional<HostIds> sudo, HostIds pathOwner) {
        if (named != null) {
            return new Owner(named, Source.NAMED);
        }
        return sudo.map(ids -> new Owner(ids, Source.SUDO)).orElseGet(() -> new Owner(pathOwner, Source.PATH_OWNER));
    }

    /**
     * What becomes of a mount whose owner is {@code owner}, for a cage whose user is {@code cage}.
     * A problem reads after the mount, as in "'/srv/site:/workspace' is writable and ...".
     */
    public static Decision decide(boolean readOnly, Owner owner, HostIds cage) {
        String unfit = unfit(owner);
        if (unfit != null) {
            if (!readOnly) {
                return Decision.refused("is writable, and " + unfit);
            }
            return cage.equals(NOBODY_IDS) ? Decision.asItIs() : Decision.shifted(NOBODY_IDS);
        }
        return owner.ids().equals(cage) ? Decision.asItIs() : Decision.shifted(owner.ids());
    }

    /** Why the cage may not write as this owner, or null when it may. */
    private static String unfit(Owner owner) {
        HostIds ids = owner.ids();
        String who = switch (owner.source()) {
            case NAMED -> "mount_owner names " + ids;
            case SUDO -> "sudo was run by " + ids + " (SUDO_UID:SUDO_GID)";
            case PATH_OWNER -> "it belongs to " + ids;
        };
        if (ids.uid() == 0 || ids.gid() == 0) {
            return who + (ids.uid() == 0 ? ", root" : ", root's group") + ": the cage would write in it as root, "
                    + "and what it wrote (a setuid program among it) would be root's on the host";
        }
        if (owner.source() != Source.NAMED && !(person(ids.uid()) && person(ids.gid()))) {
            return who + ", a system account or group (ids below " + FIRST_PERSON_ID + ", or nobody's " + NOBODY
                    + "): the cage writes as one only when mount_owner names it";
        }
        return null;
    }

    private static boolean person(int id) {
        return id >= FIRST_PERSON_ID && id != NOBODY;
    }

    /**
     * The owner a new checkout made for the cage gets, so that it is mounted as a user's checkout
     * would be: the named owner, else the sudo user where the cage may write as them, else the
     * cage's own ids.
     */
    public static HostIds checkoutOwner(HostIds named, Optional<HostIds> sudo, HostIds cage) {
        Owner guess = owner(named, sudo, cage);
        return decide(false, guess, cage).outcome() == Outcome.REFUSED ? cage : guess.ids();
    }

    /** The owner of an existing path; of a link itself, not of what it names. */
    public static HostIds pathOwner(Path path) throws IOException {
        return new HostIds((Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                (Integer) Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    /** The decision for one of {@code config}'s mounts on this host: its owner as it is now, sudo from this process. */
    public static Decision decide(CageConfig config, MountSpec mount) throws IOException {
        return decide(mount.readOnly(), owner(config.mountOwner(), InvokingUser.sudoIds(System.getenv()), pathOwner(mount.source())),
                new HostIds(config.uid(), config.gid()));
    }

    /**
     * The host user whose work one of {@code config}'s mounts holds, for the host to act as there
     * (git runs as them): as root, the one the cage writes as; rootless, the path's owner, who is
     * the invoking user where the cage can write.
     *
     * @throws UserInputException when the mount would be refused
     */
    public static HostIds workOwner(CageConfig config, MountSpec mount) throws IOException {
        if (StateLayout.current().rootless()) {
            return pathOwner(mount.source());
        }
        Decision decision = decide(config, mount);
        if (decision.outcome() == Outcome.REFUSED) {
            throw new UserInputException("mounts: '" + mount.format() + "' " + decision.problem(), decision.remedy());
        }
        return decision.writer(new HostIds(config.uid(), config.gid()));
    }
}
