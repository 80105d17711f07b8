package dev.claudecage.image.build;

import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.json.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a stage stands after a step: the image so far (layers, settings, history), the stage's
 * ARG values, and whether the stage set its own CMD (an ENTRYPOINT clears only an inherited one).
 */
record StageState(ImageConfig image, Map<String, String> args, boolean cmdSet) {

    StageState {
        args = Collections.unmodifiableMap(new LinkedHashMap<>(args));
    }

    static StageState from(ImageConfig base) {
        return new StageState(base, Map.of(), false);
    }

    ImageConfig.Settings settings() {
        return image.config();
    }

    /** The identity of what a step starts from: its layers and settings (not its history). */
    Digest id() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("layers", image.layers());
        state.put("settings", image.config());
        return Digest.of(Json.write(state));
    }

    /** The layer directories for an overlay of this state, top first. */
    List<Path> lowerDirectoriesTopFirst(ImageStore store) {
        List<Path> directories = new ArrayList<>();
        image.layers().forEach(layer -> directories.add(0, store.layerDirectory(layer)));
        return directories;
    }

    StageState withSettings(ImageConfig.Settings settings) {
        return new StageState(image.withSettings(settings), args, cmdSet);
    }

    StageState withArg(String name, String value) {
        Map<String, String> newArgs = new LinkedHashMap<>(args);
        newArgs.remove(name);
        if (value != null) {
            newArgs.put(name, value);
        }
        return new StageState(image, newArgs, cmdSet);
    }

    StageState withCmdSet() {
        return new StageState(image, args, true);
    }

    StageState withStep(Digest layer, ImageConfig.History history) {
        return new StageState(image.withStep(layer, history), args, cmdSet);
    }

    /**
     * The variables an instruction's words expand with: the stage's ARGs, then its ENV, which
     * wins over an ARG of the same name, as in Docker.
     */
    Map<String, String> variables() {
        Map<String, String> variables = new LinkedHashMap<>(args);
        variables.putAll(settings().envMap());
        return variables;
    }
}
