package dev.claudecage.testing;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * The pictures in the docs, made by the tests that drive the real thing once it has passed their checks:
 * written to the folder named by {@value #FOLDER_PROPERTY} ({@code make screenshots} names docs/images),
 * and nowhere when it is unset.
 */
public final class Screenshots {

    public static final String FOLDER_PROPERTY = "claudecage.screenshots";
    /** A picture in the README is fetched by every reader: larger than this, it is refused rather than committed. */
    static final int MAX_BYTES = 200 * 1024;

    private Screenshots() {
    }

    public static Optional<Path> folder() {
        String folder = System.getProperty(FOLDER_PROPERTY, "");
        return folder.isBlank() ? Optional.empty() : Optional.of(Path.of(folder));
    }

    /** Writes {@code image} as {@code name} into the folder, when one is named. */
    public static void save(String name, BufferedImage image) throws IOException {
        Optional<Path> folder = folder();
        if (folder.isEmpty()) {
            return;
        }
        byte[] png = png(image);
        if (png.length > MAX_BYTES) {
            throw new IllegalStateException(name + " would be " + png.length / 1024 + " KiB, over "
                    + MAX_BYTES / 1024 + " KiB: make the picture smaller");
        }
        Path file = Files.createDirectories(folder.get()).resolve(name);
        Files.write(file, png);
        System.out.println("screenshot: " + file.toAbsolutePath() + " (" + png.length / 1024 + " KiB)");
    }

    /** Writes a picture of {@code text} in a terminal as {@code name}, when a folder is named. */
    public static void saveTerminal(String name, String text) throws Exception {
        if (folder().isPresent()) {
            save(name, terminal(text));
        }
    }

    /** {@code text} as a terminal shows it: light on dark, in a monospaced font, every line as it is. */
    static String terminalPage(String text) {
        String escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>"
                + "html, body { margin: 0; background: #ffffff; }"
                + " pre { display: inline-block; margin: 0; padding: 14px 18px; background: #1c1c1c; color: #e4e4e4;"
                + " font: 13px/17px 'DejaVu Sans Mono', monospace; border-radius: 6px; }"
                + "</style></head><body><pre id=\"terminal\">" + escaped + "</pre></body></html>";
    }

    /** A picture of {@code text} in a terminal, made by headless Chromium and cut to the terminal's size. */
    static BufferedImage terminal(String text) throws Exception {
        long lines = text.lines().count();
        int columns = text.lines().mapToInt(String::length).max().orElse(0);
        // Room for every line and column (8 x 17 px a character, padding beside), so that nothing wraps or scrolls.
        try (HeadlessChromium chromium = HeadlessChromium.launch(columns * 8 + 100, (int) lines * 17 + 100)) {
            String url = "data:text/html;charset=utf-8;base64,"
                    + Base64.getEncoder().encodeToString(terminalPage(text).getBytes(StandardCharsets.UTF_8));
            HeadlessChromium.Page page = chromium.open(url);
            String box = page.await("document.readyState === 'complete' && document.getElementById('terminal')"
                            + " ? (r => [r.x, r.y, r.width, r.height].map(Math.ceil).join(' '))"
                            + "(document.getElementById('terminal').getBoundingClientRect()) : ''",
                    value -> !value.asText().isEmpty(), Duration.ofSeconds(20)).asText();
            if (box.isEmpty()) {
                throw new IllegalStateException("the terminal page did not load");
            }
            String[] xywh = box.split(" ");
            BufferedImage shot = ImageIO.read(new ByteArrayInputStream(page.screenshot()));
            int x = Integer.parseInt(xywh[0]);
            int y = Integer.parseInt(xywh[1]);
            BufferedImage terminal = shot.getSubimage(x, y, Math.min(Integer.parseInt(xywh[2]), shot.getWidth() - x),
                    Math.min(Integer.parseInt(xywh[3]), shot.getHeight() - y));
            // Grey on grey: in shades of grey the PNG is a third of its size in colour, and looks the same.
            BufferedImage grey = new BufferedImage(terminal.getWidth(), terminal.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
            grey.getGraphics().drawImage(terminal, 0, 0, null);
            return grey;
        }
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", out)) {
            throw new IOException("no PNG writer");
        }
        return out.toByteArray();
    }
}
