package dev.claudecage.image.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An image in the store: its id (the digest of its config JSON), its config, and the store
 * directories of its layers, bottom first. A cage's root is an overlay of these, read-only
 * and shared: starting a cage copies nothing.
 */
public record StoredImage(Digest id, ImageConfig config, List<Path> layerDirectories) {

    public StoredImage {
        layerDirectories = List.copyOf(layerDirectories);
    }

    /** The layers in overlayfs {@code lowerdir} order: the top layer first. */
    public List<Path> lowerDirectoriesTopFirst() {
        List<Path> topFirst = new ArrayList<>(layerDirectories);
        Collections.reverse(topFirst);
        return topFirst;
    }
}
