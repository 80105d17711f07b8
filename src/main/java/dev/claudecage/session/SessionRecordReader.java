package dev.claudecage.session;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a session's {@code state.json} with Jackson's streaming parser alone. {@code list} reads every
 * session's record on each call, and Jackson's object mapper (its own start, then the record's
 * deserializer, built by introspection and annotation proxies) cost about 85 ms of CPU before the first
 * record was read: more than the rest of {@code list}. It reads what {@link Json#write} makes of a
 * {@link SessionRecord}, and refuses what the mapper refused: an unknown field, a value of the wrong kind,
 * a record without its name or state ({@code SessionRecordReaderTest} holds the two side by side).
 */
final class SessionRecordReader {

    private SessionRecordReader() {
    }

    static SessionRecord read(String json) throws IOException {
        try (JsonParser parser = Json.factory().createParser(json)) {
            expect(parser, parser.nextToken(), JsonToken.START_OBJECT);
            int version = 0;
            String name = null;
            Map<String, Object> config = null;
            List<String> command = null;
            boolean ephemeral = false;
            boolean persist = false;
            SessionStatus status = null;
            String containerId = null;
            ProcessIdentity supervisor = null;
            ProcessIdentity launcher = null;
            String bootId = null;
            String createdAt = null;
            String startedAt = null;
            String endedAt = null;
            Integer exitCode = null;
            String problem = null;
            int rows = 0;
            int columns = 0;
            String placeholderKey = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "version" -> version = wholeNumber(parser);
                    case "name" -> name = text(parser);
                    case "config" -> config = object(parser);
                    case "command" -> command = texts(parser);
                    case "ephemeral" -> ephemeral = truth(parser);
                    case "persist" -> persist = truth(parser);
                    case "status" -> status = status(parser);
                    case "containerId" -> containerId = text(parser);
                    case "supervisor" -> supervisor = process(parser);
                    case "launcher" -> launcher = process(parser);
                    case "bootId" -> bootId = text(parser);
                    case "createdAt" -> createdAt = text(parser);
                    case "startedAt" -> startedAt = text(parser);
                    case "endedAt" -> endedAt = text(parser);
                    case "exitCode" -> exitCode = parser.currentToken() == JsonToken.VALUE_NULL ? null : wholeNumber(parser);
                    case "problem" -> problem = text(parser);
                    case "rows" -> rows = wholeNumber(parser);
                    case "columns" -> columns = wholeNumber(parser);
                    case "placeholderKey" -> placeholderKey = text(parser);
                    default -> throw new JsonParseException(parser, "unknown field '" + field + "'");
                }
            }
            expect(parser, parser.currentToken(), JsonToken.END_OBJECT);
            try {
                return new SessionRecord(version, name, config, command, ephemeral, persist, status, containerId,
                        supervisor, launcher, bootId, createdAt, startedAt, endedAt, exitCode, problem, rows, columns,
                        placeholderKey);
            } catch (NullPointerException e) {
                throw new JsonParseException(parser, "missing " + e.getMessage());
            }
        }
    }

    static void expect(JsonParser parser, JsonToken token, JsonToken expected) throws JsonParseException {
        if (token != expected) {
            throw new JsonParseException(parser, "expected " + expected + " but found " + token);
        }
    }

    /** A whole number; null as 0, as the mapper reads it into an int. */
    private static int wholeNumber(JsonParser parser) throws IOException {
        return switch (parser.currentToken()) {
            case VALUE_NUMBER_INT -> parser.getIntValue();
            case VALUE_NULL -> 0;
            default -> throw new JsonParseException(parser, "expected a whole number but found " + parser.currentToken());
        };
    }

    private static boolean truth(JsonParser parser) throws IOException {
        return switch (parser.currentToken()) {
            case VALUE_TRUE -> true;
            case VALUE_FALSE, VALUE_NULL -> false;
            default -> throw new JsonParseException(parser, "expected true or false but found " + parser.currentToken());
        };
    }

    /** A string, or a number or truth value as its text, as the mapper reads them into a String; null as null. */
    static String text(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return null;
        }
        if (!token.isScalarValue()) {
            throw new JsonParseException(parser, "expected a string but found " + token);
        }
        return parser.getText();
    }

    static List<String> texts(JsonParser parser) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, parser.currentToken(), JsonToken.START_ARRAY);
        List<String> texts = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            texts.add(text(parser));
        }
        return texts;
    }

    private static SessionStatus status(JsonParser parser) throws IOException {
        String word = text(parser);
        if (word == null) {
            return null;
        }
        for (SessionStatus status : SessionStatus.values()) {
            if (status.name().equals(word)) {
                return status;
            }
        }
        throw new JsonParseException(parser, "'" + word + "' is not a session state");
    }

    private static ProcessIdentity process(JsonParser parser) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, parser.currentToken(), JsonToken.START_OBJECT);
        long pid = 0;
        long startTicks = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "pid" -> pid = longNumber(parser);
                case "startTicks" -> startTicks = longNumber(parser);
                default -> throw new JsonParseException(parser, "unknown field '" + field + "' of a process");
            }
        }
        return new ProcessIdentity(pid, startTicks);
    }

    private static long longNumber(JsonParser parser) throws IOException {
        return switch (parser.currentToken()) {
            case VALUE_NUMBER_INT -> parser.getLongValue();
            case VALUE_NULL -> 0;
            default -> throw new JsonParseException(parser, "expected a whole number but found " + parser.currentToken());
        };
    }

    /** Any JSON object, as the mapper reads one into a Map of Object ({@link Json#value}). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(JsonParser parser) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, parser.currentToken(), JsonToken.START_OBJECT);
        return (Map<String, Object>) Json.value(parser);
    }
}
