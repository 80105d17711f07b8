package dev.claudecage.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one configured ObjectMapper: sorted keys, indented, nulls left out, so that every
 * file claude-cage generates is stable byte for byte and can be compared with a golden file.
 */
public final class Json {

    /** For a streaming read: what needs no object mapper (the mapper starts on first use, not with this class). */
    private static final JsonFactory FACTORY = new JsonFactory();

    /** The mapper and its line writer, made when first used: Jackson's object mapper costs about 45 ms of CPU to start. */
    private static final class Mapper {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .addModule(instantsAsText())
                .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
                .build();

        static final ObjectWriter LINE_WRITER = MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT)
                .with(JsonWriteFeature.ESCAPE_NON_ASCII).with(new PrintableAscii());
    }

    private Json() {
    }

    /** JSON's own escapes, and DEL escaped too. */
    private static final class PrintableAscii extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] escapes = CharacterEscapes.standardAsciiEscapesForJSON();

        PrintableAscii() {
            escapes[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return escapes;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null;
        }
    }

    /** Instants as ISO-8601 text ("2026-11-28T09:15:21.123Z"): readable in logs, exact, sortable. */
    private static SimpleModule instantsAsText() {
        SimpleModule module = new SimpleModule("instants-as-text");
        module.addSerializer(Instant.class, new JsonSerializer<>() {
            @Override
            public void serialize(Instant value, JsonGenerator generator, SerializerProvider provider) throws IOException {
                generator.writeString(value.toString());
            }
        });
        module.addDeserializer(Instant.class, new JsonDeserializer<>() {
            @Override
            public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
                return Instant.parse(parser.getValueAsString());
            }
        });
        return module;
    }

    public static ObjectMapper mapper() {
        return Mapper.MAPPER;
    }

    /** Jackson's parser factory without its object mapper, for a reader that walks the tokens itself. */
    public static JsonFactory factory() {
        return FACTORY;
    }

    /**
     * The JSON value at the parser's current token, read token by token as the mapper reads one into an
     * Object: objects as LinkedHashMaps in the file's order, arrays as Lists, whole numbers as Integer,
     * Long or BigInteger (the smallest that holds them), other numbers as Double, strings, truth values
     * and null. The parser is left on the value's last token. A reader that needs one kind of value
     * checks it at its record: this takes any JSON.
     */
    public static Object value(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == null) {
            throw new JsonParseException(parser, "expected a value but found the end of the input");
        }
        return switch (token) {
            case START_OBJECT -> {
                Map<String, Object> object = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    parser.nextToken();
                    object.put(name, value(parser));
                }
                yield object;
            }
            case START_ARRAY -> {
                List<Object> array = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(value(parser));
                }
                yield array;
            }
            case VALUE_STRING -> parser.getText();
            case VALUE_NUMBER_INT -> parser.getNumberValue();
            case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
            case VALUE_TRUE -> true;
            case VALUE_FALSE -> false;
            case VALUE_NULL -> null;
            default -> throw new JsonParseException(parser, "unexpected " + token);
        };
    }

    /** Pretty JSON with a trailing newline, as written to disk. */
    public static String write(Object value) {
        try {
            return Mapper.MAPPER.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * What {@link #write} makes of a tree of maps, lists, strings, numbers and truth values, byte for byte
     * (keys sorted, a map's null values left out, indented), written by the streaming generator: for a
     * short call that only hashes such a tree, the object mapper's start would cost more than the rest of it.
     */
    public static String writeTree(Object tree) {
        return writePlain(tree);
    }

    /**
     * {@link #write}'s bytes for a record of plain data (strings, numbers, booleans, instants, enum
     * constants by name, lists, maps and such records, none annotated), written through Jackson's
     * generator without the object mapper: a cage's config.json, on the path of every {@code run}, and
     * a session's record, on the path of every {@code start}, where the mapper's start and its
     * serializers' discovery cost more than the rest of the work. Anything else is refused rather than
     * written differently.
     */
    public static String writePlainRecord(Record value) {
        return writePlain(value);
    }

    private static String writePlain(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out).useDefaultPrettyPrinter()) {
            writePlain(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
        return out.append('\n').toString();
    }

    /**
     * {@link #writeLine}'s bytes for a record of plain data (as {@link #writePlainRecord} takes), written
     * through Jackson's generator without the object mapper: an audit log's lines, the first of which
     * every filtered {@code run} writes, where the mapper's start would cost more than the line.
     */
    public static String writePlainLine(Record value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            // As the line writer: every character past ASCII escaped (ESCAPE_NON_ASCII), and DEL too.
            generator.setHighestNonEscapedChar(0x7f);
            generator.setCharacterEscapes(new PrintableAscii());
            writePlain(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
        return out.toString();
    }

    /** As the mapper writes them: map keys and record components sorted by name, nulls in them left out. */
    private static void writePlain(JsonGenerator generator, Object value) throws IOException {
        if (value == null) {
            generator.writeNull();
        } else if (value instanceof String text) {
            generator.writeString(text);
        } else if (value instanceof Instant instant) {
            // As the mapper's module writes it (instantsAsText).
            generator.writeString(instant.toString());
        } else if (value instanceof Boolean truth) {
            generator.writeBoolean(truth);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            generator.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double number) {
            generator.writeNumber(number);
        } else if (value instanceof Float number) {
            generator.writeNumber(number);
        } else if (value instanceof BigInteger number) {
            generator.writeNumber(number);
        } else if (value instanceof BigDecimal number) {
            generator.writeNumber(number);
        } else if (value instanceof Enum<?> constant) {
            generator.writeString(constant.name());
        } else if (value instanceof List<?> list) {
            generator.writeStartArray();
            for (Object item : list) {
                writePlain(generator, item);
            }
            generator.writeEndArray();
        } else if (value instanceof Map<?, ?> map) {
            generator.writeStartObject();
            for (Map.Entry<?, ?> entry : new TreeMap<>(map).entrySet()) {
                writeField(generator, (String) entry.getKey(), entry.getValue());
            }
            generator.writeEndObject();
        } else if (value instanceof Record record) {
            RecordComponent[] components = record.getClass().getRecordComponents();
            Arrays.sort(components, Comparator.comparing(RecordComponent::getName));
            generator.writeStartObject();
            for (RecordComponent component : components) {
                if (component.getAnnotations().length > 0 || component.getAccessor().getAnnotations().length > 0) {
                    throw new IllegalArgumentException(record.getClass().getName() + "." + component.getName()
                            + " is annotated, which the mapper may honour: not plain data");
                }
                try {
                    writeField(generator, component.getName(), component.getAccessor().invoke(record));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read " + record.getClass().getName() + "."
                            + component.getName(), e);
                }
            }
            generator.writeEndObject();
        } else {
            throw new IllegalArgumentException("not plain data: a " + value.getClass().getName());
        }
    }

    private static void writeField(JsonGenerator generator, String name, Object value) throws IOException {
        if (value != null) {
            generator.writeFieldName(name);
            writePlain(generator, value);
        }
    }

    /**
     * Compact JSON on one line, for JSON-lines logs, in printable ASCII: every other character
     * (control characters, DEL, C1 controls, bidirectional overrides, any non-ASCII) is a
     * JSON unicode escape, so that text a cage chose reaches a terminal that prints the line as
     * plain characters, never as a control sequence.
     */
    public static String writeLine(Object value) {
        try {
            return Mapper.LINE_WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * A JSON line read back, with every character {@link #writeLine} would have escaped escaped:
     * for a log written by an older version, or changed since. JSON's own escape keeps it the
     * same JSON, and makes it safe to print.
     */
    public static String printableLine(String line) {
        StringBuilder printable = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                printable.append(c);
            } else {
                printable.append(String.format("\\u%04x", (int) c));
            }
        }
        return printable.toString();
    }

    public static <T> T read(String json, Class<T> type) {
        try {
            return Mapper.MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException("invalid JSON for " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
