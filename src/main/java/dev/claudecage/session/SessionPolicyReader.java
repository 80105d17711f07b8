package dev.claudecage.session;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.claudecage.json.Json;
import dev.claudecage.runtime.CagePolicy;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Reads a session's {@code policy.json} with Jackson's streaming parser alone, as {@link SessionRecordReader}
 * reads its record: {@code status} reads the policy on every call, and the object mapper's start cost more
 * than the rest of it. It reads what {@link Json#write} makes of a {@link SessionPolicy}, and refuses what the
 * mapper refused: an unknown field, a value of the wrong kind, a policy without its lists or configuration
 * ({@code SessionPolicyReaderTest} holds the two side by side).
 */
final class SessionPolicyReader {

    private SessionPolicyReader() {
    }

    static SessionPolicy read(String json) throws IOException {
        try (JsonParser parser = Json.factory().createParser(json)) {
            SessionRecordReader.expect(parser, parser.nextToken(), JsonToken.START_OBJECT);
            String containerId = null;
            String recordedAt = null;
            CagePolicy policy = null;
            String sha256 = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "containerId" -> containerId = SessionRecordReader.text(parser);
                    case "recordedAt" -> recordedAt = SessionRecordReader.text(parser);
                    case "policy" -> policy = policy(parser);
                    case "sha256" -> sha256 = SessionRecordReader.text(parser);
                    default -> throw new JsonParseException(parser, "unknown field '" + field + "'");
                }
            }
            SessionRecordReader.expect(parser, parser.currentToken(), JsonToken.END_OBJECT);
            if (policy == null) {
                throw new JsonParseException(parser, "missing policy");
            }
            return new SessionPolicy(containerId, recordedAt, policy, sha256);
        }
    }

    private static CagePolicy policy(JsonParser parser) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        SessionRecordReader.expect(parser, parser.currentToken(), JsonToken.START_OBJECT);
        String image = null;
        String imageId = null;
        String rootfs = null;
        Map<String, Object> config = null;
        List<String> allowedHosts = null;
        List<String> mounts = null;
        List<String> protectedPaths = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "image" -> image = SessionRecordReader.text(parser);
                case "imageId" -> imageId = SessionRecordReader.text(parser);
                case "rootfs" -> rootfs = SessionRecordReader.text(parser);
                case "config" -> config = SessionRecordReader.object(parser);
                case "allowedHosts" -> allowedHosts = SessionRecordReader.texts(parser);
                case "mounts" -> mounts = SessionRecordReader.texts(parser);
                case "protectedPaths" -> protectedPaths = SessionRecordReader.texts(parser);
                default -> throw new JsonParseException(parser, "unknown field '" + field + "' of a policy");
            }
        }
        try {
            return new CagePolicy(image, imageId, rootfs, config, allowedHosts, mounts, protectedPaths);
        } catch (NullPointerException e) {
            throw new JsonParseException(parser, "a policy without its configuration or one of its lists");
        }
    }
}
