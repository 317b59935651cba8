using System.Text.Json;

namespace ServerlessImaging.Contracts.Messages;

/// <summary>
/// Reads and writes <see cref="MessageEnvelope"/> as UTF-8 JSON:
/// <c>{"messageId","type","correlationId","causationId","siteId","sentAt","schemaVersion","body"}</c>.
/// The envelope is handled by hand so the <c>type</c> can be checked before the body is touched,
/// giving a typed <see cref="MessageContractException"/> for every way a message can be wrong.
/// </summary>
public static class MessageCodec
{
    /// <summary>The schema version this build writes and the newest it reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Serialises an envelope to UTF-8 JSON.</summary>
    public static byte[] Serialize(MessageEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("messageId", envelope.MessageId);
            writer.WriteString("type", envelope.Type);
            writer.WriteString("correlationId", envelope.CorrelationId);
            if (envelope.CausationId is not null)
            {
                writer.WriteString("causationId", envelope.CausationId);
            }

            writer.WriteString("siteId", envelope.SiteId);
            writer.WriteString("sentAt", envelope.SentAt);
            writer.WriteNumber("schemaVersion", envelope.SchemaVersion);
            writer.WritePropertyName("body");
            JsonSerializer.Serialize(writer, envelope.Body, MessageTypes.TypeInfoOf(envelope.Body));
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Deserialises an envelope; every contract violation is a <see cref="MessageContractException"/>.</summary>
    public static MessageEnvelope Deserialize(ReadOnlyMemory<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json);
        }
        catch (JsonException ex)
        {
            throw new MessageContractException(MessageContractError.Malformed, "Message is not valid JSON.", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new MessageContractException(MessageContractError.Malformed, "Message is not a JSON object.");
            }

            var type = RequiredString(root, "type");
            if (!MessageTypes.TryGetTypeInfo(type, out var typeInfo))
            {
                // The type name is ours (not patient data) but may be arbitrary text: bound it.
                var shown = type.Length > 64 ? type[..64] + "…" : type;
                throw new MessageContractException(MessageContractError.UnknownType, $"Unknown message type '{shown}'.");
            }

            var schemaVersion = RequiredInt(root, "schemaVersion");
            if (schemaVersion is < 1 or > CurrentSchemaVersion)
            {
                throw new MessageContractException(
                    MessageContractError.UnsupportedSchemaVersion,
                    $"Schema version {schemaVersion} is not supported (this build reads 1 to {CurrentSchemaVersion}).");
            }

            var messageId = RequiredString(root, "messageId");
            var correlationId = RequiredString(root, "correlationId");
            var siteId = RequiredString(root, "siteId");
            var causationId = OptionalString(root, "causationId");
            var sentAt = RequiredTimestamp(root, "sentAt");
            if (!root.TryGetProperty("body", out var bodyElement) || bodyElement.ValueKind != JsonValueKind.Object)
            {
                throw new MessageContractException(MessageContractError.MissingField, "Message has no 'body' object.");
            }

            RelayMessage? body;
            try
            {
                body = (RelayMessage?)bodyElement.Deserialize(typeInfo);
            }
            catch (JsonException ex)
            {
                // JsonException messages carry paths, not values; still, keep ours generic.
                throw new MessageContractException(MessageContractError.Malformed, $"Body of a '{type}' message does not match its contract (at {ex.Path ?? "$"}).", ex);
            }

            return body is null
                ? throw new MessageContractException(MessageContractError.MissingField, "Message body is null.")
                : new MessageEnvelope(messageId, correlationId, causationId, siteId, sentAt, schemaVersion, body);
        }
    }

    private static string RequiredString(JsonElement root, string name) =>
        OptionalString(root, name) is { Length: > 0 } value
            ? value
            : throw new MessageContractException(MessageContractError.MissingField, $"Message has no '{name}'.");

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return element.ValueKind == JsonValueKind.String
            ? element.GetString()
            : throw new MessageContractException(MessageContractError.Malformed, $"'{name}' must be a string.");
    }

    private static int RequiredInt(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            throw new MessageContractException(MessageContractError.MissingField, $"Message has no '{name}'.");
        }

        return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value)
            ? value
            : throw new MessageContractException(MessageContractError.Malformed, $"'{name}' must be an integer.");
    }

    private static DateTimeOffset RequiredTimestamp(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            throw new MessageContractException(MessageContractError.MissingField, $"Message has no '{name}'.");
        }

        return element.ValueKind == JsonValueKind.String && element.TryGetDateTimeOffset(out var value)
            ? value
            : throw new MessageContractException(MessageContractError.Malformed, $"'{name}' must be an ISO 8601 timestamp.");
    }
}
