package dev.claudecage.desktop;

import dev.claudecage.CageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The desktop's web page: noVNC's files as this host's Debian package installs them, served by the
 * supervisor, never by the cage. The cage sends only the VNC stream, which noVNC draws in a canvas;
 * what runs in the browser is the host's script, under {@link #HEADERS}.
 *
 * @param root  the folder the files come from
 * @param files the URL paths served ("/vnc.html", "/app/ui.js", ...), each with its file and type
 */
public record DesktopPage(Path root, Map<String, File> files) {

    /** Where Debian's novnc package puts noVNC (scripts/install-deps.sh installs it). */
    public static final Path NOVNC = Path.of("/usr/share/novnc");
    /** The page noVNC opens with. */
    public static final String START = "/vnc.html";
    /** Where noVNC's page opens its WebSocket (its "path" setting's default). */
    public static final String WEBSOCKET = "/websockify";

    /**
     * The page's script, styles, fonts and sounds come from this server only, and so do its
     * connections: the WebSocket is to this server too. Images may also be data: URLs, which is
     * how noVNC draws the JPEG and PNG rectangles of the Tight encoding and the remote cursor. No
     * plugin, no frame around it, no form or base URL elsewhere.
     */
    public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** Sent with every answer, the page's and the refusals. */
    public static final List<Map.Entry<String, String>> HEADERS = List.of(
            Map.entry("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            Map.entry("X-Content-Type-Options", "nosniff"),
            Map.entry("X-Frame-Options", "DENY"),
            Map.entry("Referrer-Policy", "no-referrer"),
            Map.entry("Cross-Origin-Opener-Policy", "same-origin"),
            Map.entry("Cross-Origin-Resource-Policy", "same-origin"),
            Map.entry("Cache-Control", "no-store"));

    /** The folders of noVNC's page; the package's others (utils, its tools in node and perl) are not served. */
    private static final List<String> SERVED = List.of("app", "core", "vendor");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "json", "application/json",
            "svg", "image/svg+xml",
            "png", "image/png",
            "woff", "font/woff",
            "ttf", "font/ttf",
            "oga", "audio/ogg",
            "mp3", "audio/mpeg");

    /** One file of the page. */
    public record File(Path path, String contentType) {
    }

    public DesktopPage {
        files = Map.copyOf(files);
    }

    /** noVNC's page from Debian's package on this host. */
    public static DesktopPage novnc() {
        return load(NOVNC);
    }

    /**
     * The page's files under {@code root}: {@code vnc.html} and, under app, core and vendor, every
     * file of a type a browser needs, named plainly. A request for anything else is refused.
     */
    public static DesktopPage load(Path root) {
        if (!Files.isRegularFile(root.resolve(START.substring(1)))) {
            throw new CageException("the desktop's page needs noVNC, and " + root.resolve(START.substring(1))
                    + " is missing", "install Debian's novnc package (apt-get install novnc; scripts/install-deps.sh does)");
        }
        Map<String, File> files = new TreeMap<>();
        files.put(START, new File(root.resolve(START.substring(1)), TYPES.get("html")));
        for (String folder : SERVED) {
            Path top = root.resolve(folder);
            if (!Files.isDirectory(top)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(top)) {
                for (Path file : (Iterable<Path>) walk::iterator) {
                    Path relative = root.relativize(file);
                    Optional<String> type = typeOf(relative);
                    if (type.isPresent() && Files.isRegularFile(file)) {
                        files.put("/" + relative, new File(file, type.get()));
                    }
                }
            } catch (IOException e) {
                throw new CageException("cannot read noVNC's files in " + top + ": " + e.getMessage(),
                        "reinstall Debian's novnc package (apt-get install --reinstall novnc)");
            }
        }
        return new DesktopPage(root, files);
    }

    private static Optional<String> typeOf(Path relative) {
        for (Path part : relative) {
            if (!NAME.matcher(part.toString()).matches()) {
                return Optional.empty();
            }
        }
        String name = relative.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? Optional.empty() : Optional.ofNullable(TYPES.get(name.substring(dot + 1)));
    }

    /** The file served at {@code path} (the URL's path, without its query), if any. */
    public Optional<File> find(String path) {
        return Optional.ofNullable(files.get(path));
    }
}
