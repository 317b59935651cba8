using System.Buffers;
using System.Text.Json;
using ServerlessImaging.Messaging.Storage;

namespace ServerlessImaging.Messaging.Channel;

/// <summary>
/// What a queue message holds: either the envelope JSON itself (<c>MessageCodec</c>), or, for a body too
/// large for the queue, a small pointer <c>{"bodyRef":{"container":"…","blob":"…"},"messageId":"…","type":"…","correlationId":"…"}</c>.
/// The pointer repeats the message id, type and correlation id so that logs and poison reports can name the message
/// (and a poisoned command's report can reach its registration) without fetching the blob.
/// </summary>
internal static class QueueWireFormat
{
    public static byte[] WritePointer(MessageBodyReference reference, string? messageId, string? type, string? correlationId = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("bodyRef");
            writer.WriteString("container", reference.Container);
            writer.WriteString("blob", reference.Blob);
            writer.WriteEndObject();
            if (messageId is not null)
            {
                writer.WriteString("messageId", messageId);
            }

            if (type is not null)
            {
                writer.WriteString("type", type);
            }

            if (correlationId is not null)
            {
                writer.WriteString("correlationId", correlationId);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a pointer; null when the message is not one (an inline envelope, or garbage the codec will reject).</summary>
    public static MessageBodyReference? TryReadPointer(ReadOnlySpan<byte> body)
    {
        // Cheap pre-check: inline envelopes never start with {"bodyRef".
        if (body.IndexOf("\"bodyRef\""u8) < 0)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("body", out _) ||
                !root.TryGetProperty("bodyRef", out var reference) || reference.ValueKind != JsonValueKind.Object ||
                !reference.TryGetProperty("container", out var container) || container.ValueKind != JsonValueKind.String ||
                !reference.TryGetProperty("blob", out var blob) || blob.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            return new MessageBodyReference(container.GetString()!, blob.GetString()!);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Best-effort message id, type and correlation id of a raw message (an envelope, even one whose body breaks the
    /// contract, or a pointer), for reports; never throws.
    /// </summary>
    public static (string? MessageId, string? Type, string? CorrelationId) TryReadIdentity(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            return (Bounded(root, "messageId"), Bounded(root, "type"), Bounded(root, "correlationId"));
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    private static string? Bounded(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String && e.GetString() is { } s
            ? (s.Length > 200 ? s[..200] : s)
            : null;
}
