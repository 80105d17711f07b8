package dev.claudecage.workspace;

import dev.claudecage.host.UntrustedDirectory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a project folder needs from the network, from the files at its top: package.json means npm, go.mod
 * the Go proxy, a git remote on github.com GitHub, and so on. The folder is a workspace an agent may have
 * written, so it is read without following a link ({@link UntrustedDirectory}), only .git/config is read
 * at all (and at most {@link #GIT_CONFIG_LIMIT} bytes of it), and a remote's host is taken only when it is
 * a plain host name: what comes back is safe to print.
 */
public final class ProjectDetector {

    /** One reason to allow something: the file that shows it, and the allowed_hosts entries it asks for. */
    public record Finding(String evidence, List<String> entries) {
        public Finding {
            entries = List.copyOf(entries);
        }
    }

    static final int GIT_CONFIG_LIMIT = 256 * 1024;
    private static final String GITHUB = "github.com";
    private static final int SSH_PORT = 22;

    /** Files whose presence names an ecosystem, in the order findings are listed. */
    private static final Map<String, List<String>> MARKERS = new LinkedHashMap<>();

    static {
        MARKERS.put("package.json", List.of("preset:npm"));
        MARKERS.put("pyproject.toml", List.of("preset:pypi"));
        MARKERS.put("requirements.txt", List.of("preset:pypi"));
        MARKERS.put("setup.py", List.of("preset:pypi"));
        MARKERS.put("Pipfile", List.of("preset:pypi"));
        MARKERS.put("go.mod", List.of("preset:go"));
        MARKERS.put("Cargo.toml", List.of("preset:cargo"));
        MARKERS.put("pom.xml", List.of("preset:maven"));
        MARKERS.put("build.gradle", List.of("preset:maven", "preset:gradle"));
        MARKERS.put("build.gradle.kts", List.of("preset:maven", "preset:gradle"));
        MARKERS.put("settings.gradle", List.of("preset:maven", "preset:gradle"));
        MARKERS.put("settings.gradle.kts", List.of("preset:maven", "preset:gradle"));
    }

    private static final Pattern SECTION = Pattern.compile("^\\s*\\[\\s*([A-Za-z0-9.-]+)(?:\\s+\"([^\"]*)\")?\\s*\\]");
    private static final Pattern URL = Pattern.compile("^\\s*(?:url|pushurl)\\s*=\\s*(\\S+)\\s*$", Pattern.CASE_INSENSITIVE);
    /** scheme://[user@]host[:port]/... */
    private static final Pattern URL_FORM = Pattern.compile("^([a-z][a-z0-9+.-]*)://(?:[^@/]*@)?([^/:?#]+)(?::(\\d+))?(?:[/?#].*)?$");
    /** git's scp-like form: [user@]host:path, where the host holds no slash. */
    private static final Pattern SCP_FORM = Pattern.compile("^(?:[^@/:]+@)?([^/:]+):(?!//).*$");
    private static final Pattern HOST_NAME = Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}");

    private ProjectDetector() {
    }

    /** The findings for the folder {@code project}, one per marker file or remote host. */
    public static List<Finding> detect(UntrustedDirectory project) throws IOException {
        List<Finding> findings = new ArrayList<>();
        for (Map.Entry<String, List<String>> marker : MARKERS.entrySet()) {
            if (project.stat(marker.getKey()).isPresent()) {
                findings.add(new Finding(marker.getKey(), marker.getValue()));
            }
        }
        // A .git that is a file (a worktree's) or a link leads elsewhere: not followed.
        if (isA(project.stat(".git"), UntrustedDirectory.Entry.Kind.DIRECTORY)
                && isA(project.stat(".git/config"), UntrustedDirectory.Entry.Kind.FILE)) {
            String config = new String(project.readFile(".git/config", GIT_CONFIG_LIMIT), StandardCharsets.UTF_8);
            for (Remote remote : remotes(config)) {
                findings.add(new Finding(".git remote " + remote.host(), entriesFor(remote)));
            }
        }
        return findings;
    }

    private static boolean isA(Optional<UntrustedDirectory.Entry> entry, UntrustedDirectory.Entry.Kind kind) {
        return entry.isPresent() && entry.get().kind() == kind;
    }

    /** A remote's host, and whether it is reached over ssh. */
    record Remote(String host, boolean ssh, int port) {
    }

    /** The hosts that .git/config's remotes name, once each, in order; a url that names no plain host is left out. */
    static List<Remote> remotes(String gitConfig) {
        Set<Remote> remotes = new LinkedHashSet<>();
        boolean inRemote = false;
        for (String line : gitConfig.split("\\R")) {
            Matcher section = SECTION.matcher(line);
            if (section.find()) {
                inRemote = section.group(1).equalsIgnoreCase("remote");
                continue;
            }
            Matcher url = URL.matcher(line);
            if (inRemote && url.matches()) {
                remote(url.group(1)).ifPresent(remotes::add);
            }
        }
        return List.copyOf(remotes);
    }

    static Optional<Remote> remote(String url) {
        String text = url.strip();
        if (text.length() >= 2 && text.startsWith("\"") && text.endsWith("\"")) {
            text = text.substring(1, text.length() - 1);
        }
        Matcher full = URL_FORM.matcher(text);
        Matcher scp = SCP_FORM.matcher(text);
        String host;
        boolean ssh;
        int port;
        if (full.matches()) {
            String scheme = full.group(1).toLowerCase(Locale.ROOT);
            ssh = scheme.equals("ssh") || scheme.equals("git+ssh") || scheme.equals("ssh+git");
            if (!ssh && !scheme.equals("https")) {
                return Optional.empty();
            }
            host = full.group(2);
            port = full.group(3) == null ? (ssh ? SSH_PORT : 443) : Integer.parseInt(full.group(3));
        } else if (scp.matches()) {
            host = scp.group(1);
            ssh = true;
            port = SSH_PORT;
        } else {
            return Optional.empty();
        }
        String lower = host.toLowerCase(Locale.ROOT);
        if (!HOST_NAME.matcher(lower).matches() || port < 1 || port > 65535) {
            return Optional.empty();
        }
        return Optional.of(new Remote(lower, ssh, port));
    }

    private static List<String> entriesFor(Remote remote) {
        if (remote.host().equals(GITHUB) && (remote.port() == 443 || remote.port() == SSH_PORT)) {
            return List.of("preset:github");
        }
        return List.of(remote.port() == 443 ? remote.host() : remote.host() + ":" + remote.port());
    }
}
