package dev.claudecage.cli;

import dev.claudecage.image.build.BuildProgress;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

@Command(name = "images", description = "Lists the images in the store: name, id, size and when they were created.")
final class ImagesCommand extends BaseCommand {

    @Option(names = "--json", description = "Print the list as JSON.")
    boolean json;

    @Override
    public Integer call() {
        List<ImageStore.Summary> images = context.images().list();
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? Json.write(images) : table(images));
        out.flush();
        return 0;
    }

    static String table(List<ImageStore.Summary> images) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "ID", "SIZE", "CREATED"});
        for (ImageStore.Summary image : images) {
            rows.add(new String[] {image.name(), image.id().shortHex(), BuildProgress.size(image.size()),
                    image.created() == null ? "" : image.created().replace('T', ' ').replace("Z", " UTC")});
        }
        int[] widths = new int[3];
        for (String[] row : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder table = new StringBuilder();
        for (String[] row : rows) {
            table.append(String.format(Locale.ROOT, "%-" + widths[0] + "s  %-" + widths[1] + "s  %" + widths[2] + "s  %s%n",
                    (Object[]) row));
        }
        return table.toString();
    }
}
